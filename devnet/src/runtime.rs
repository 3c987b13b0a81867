//! The devnet's two runtimes: what a client learns from metadata and `Core_version`, and how the
//! simulator's events and calls are encoded under each.
//!
//! * [`Spec::Dtao233`] mirrors finney spec 233 (dTAO launch): constant-product pools priced
//!   `SubnetTAO / SubnetAlphaIn`, plain `u16`/`u64` fields, 5-field stake events, no `Swap`.
//! * [`Spec::Swap343`] mirrors finney spec 343: `TaoCurrency`/`AlphaCurrency`/`NetUid` newtypes,
//!   6-field stake events (`fee`), and the `Swap` pallet whose `AlphaSqrtPrice` prices the pool.

pub mod apis;
pub mod calls;
pub mod events;
pub mod extensions;
pub mod metadata;
pub mod paths;
pub mod storage;
pub mod types;

use std::sync::OnceLock;

use parity_scale_codec::{Decode, Encode};
use scale_info::TypeInfo;
use serde::Serialize;
use sp_crypto_hashing::blake2_64;

use self::events::{
    BalancesEvent, EventRecord, SudoEvent, SystemEvent, TransactionPaymentEvent, spec233, spec343,
};
use self::types::{
    AccountId32, AlphaCurrency, DispatchClass, DispatchError233, DispatchError343, DispatchInfo, H256,
    ModuleError, NetUid, NetUidStorageIndex, Pays, Phase, TaoCurrency, Weight,
};

/// A runtime the devnet can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Spec {
    /// Mirrors finney spec 233.
    Dtao233,
    /// Mirrors finney spec 343.
    Swap343,
}

/// `sp_version::RuntimeVersion`, as `Core_version` returns it and `System.Version` holds it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct RuntimeVersion {
    /// `node-subtensor`.
    pub spec_name: String,
    /// `node-subtensor`.
    pub impl_name: String,
    /// Authoring version.
    pub authoring_version: u32,
    /// The spec version (233 or 343).
    pub spec_version: u32,
    /// Implementation version.
    pub impl_version: u32,
    /// Runtime APIs: blake2-64 of the API name, and its version.
    pub apis: Vec<([u8; 8], u32)>,
    /// Transaction format version.
    pub transaction_version: u32,
    /// State trie version.
    pub system_version: u8,
}

/// [`RuntimeVersion`]'s metadata shape in spec 233 (`RuntimeString` names, `Cow` API list, the
/// last field named `state_version`); it encodes like [`RuntimeVersion`].
#[allow(missing_docs)]
#[derive(TypeInfo)]
pub struct RuntimeVersion233 {
    pub spec_name: String,
    pub impl_name: String,
    pub authoring_version: u32,
    pub spec_version: u32,
    pub impl_version: u32,
    pub apis: types::CowOf<Vec<([u8; 8], u32)>>,
    pub transaction_version: u32,
    pub state_version: u8,
}

/// [`RuntimeVersion`]'s metadata shape in spec 343 (`Cow<str>` names, `Cow` API list).
#[allow(missing_docs)]
#[derive(TypeInfo)]
pub struct RuntimeVersion343 {
    pub spec_name: types::Cow,
    pub impl_name: types::Cow,
    pub authoring_version: u32,
    pub spec_version: u32,
    pub impl_version: u32,
    pub apis: types::CowOf<Vec<([u8; 8], u32)>>,
    pub transaction_version: u32,
    pub system_version: u8,
}

/// The JSON form of [`RuntimeVersion`] (`state_getRuntimeVersion`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeVersionJson {
    spec_name: String,
    impl_name: String,
    authoring_version: u32,
    spec_version: u32,
    impl_version: u32,
    apis: Vec<(String, u32)>,
    transaction_version: u32,
    state_version: u8,
}

impl From<&RuntimeVersion> for RuntimeVersionJson {
    fn from(v: &RuntimeVersion) -> Self {
        RuntimeVersionJson {
            spec_name: v.spec_name.clone(),
            impl_name: v.impl_name.clone(),
            authoring_version: v.authoring_version,
            spec_version: v.spec_version,
            impl_version: v.impl_version,
            apis: v.apis.iter().map(|(id, ver)| (format!("0x{}", hex::encode(id)), *ver)).collect(),
            transaction_version: v.transaction_version,
            state_version: v.system_version,
        }
    }
}

impl Spec {
    /// The runtime's `spec_version`.
    pub fn spec_version(self) -> u32 {
        match self {
            Spec::Dtao233 => 233,
            Spec::Swap343 => 343,
        }
    }

    /// The runtime after this one, if any.
    pub fn next(self) -> Option<Spec> {
        match self {
            Spec::Dtao233 => Some(Spec::Swap343),
            Spec::Swap343 => None,
        }
    }

    /// Whether stake events carry the swap `fee` (finney spec ≥ 257).
    pub fn stake_events_have_fee(self) -> bool {
        self != Spec::Dtao233
    }

    /// Whether the `Swap` pallet (v3 sqrt-price pools) exists (finney spec ≥ 283).
    pub fn has_swap_pallet(self) -> bool {
        self == Spec::Swap343
    }

    /// The runtime version reported by `Core_version` and `state_getRuntimeVersion`.
    pub fn version(self) -> RuntimeVersion {
        let apis =
            [("Core", 5), ("Metadata", 2), ("BlockBuilder", 6), ("AuraApi", 1), ("SubnetInfoRuntimeApi", 1)]
                .iter()
                .map(|(name, v)| (blake2_64(name.as_bytes()), *v))
                .collect();
        RuntimeVersion {
            spec_name: "node-subtensor".into(),
            impl_name: "node-subtensor".into(),
            authoring_version: 1,
            spec_version: self.spec_version(),
            impl_version: 1,
            apis,
            transaction_version: 1,
            system_version: 1,
        }
    }

    /// SCALE-encoded `RuntimeMetadataPrefixed` (V14), as `state_getMetadata` returns it.
    pub fn metadata_v14(self) -> &'static [u8] {
        static CACHE: [OnceLock<Vec<u8>>; 2] = [OnceLock::new(), OnceLock::new()];
        CACHE[self as usize].get_or_init(|| metadata::v14(self).encode())
    }

    /// SCALE-encoded `RuntimeMetadataPrefixed` (V15), as `Metadata_metadata_at_version(15)`
    /// returns it inside `Option<OpaqueMetadata>`.
    pub fn metadata_v15(self) -> &'static [u8] {
        static CACHE: [OnceLock<Vec<u8>>; 2] = [OnceLock::new(), OnceLock::new()];
        CACHE[self as usize].get_or_init(|| metadata::v15(self).encode())
    }

    /// A stand-in for the runtime's wasm blob (`:code`), carried by the upgrade extrinsic.
    pub fn code(self) -> Vec<u8> {
        let mut code = b"\0asm\x01\0\0\0".to_vec();
        code.extend_from_slice(
            format!("taoscope-devnet node-subtensor spec {}", self.spec_version()).as_bytes(),
        );
        code
    }

    /// `System.Events` bytes for `records` under this runtime, and how many events they hold.
    /// Events a runtime does not have (e.g. `IncentiveAlphaEmittedToMiners` before spec 343)
    /// are left out.
    pub fn encode_events(self, records: &[(Phase, Event)]) -> (Vec<u8>, usize) {
        fn record<E: Encode + TypeInfo + 'static>(phase: Phase, event: E) -> EventRecord<E, H256> {
            EventRecord { phase, event, topics: vec![] }
        }
        match self {
            Spec::Dtao233 => {
                let v: Vec<_> =
                    records.iter().filter_map(|(p, e)| e.to_233().map(|e| record(*p, e))).collect();
                (v.encode(), v.len())
            }
            Spec::Swap343 => {
                let v: Vec<_> = records.iter().map(|(p, e)| record(*p, e.to_343())).collect();
                (v.encode(), v.len())
            }
        }
    }

    /// Index of a `SubtensorModule` error in this runtime's error enum.
    fn error_index(self, failure: Failure) -> u8 {
        match (self, failure) {
            (Spec::Dtao233, Failure::NotEnoughBalanceToStake) => 13,
            (Spec::Dtao233, Failure::NotEnoughStakeToWithdraw) => 10,
            (Spec::Dtao233, Failure::AmountTooLow) => 82,
            (Spec::Swap343, Failure::NotEnoughBalanceToStake) => 12,
            (Spec::Swap343, Failure::NotEnoughStakeToWithdraw) => 9,
            (Spec::Swap343, Failure::AmountTooLow) => 79,
        }
    }
}

/// Why a simulated extrinsic failed (a `SubtensorModule` error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The coldkey's free balance is below the stake amount.
    NotEnoughBalanceToStake,
    /// The stake is below the amount to remove.
    NotEnoughStakeToWithdraw,
    /// The amount is below the minimum.
    AmountTooLow,
}

/// An event in runtime-neutral form; [`Spec::encode_events`] gives it each runtime's shape.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    ExtrinsicSuccess {
        class: DispatchClass,
        pays_fee: Pays,
        ref_time: u64,
    },
    ExtrinsicFailed {
        failure: Failure,
        ref_time: u64,
    },
    CodeUpdated,
    NewAccount {
        account: AccountId32,
    },
    Endowed {
        account: AccountId32,
        free_balance: u64,
    },
    Transfer {
        from: AccountId32,
        to: AccountId32,
        amount: u64,
    },
    Deposit {
        who: AccountId32,
        amount: u64,
    },
    Withdraw {
        who: AccountId32,
        amount: u64,
    },
    TransactionFeePaid {
        who: AccountId32,
        actual_fee: u64,
        tip: u64,
    },
    Sudid,
    NetworkAdded {
        netuid: u16,
        mechanism: u16,
    },
    StakeAdded {
        coldkey: AccountId32,
        hotkey: AccountId32,
        tao: u64,
        alpha: u64,
        netuid: u16,
        fee: u64,
    },
    StakeRemoved {
        coldkey: AccountId32,
        hotkey: AccountId32,
        tao: u64,
        alpha: u64,
        netuid: u16,
        fee: u64,
    },
    StakeMoved {
        coldkey: AccountId32,
        origin_hotkey: AccountId32,
        origin_netuid: u16,
        destination_hotkey: AccountId32,
        destination_netuid: u16,
        tao: u64,
    },
    WeightsSet {
        netuid: u16,
        uid: u16,
    },
    NeuronRegistered {
        netuid: u16,
        uid: u16,
        hotkey: AccountId32,
    },
    IncentiveAlphaEmittedToMiners {
        netuid: u16,
        emissions: Vec<u64>,
    },
}

fn info(class: DispatchClass, pays_fee: Pays, ref_time: u64) -> DispatchInfo {
    DispatchInfo { weight: Weight { ref_time, proof_size: 0 }, class, pays_fee }
}

fn module_error(spec: Spec, failure: Failure) -> ModuleError {
    ModuleError { index: 7, error: [spec.error_index(failure), 0, 0, 0] }
}

impl Event {
    fn to_233(&self) -> Option<spec233::RuntimeEvent> {
        use spec233::{RuntimeEvent as R, SubtensorEvent as S};
        let e = match self.clone() {
            Event::IncentiveAlphaEmittedToMiners { .. } => return None,
            Event::ExtrinsicFailed { failure, ref_time } => R::System(SystemEvent::ExtrinsicFailed {
                dispatch_error: DispatchError233::Module(module_error(Spec::Dtao233, failure)),
                dispatch_info: info(DispatchClass::Normal, Pays::Yes, ref_time),
            }),
            Event::Sudid => R::Sudo(SudoEvent::Sudid { sudo_result: Ok(()) }),
            Event::NetworkAdded { netuid, mechanism } => {
                R::SubtensorModule(S::NetworkAdded(netuid, mechanism))
            }
            Event::StakeAdded { coldkey, hotkey, tao, alpha, netuid, .. } => {
                R::SubtensorModule(S::StakeAdded(coldkey, hotkey, tao, alpha, netuid))
            }
            Event::StakeRemoved { coldkey, hotkey, tao, alpha, netuid, .. } => {
                R::SubtensorModule(S::StakeRemoved(coldkey, hotkey, tao, alpha, netuid))
            }
            Event::StakeMoved {
                coldkey,
                origin_hotkey,
                origin_netuid,
                destination_hotkey,
                destination_netuid,
                tao,
            } => R::SubtensorModule(S::StakeMoved(
                coldkey,
                origin_hotkey,
                origin_netuid,
                destination_hotkey,
                destination_netuid,
                tao,
            )),
            Event::WeightsSet { netuid, uid } => R::SubtensorModule(S::WeightsSet(netuid, uid)),
            Event::NeuronRegistered { netuid, uid, hotkey } => {
                R::SubtensorModule(S::NeuronRegistered(netuid, uid, hotkey))
            }
            other => match other.common::<DispatchError233>() {
                Common::System(e) => R::System(e),
                Common::Balances(e) => R::Balances(e),
                Common::Payment(e) => R::TransactionPayment(e),
            },
        };
        Some(e)
    }

    fn to_343(&self) -> spec343::RuntimeEvent {
        use spec343::{RuntimeEvent as R, SubtensorEvent as S};
        match self.clone() {
            Event::IncentiveAlphaEmittedToMiners { netuid, emissions } => {
                R::SubtensorModule(S::IncentiveAlphaEmittedToMiners {
                    netuid: NetUidStorageIndex(netuid),
                    emissions: emissions.into_iter().map(AlphaCurrency).collect(),
                })
            }
            Event::ExtrinsicFailed { failure, ref_time } => R::System(SystemEvent::ExtrinsicFailed {
                dispatch_error: DispatchError343::Module(module_error(Spec::Swap343, failure)),
                dispatch_info: info(DispatchClass::Normal, Pays::Yes, ref_time),
            }),
            Event::Sudid => R::Sudo(SudoEvent::Sudid { sudo_result: Ok(()) }),
            Event::NetworkAdded { netuid, mechanism } => {
                R::SubtensorModule(S::NetworkAdded(NetUid(netuid), mechanism))
            }
            Event::StakeAdded { coldkey, hotkey, tao, alpha, netuid, fee } => R::SubtensorModule(
                S::StakeAdded(coldkey, hotkey, TaoCurrency(tao), AlphaCurrency(alpha), NetUid(netuid), fee),
            ),
            Event::StakeRemoved { coldkey, hotkey, tao, alpha, netuid, fee } => R::SubtensorModule(
                S::StakeRemoved(coldkey, hotkey, TaoCurrency(tao), AlphaCurrency(alpha), NetUid(netuid), fee),
            ),
            Event::StakeMoved {
                coldkey,
                origin_hotkey,
                origin_netuid,
                destination_hotkey,
                destination_netuid,
                tao,
            } => R::SubtensorModule(S::StakeMoved(
                coldkey,
                origin_hotkey,
                NetUid(origin_netuid),
                destination_hotkey,
                NetUid(destination_netuid),
                TaoCurrency(tao),
            )),
            Event::WeightsSet { netuid, uid } => {
                R::SubtensorModule(S::WeightsSet(NetUidStorageIndex(netuid), uid))
            }
            Event::NeuronRegistered { netuid, uid, hotkey } => {
                R::SubtensorModule(S::NeuronRegistered(NetUid(netuid), uid, hotkey))
            }
            other => match other.common::<DispatchError343>() {
                Common::System(e) => R::System(e),
                Common::Balances(e) => R::Balances(e),
                Common::Payment(e) => R::TransactionPayment(e),
            },
        }
    }

    /// Events whose shape is the same in every runtime.
    fn common<E: Encode + TypeInfo + 'static>(self) -> Common<E> {
        match self {
            Event::ExtrinsicSuccess { class, pays_fee, ref_time } => {
                Common::System(SystemEvent::ExtrinsicSuccess {
                    dispatch_info: info(class, pays_fee, ref_time),
                })
            }
            Event::CodeUpdated => Common::System(SystemEvent::CodeUpdated),
            Event::NewAccount { account } => Common::System(SystemEvent::NewAccount { account }),
            Event::Endowed { account, free_balance } => {
                Common::Balances(BalancesEvent::Endowed { account, free_balance })
            }
            Event::Transfer { from, to, amount } => {
                Common::Balances(BalancesEvent::Transfer { from, to, amount })
            }
            Event::Deposit { who, amount } => Common::Balances(BalancesEvent::Deposit { who, amount }),
            Event::Withdraw { who, amount } => Common::Balances(BalancesEvent::Withdraw { who, amount }),
            Event::TransactionFeePaid { who, actual_fee, tip } => {
                Common::Payment(TransactionPaymentEvent::TransactionFeePaid { who, actual_fee, tip })
            }
            other => unreachable!("runtime-specific event {other:?} reached the common encoder"),
        }
    }
}

enum Common<E: Encode + TypeInfo + 'static> {
    System(SystemEvent<E>),
    Balances(BalancesEvent),
    Payment(TransactionPaymentEvent),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stake_added_gains_fee_field_at_343() {
        let ev = Event::StakeAdded {
            coldkey: AccountId32([1; 32]),
            hotkey: AccountId32([2; 32]),
            tao: 10,
            alpha: 20,
            netuid: 3,
            fee: 7,
        };
        let (a, _) = Spec::Dtao233.encode_events(&[(Phase::ApplyExtrinsic(1), ev.clone())]);
        let (b, _) = Spec::Swap343.encode_events(&[(Phase::ApplyExtrinsic(1), ev)]);
        // compact(1) + phase(5) + pallet + variant + 32 + 32 + 8 + 8 + 2 (+ 8 fee) + topics(1)
        assert_eq!(a.len(), 1 + 5 + 2 + 82 + 1);
        assert_eq!(b.len(), a.len() + 8);
        assert_eq!(&a[6..8], &[7, 2]);
    }

    #[test]
    fn events_a_runtime_lacks_are_left_out_and_not_counted() {
        let ev = Event::IncentiveAlphaEmittedToMiners { netuid: 1, emissions: vec![1, 2] };
        assert_eq!(Spec::Dtao233.encode_events(&[(Phase::Initialization, ev.clone())]), (vec![0], 0));
        assert_eq!(Spec::Swap343.encode_events(&[(Phase::Initialization, ev)]).1, 1);
    }

    #[test]
    fn metadata_blobs_have_the_magic_and_version() {
        for spec in [Spec::Dtao233, Spec::Swap343] {
            assert_eq!(&spec.metadata_v14()[..5], b"meta\x0e");
            assert_eq!(&spec.metadata_v15()[..5], b"meta\x0f");
        }
    }
}
