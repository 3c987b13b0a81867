//! Typed declarations of the storage items the devnet keeps, with finney's names, hashers and
//! value types. Each declaration both builds the item's storage keys (for the simulator's writes)
//! and describes the item in the metadata, so the two cannot drift apart.

use std::marker::PhantomData;

use frame_metadata::v14::{StorageEntryMetadata, StorageEntryModifier, StorageEntryType, StorageHasher};
use parity_scale_codec::Encode;
use scale_info::{MetaType, TypeInfo, meta_type};
use sp_crypto_hashing::{blake2_128, twox_64, twox_128};

use super::Spec;
use super::events::{EventRecord, spec233, spec343};
use super::types::{
    AccountId32, Digest, H256, I96F32, LastRuntimeUpgradeInfo233, LastRuntimeUpgradeInfo343,
    SubtensorAccountInfo, TickIndex, U64F64,
};

/// How a storage map hashes each key part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hasher {
    /// blake2-128 of the key, then the key.
    Blake2_128Concat,
    /// xxhash-64 of the key, then the key.
    Twox64Concat,
    /// The key itself.
    Identity,
}

impl Hasher {
    fn hash(self, encoded: &[u8]) -> Vec<u8> {
        let mut out = match self {
            Hasher::Blake2_128Concat => blake2_128(encoded).to_vec(),
            Hasher::Twox64Concat => twox_64(encoded).to_vec(),
            Hasher::Identity => Vec::new(),
        };
        out.extend_from_slice(encoded);
        out
    }

    fn metadata(self) -> StorageHasher {
        match self {
            Hasher::Blake2_128Concat => StorageHasher::Blake2_128Concat,
            Hasher::Twox64Concat => StorageHasher::Twox64Concat,
            Hasher::Identity => StorageHasher::Identity,
        }
    }
}

/// `twox128(pallet) ++ twox128(item)`: the prefix of every key of an item.
pub fn item_prefix(pallet: &str, item: &str) -> Vec<u8> {
    let mut key = twox_128(pallet.as_bytes()).to_vec();
    key.extend_from_slice(&twox_128(item.as_bytes()));
    key
}

/// [`item_prefix`] of a declared item, cached.
fn static_prefix(pallet: &'static str, item: &'static str) -> Vec<u8> {
    // The simulator builds hundreds of keys per block from a few dozen (pallet, item) pairs:
    // remember their hashes (keyed by the static strings' addresses and lengths, which identify them).
    type Cache = std::collections::HashMap<(usize, usize, usize, usize), [u8; 32]>;
    thread_local! {
        static CACHE: std::cell::RefCell<Cache> = std::cell::RefCell::default();
    }
    let id = (pallet.as_ptr() as usize, pallet.len(), item.as_ptr() as usize, item.len());
    CACHE.with_borrow_mut(|cache| {
        cache
            .entry(id)
            .or_insert_with(|| {
                let mut key = [0; 32];
                key[..16].copy_from_slice(&twox_128(pallet.as_bytes()));
                key[16..].copy_from_slice(&twox_128(item.as_bytes()));
                key
            })
            .to_vec()
    })
}

/// Ties a declaration to its key and value types without owning any.
type Marker<T> = PhantomData<fn() -> T>;

/// Whether a missing value reads as the type's default or as `None`. For `Optional` items the
/// declared value type is the inner type, as in metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// `ValueQuery`: absent means default.
    Default,
    /// `OptionQuery`: absent means `None`.
    Optional,
}

/// A storage item as the metadata describes it.
pub trait Declared: Sync {
    /// The pallet holding the item.
    fn pallet(&self) -> &'static str;
    /// The item's metadata entry.
    fn entry(&self) -> StorageEntryMetadata;
}

/// What every declaration has: where the item lives and how absence reads.
#[derive(Clone, Copy)]
struct Item {
    pallet: &'static str,
    name: &'static str,
    query: Query,
}

impl Item {
    /// `twox128(pallet) ++ twox128(name) ++ hasher(key part)…`
    fn key(&self, parts: &[(Hasher, Vec<u8>)]) -> Vec<u8> {
        let mut key = static_prefix(self.pallet, self.name);
        for (hasher, encoded) in parts {
            key.extend(hasher.hash(encoded));
        }
        key
    }

    fn entry<V: TypeInfo + Encode + Default + 'static>(
        &self,
        hashers: &[Hasher],
        key: Option<MetaType>,
    ) -> StorageEntryMetadata {
        let ty = match key {
            None => StorageEntryType::Plain(meta_type::<V>()),
            Some(key) => StorageEntryType::Map {
                hashers: hashers.iter().map(|h| h.metadata()).collect(),
                key,
                value: meta_type::<V>(),
            },
        };
        let (modifier, default) = match self.query {
            Query::Default => (StorageEntryModifier::Default, V::default().encode()),
            Query::Optional => (StorageEntryModifier::Optional, vec![0]),
        };
        StorageEntryMetadata { name: self.name, modifier, ty, default, docs: vec![] }
    }
}

/// A single value.
pub struct Plain<V> {
    item: Item,
    value: Marker<V>,
}

impl<V> Plain<V> {
    /// Declares `pallet.name`.
    pub const fn new(pallet: &'static str, name: &'static str, query: Query) -> Self {
        Plain { item: Item { pallet, name, query }, value: PhantomData }
    }

    /// The storage key.
    pub fn key(&self) -> Vec<u8> {
        self.item.key(&[])
    }
}

impl<V: TypeInfo + Encode + Default + 'static> Declared for Plain<V> {
    fn pallet(&self) -> &'static str {
        self.item.pallet
    }
    fn entry(&self) -> StorageEntryMetadata {
        self.item.entry::<V>(&[], None)
    }
}

/// A map with one key.
pub struct Map<K, V> {
    item: Item,
    hasher: Hasher,
    types: Marker<(K, V)>,
}

impl<K: Encode, V> Map<K, V> {
    /// Declares `pallet.name` keyed by `K` with `hasher`.
    pub const fn new(pallet: &'static str, name: &'static str, hasher: Hasher, query: Query) -> Self {
        Map { item: Item { pallet, name, query }, hasher, types: PhantomData }
    }

    /// The storage key of `k`.
    pub fn key(&self, k: &K) -> Vec<u8> {
        self.item.key(&[(self.hasher, k.encode())])
    }
}

impl<K: TypeInfo + Encode + 'static, V: TypeInfo + Encode + Default + 'static> Declared for Map<K, V> {
    fn pallet(&self) -> &'static str {
        self.item.pallet
    }
    fn entry(&self) -> StorageEntryMetadata {
        self.item.entry::<V>(&[self.hasher], Some(meta_type::<K>()))
    }
}

/// A map with two keys.
pub struct DoubleMap<K1, K2, V> {
    item: Item,
    hashers: [Hasher; 2],
    types: Marker<(K1, K2, V)>,
}

impl<K1: Encode, K2: Encode, V> DoubleMap<K1, K2, V> {
    /// Declares `pallet.name` keyed by `(K1, K2)`.
    pub const fn new(pallet: &'static str, name: &'static str, hashers: [Hasher; 2], query: Query) -> Self {
        DoubleMap { item: Item { pallet, name, query }, hashers, types: PhantomData }
    }

    /// The storage key of `(k1, k2)`.
    pub fn key(&self, k1: &K1, k2: &K2) -> Vec<u8> {
        self.item.key(&[(self.hashers[0], k1.encode()), (self.hashers[1], k2.encode())])
    }
}

impl<K1, K2, V> Declared for DoubleMap<K1, K2, V>
where
    K1: TypeInfo + Encode + 'static,
    K2: TypeInfo + Encode + 'static,
    V: TypeInfo + Encode + Default + 'static,
{
    fn pallet(&self) -> &'static str {
        self.item.pallet
    }
    fn entry(&self) -> StorageEntryMetadata {
        self.item.entry::<V>(&self.hashers, Some(meta_type::<(K1, K2)>()))
    }
}

/// A map with three keys.
pub struct NMap3<K1, K2, K3, V> {
    item: Item,
    hashers: [Hasher; 3],
    types: Marker<(K1, K2, K3, V)>,
}

impl<K1: Encode, K2: Encode, K3: Encode, V> NMap3<K1, K2, K3, V> {
    /// Declares `pallet.name` keyed by `(K1, K2, K3)`.
    pub const fn new(pallet: &'static str, name: &'static str, hashers: [Hasher; 3], query: Query) -> Self {
        NMap3 { item: Item { pallet, name, query }, hashers, types: PhantomData }
    }

    /// The storage key of `(k1, k2, k3)`.
    pub fn key(&self, k1: &K1, k2: &K2, k3: &K3) -> Vec<u8> {
        self.item.key(&[
            (self.hashers[0], k1.encode()),
            (self.hashers[1], k2.encode()),
            (self.hashers[2], k3.encode()),
        ])
    }
}

impl<K1, K2, K3, V> Declared for NMap3<K1, K2, K3, V>
where
    K1: TypeInfo + Encode + 'static,
    K2: TypeInfo + Encode + 'static,
    K3: TypeInfo + Encode + 'static,
    V: TypeInfo + Encode + Default + 'static,
{
    fn pallet(&self) -> &'static str {
        self.item.pallet
    }
    fn entry(&self) -> StorageEntryMetadata {
        self.item.entry::<V>(&self.hashers, Some(meta_type::<(K1, K2, K3)>()))
    }
}

use Hasher::{Blake2_128Concat as B2, Identity as Id, Twox64Concat as X64};
use Query::{Default as D, Optional as O};

const SYS: &str = "System";
const ST: &str = "SubtensorModule";
const SWAP: &str = "Swap";

/// Storage items by pallet; the constants below are the devnet's whole storage layout.
pub mod items {
    #![allow(missing_docs)]
    use super::{
        AccountId32, B2, D, Digest, DoubleMap, EventRecord, H256, I96F32, Id, LastRuntimeUpgradeInfo233,
        LastRuntimeUpgradeInfo343, Map, NMap3, O, Plain, ST, SWAP, SYS, SubtensorAccountInfo, TickIndex,
        U64F64, X64, spec233, spec343,
    };

    // System
    pub const ACCOUNT: Map<AccountId32, SubtensorAccountInfo> = Map::new(SYS, "Account", B2, D);
    pub const NUMBER: Plain<u32> = Plain::new(SYS, "Number", D);
    pub const PARENT_HASH: Plain<H256> = Plain::new(SYS, "ParentHash", D);
    pub const BLOCK_HASH: Map<u32, H256> = Map::new(SYS, "BlockHash", X64, D);
    pub const EXTRINSIC_COUNT: Plain<u32> = Plain::new(SYS, "ExtrinsicCount", O);
    pub const EVENT_COUNT: Plain<u32> = Plain::new(SYS, "EventCount", D);
    pub const DIGEST: Plain<Digest> = Plain::new(SYS, "Digest", D);
    pub const EVENTS_233: Plain<Vec<EventRecord<spec233::RuntimeEvent, H256>>> = Plain::new(SYS, "Events", D);
    pub const EVENTS_343: Plain<Vec<EventRecord<spec343::RuntimeEvent, H256>>> = Plain::new(SYS, "Events", D);
    pub const LAST_RUNTIME_UPGRADE_233: Plain<LastRuntimeUpgradeInfo233> =
        Plain::new(SYS, "LastRuntimeUpgrade", O);
    pub const LAST_RUNTIME_UPGRADE_343: Plain<LastRuntimeUpgradeInfo343> =
        Plain::new(SYS, "LastRuntimeUpgrade", O);
    // Timestamp
    pub const NOW: Plain<u64> = Plain::new("Timestamp", "Now", D);
    // Balances
    pub const BALANCES_TOTAL_ISSUANCE: Plain<u64> = Plain::new("Balances", "TotalIssuance", D);
    // Sudo
    pub const SUDO_KEY: Plain<AccountId32> = Plain::new("Sudo", "Key", O);

    // SubtensorModule: issuance and emission
    pub const TOTAL_ISSUANCE: Plain<u64> = Plain::new(ST, "TotalIssuance", D);
    pub const TOTAL_STAKE: Plain<u64> = Plain::new(ST, "TotalStake", D);
    pub const BLOCK_EMISSION: Plain<u64> = Plain::new(ST, "BlockEmission", D);
    pub const TAO_WEIGHT: Plain<u64> = Plain::new(ST, "TaoWeight", D);
    pub const SUBNET_OWNER_CUT: Plain<u16> = Plain::new(ST, "SubnetOwnerCut", D);
    pub const TOTAL_NETWORKS: Plain<u16> = Plain::new(ST, "TotalNetworks", D);
    pub const SUBNET_MOVING_ALPHA: Plain<I96F32> = Plain::new(ST, "SubnetMovingAlpha", D);
    // SubtensorModule: pools
    pub const SUBNET_MOVING_PRICE: Map<u16, I96F32> = Map::new(ST, "SubnetMovingPrice", Id, D);
    pub const SUBNET_VOLUME: Map<u16, u128> = Map::new(ST, "SubnetVolume", Id, D);
    pub const SUBNET_TAO: Map<u16, u64> = Map::new(ST, "SubnetTAO", Id, D);
    pub const SUBNET_ALPHA_IN: Map<u16, u64> = Map::new(ST, "SubnetAlphaIn", Id, D);
    pub const SUBNET_ALPHA_OUT: Map<u16, u64> = Map::new(ST, "SubnetAlphaOut", Id, D);
    pub const SUBNET_TAO_IN_EMISSION: Map<u16, u64> = Map::new(ST, "SubnetTaoInEmission", Id, D);
    pub const SUBNET_ALPHA_IN_EMISSION: Map<u16, u64> = Map::new(ST, "SubnetAlphaInEmission", Id, D);
    pub const SUBNET_ALPHA_OUT_EMISSION: Map<u16, u64> = Map::new(ST, "SubnetAlphaOutEmission", Id, D);
    pub const PENDING_EMISSION: Map<u16, u64> = Map::new(ST, "PendingEmission", Id, D);
    pub const PENDING_SERVER_EMISSION: Map<u16, u64> = Map::new(ST, "PendingServerEmission", Id, D);
    pub const PENDING_VALIDATOR_EMISSION: Map<u16, u64> = Map::new(ST, "PendingValidatorEmission", Id, D);
    pub const PENDING_OWNER_CUT: Map<u16, u64> = Map::new(ST, "PendingOwnerCut", Id, D);
    pub const SUBNET_TAO_PROVIDED: Map<u16, u64> = Map::new(ST, "SubnetTaoProvided", Id, D);
    pub const SUBNET_ALPHA_IN_PROVIDED: Map<u16, u64> = Map::new(ST, "SubnetAlphaInProvided", Id, D);
    pub const FIRST_EMISSION_BLOCK_NUMBER: Map<u16, u64> = Map::new(ST, "FirstEmissionBlockNumber", Id, O);
    pub const EMA_PRICE_HALVING_BLOCKS: Map<u16, u64> = Map::new(ST, "EMAPriceHalvingBlocks", Id, D);
    pub const SUBTOKEN_ENABLED: Map<u16, bool> = Map::new(ST, "SubtokenEnabled", Id, D);
    // SubtensorModule: subnets
    pub const SUBNET_MECHANISM: Map<u16, u16> = Map::new(ST, "SubnetMechanism", Id, D);
    pub const TEMPO: Map<u16, u16> = Map::new(ST, "Tempo", Id, D);
    pub const NETWORKS_ADDED: Map<u16, bool> = Map::new(ST, "NetworksAdded", Id, D);
    pub const NETWORK_REGISTERED_AT: Map<u16, u64> = Map::new(ST, "NetworkRegisteredAt", Id, D);
    pub const NETWORK_REGISTRATION_ALLOWED: Map<u16, bool> =
        Map::new(ST, "NetworkRegistrationAllowed", Id, D);
    pub const SUBNET_OWNER: Map<u16, AccountId32> = Map::new(ST, "SubnetOwner", Id, D);
    pub const SUBNET_OWNER_HOTKEY: Map<u16, AccountId32> = Map::new(ST, "SubnetOwnerHotkey", Id, D);
    pub const SUBNETWORK_N: Map<u16, u16> = Map::new(ST, "SubnetworkN", Id, D);
    pub const MAX_ALLOWED_UIDS: Map<u16, u16> = Map::new(ST, "MaxAllowedUids", Id, D);
    pub const MAX_ALLOWED_VALIDATORS: Map<u16, u16> = Map::new(ST, "MaxAllowedValidators", Id, D);
    pub const KAPPA: Map<u16, u16> = Map::new(ST, "Kappa", Id, D);
    pub const ACTIVITY_CUTOFF: Map<u16, u16> = Map::new(ST, "ActivityCutoff", Id, D);
    pub const BONDS_MOVING_AVERAGE: Map<u16, u64> = Map::new(ST, "BondsMovingAverage", Id, D);
    pub const IMMUNITY_PERIOD: Map<u16, u16> = Map::new(ST, "ImmunityPeriod", Id, D);
    pub const BURN: Map<u16, u64> = Map::new(ST, "Burn", Id, D);
    pub const BLOCKS_SINCE_LAST_STEP: Map<u16, u64> = Map::new(ST, "BlocksSinceLastStep", Id, D);
    pub const LAST_MECHANISM_STEP_BLOCK: Map<u16, u64> = Map::new(ST, "LastMechansimStepBlock", Id, D);
    // SubtensorModule: stake
    pub const OWNER: Map<AccountId32, AccountId32> = Map::new(ST, "Owner", B2, D);
    pub const TOTAL_HOTKEY_ALPHA: DoubleMap<AccountId32, u16, u64> =
        DoubleMap::new(ST, "TotalHotkeyAlpha", [B2, Id], D);
    pub const TOTAL_HOTKEY_SHARES: DoubleMap<AccountId32, u16, U64F64> =
        DoubleMap::new(ST, "TotalHotkeyShares", [B2, Id], D);
    pub const ALPHA: NMap3<AccountId32, AccountId32, u16, U64F64> = NMap3::new(ST, "Alpha", [B2, B2, Id], D);
    pub const ALPHA_DIVIDENDS_PER_SUBNET: DoubleMap<u16, AccountId32, u64> =
        DoubleMap::new(ST, "AlphaDividendsPerSubnet", [Id, B2], D);
    pub const TAO_DIVIDENDS_PER_SUBNET: DoubleMap<u16, AccountId32, u64> =
        DoubleMap::new(ST, "TaoDividendsPerSubnet", [Id, B2], D);
    // SubtensorModule: metagraph
    pub const KEYS: DoubleMap<u16, u16, AccountId32> = DoubleMap::new(ST, "Keys", [Id, Id], D);
    pub const UIDS: DoubleMap<u16, AccountId32, u16> = DoubleMap::new(ST, "Uids", [Id, B2], O);
    pub const BLOCK_AT_REGISTRATION: DoubleMap<u16, u16, u64> =
        DoubleMap::new(ST, "BlockAtRegistration", [Id, Id], D);
    pub const ACTIVE: Map<u16, Vec<bool>> = Map::new(ST, "Active", Id, D);
    pub const RANK: Map<u16, Vec<u16>> = Map::new(ST, "Rank", Id, D);
    pub const TRUST: Map<u16, Vec<u16>> = Map::new(ST, "Trust", Id, D);
    pub const CONSENSUS: Map<u16, Vec<u16>> = Map::new(ST, "Consensus", Id, D);
    pub const INCENTIVE: Map<u16, Vec<u16>> = Map::new(ST, "Incentive", Id, D);
    pub const DIVIDENDS: Map<u16, Vec<u16>> = Map::new(ST, "Dividends", Id, D);
    pub const EMISSION: Map<u16, Vec<u64>> = Map::new(ST, "Emission", Id, D);
    pub const LAST_UPDATE: Map<u16, Vec<u64>> = Map::new(ST, "LastUpdate", Id, D);
    pub const VALIDATOR_TRUST: Map<u16, Vec<u16>> = Map::new(ST, "ValidatorTrust", Id, D);
    pub const PRUNING_SCORES: Map<u16, Vec<u16>> = Map::new(ST, "PruningScores", Id, D);
    pub const VALIDATOR_PERMIT: Map<u16, Vec<bool>> = Map::new(ST, "ValidatorPermit", Id, D);
    pub const STAKE_WEIGHT: Map<u16, Vec<u16>> = Map::new(ST, "StakeWeight", Id, D);
    pub const WEIGHTS: DoubleMap<u16, u16, Vec<(u16, u16)>> = DoubleMap::new(ST, "Weights", [Id, Id], D);
    pub const BONDS: DoubleMap<u16, u16, Vec<(u16, u16)>> = DoubleMap::new(ST, "Bonds", [Id, Id], D);

    // Swap (spec 343)
    pub const FEE_RATE: Map<u16, u16> = Map::new(SWAP, "FeeRate", X64, D);
    pub const SWAP_V3_INITIALIZED: Map<u16, bool> = Map::new(SWAP, "SwapV3Initialized", X64, D);
    pub const ALPHA_SQRT_PRICE: Map<u16, U64F64> = Map::new(SWAP, "AlphaSqrtPrice", X64, D);
    pub const CURRENT_TICK: Map<u16, TickIndex> = Map::new(SWAP, "CurrentTick", X64, D);
    pub const CURRENT_LIQUIDITY: Map<u16, u64> = Map::new(SWAP, "CurrentLiquidity", X64, D);
    pub const ENABLED_USER_LIQUIDITY: Map<u16, bool> = Map::new(SWAP, "EnabledUserLiquidity", X64, D);
}

use items as i;

/// Every item the runtime `spec` declares, in metadata order.
pub fn declared(spec: Spec) -> Vec<&'static dyn Declared> {
    let mut all: Vec<&'static dyn Declared> = vec![
        &i::ACCOUNT,
        &i::EXTRINSIC_COUNT,
        &i::BLOCK_HASH,
        &i::NUMBER,
        &i::PARENT_HASH,
        &i::DIGEST,
        match spec {
            Spec::Dtao233 => &i::EVENTS_233,
            Spec::Swap343 => &i::EVENTS_343,
        },
        &i::EVENT_COUNT,
        match spec {
            Spec::Dtao233 => &i::LAST_RUNTIME_UPGRADE_233,
            Spec::Swap343 => &i::LAST_RUNTIME_UPGRADE_343,
        },
        &i::NOW,
        &i::BALANCES_TOTAL_ISSUANCE,
        &i::SUDO_KEY,
        &i::TAO_WEIGHT,
        &i::OWNER,
        &i::ALPHA_DIVIDENDS_PER_SUBNET,
        &i::BLOCK_EMISSION,
        &i::TOTAL_ISSUANCE,
        &i::TOTAL_STAKE,
        &i::SUBNET_MOVING_ALPHA,
        &i::SUBNET_MOVING_PRICE,
        &i::SUBNET_VOLUME,
        &i::SUBNET_TAO,
        &i::SUBNET_ALPHA_IN_EMISSION,
        &i::SUBNET_ALPHA_OUT_EMISSION,
        &i::SUBNET_TAO_IN_EMISSION,
        &i::SUBNET_ALPHA_IN,
        &i::SUBNET_ALPHA_OUT,
        &i::TOTAL_HOTKEY_ALPHA,
        &i::TOTAL_HOTKEY_SHARES,
        &i::ALPHA,
        &i::TOTAL_NETWORKS,
        &i::SUBNET_OWNER_CUT,
        &i::TEMPO,
        &i::SUBNET_MECHANISM,
        &i::SUBNETWORK_N,
        &i::NETWORKS_ADDED,
        &i::NETWORK_REGISTRATION_ALLOWED,
        &i::NETWORK_REGISTERED_AT,
        &i::BLOCKS_SINCE_LAST_STEP,
        &i::LAST_MECHANISM_STEP_BLOCK,
        &i::SUBNET_OWNER,
        &i::SUBNET_OWNER_HOTKEY,
        &i::KAPPA,
        &i::MAX_ALLOWED_UIDS,
        &i::IMMUNITY_PERIOD,
        &i::ACTIVITY_CUTOFF,
        &i::MAX_ALLOWED_VALIDATORS,
        &i::BONDS_MOVING_AVERAGE,
        &i::BURN,
        &i::STAKE_WEIGHT,
        &i::UIDS,
        &i::KEYS,
        &i::ACTIVE,
        &i::RANK,
        &i::TRUST,
        &i::CONSENSUS,
        &i::INCENTIVE,
        &i::DIVIDENDS,
        &i::EMISSION,
        &i::LAST_UPDATE,
        &i::VALIDATOR_TRUST,
        &i::PRUNING_SCORES,
        &i::VALIDATOR_PERMIT,
        &i::WEIGHTS,
        &i::BONDS,
        &i::BLOCK_AT_REGISTRATION,
    ];
    match spec {
        Spec::Dtao233 => all.extend([&i::TAO_DIVIDENDS_PER_SUBNET as &dyn Declared, &i::PENDING_EMISSION]),
        Spec::Swap343 => all.extend([
            &i::SUBNET_TAO_PROVIDED as &dyn Declared,
            &i::PENDING_SERVER_EMISSION,
            &i::PENDING_VALIDATOR_EMISSION,
            &i::PENDING_OWNER_CUT,
            &i::SUBNET_ALPHA_IN_PROVIDED,
            &i::FIRST_EMISSION_BLOCK_NUMBER,
            &i::EMA_PRICE_HALVING_BLOCKS,
            &i::SUBTOKEN_ENABLED,
            &i::FEE_RATE,
            &i::SWAP_V3_INITIALIZED,
            &i::ALPHA_SQRT_PRICE,
            &i::CURRENT_TICK,
            &i::CURRENT_LIQUIDITY,
            &i::ENABLED_USER_LIQUIDITY,
        ]),
    }
    all
}

/// The `System.Events` key (the same in every runtime).
pub fn events_key() -> Vec<u8> {
    items::EVENTS_233.key()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_events_key_is_the_well_known_one() {
        assert_eq!(
            hex::encode(events_key()),
            "26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7"
        );
    }

    #[test]
    fn identity_double_map_key_matches_recorded_finney_weights_key() {
        // CHAIN.md §1: Weights key for netuid 23 uid 10.
        assert_eq!(
            hex::encode(items::WEIGHTS.key(&23, &10)),
            "658faa385070e074c85bf6b568cf0555a1e7036061f484bc3048a64b64e35ec417000a00"
        );
    }
}
