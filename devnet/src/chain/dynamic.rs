//! `SubnetInfoRuntimeApi_get_all_dynamic_info` answered cheaply at any block.
//!
//! An indexer asks for every block's dynamic info, so it is not assembled from storage per call:
//! while importing a block, a [`Tracker`] picks the items `DynamicInfo` reads out of the block's
//! writes (so the answer always equals storage), encodes each subnet's `Option<DynamicInfo>`, and
//! stores it in a versioned store keyed by netuid. Consecutive entries of a subnet differ in a
//! few bytes, so each costs ~40 bytes per block; an answer is 64 short decodes and a concatenation.

use std::collections::HashMap;

use parity_scale_codec::{Compact, Decode, Encode};

use super::state::VersionedState;
use crate::runtime::Spec;
use crate::runtime::apis::{DynamicInfo233, subnet_name, token_symbol};
use crate::runtime::storage::items;
use crate::runtime::types::{AccountId32, I96F32};
use crate::sim::world::Writes;

/// Netuids a devnet can have (root and up to 128 subnets).
const MAX_NETUIDS: u16 = 129;
/// Key of the entry count in the store (netuid keys are two bytes).
const COUNT_KEY: &[u8] = b"count";

/// The items `DynamicInfo` reads, each keyed by netuid (Identity hasher).
#[derive(Clone, Copy, Debug)]
enum Field {
    Added,
    OwnerHotkey,
    Owner,
    Tempo,
    LastStep,
    AlphaIn,
    AlphaOut,
    Tao,
    AlphaOutEmission,
    AlphaInEmission,
    TaoInEmission,
    PendingEmission,
    PendingServer,
    PendingValidator,
    Volume,
    RegisteredAt,
    MovingPrice,
}

fn prefixes() -> Vec<([u8; 32], Field)> {
    let k = |key: Vec<u8>| -> [u8; 32] { key[..32].try_into().expect("item prefix is 32 bytes") };
    vec![
        (k(items::NETWORKS_ADDED.key(&0)), Field::Added),
        (k(items::SUBNET_OWNER_HOTKEY.key(&0)), Field::OwnerHotkey),
        (k(items::SUBNET_OWNER.key(&0)), Field::Owner),
        (k(items::TEMPO.key(&0)), Field::Tempo),
        (k(items::LAST_MECHANISM_STEP_BLOCK.key(&0)), Field::LastStep),
        (k(items::SUBNET_ALPHA_IN.key(&0)), Field::AlphaIn),
        (k(items::SUBNET_ALPHA_OUT.key(&0)), Field::AlphaOut),
        (k(items::SUBNET_TAO.key(&0)), Field::Tao),
        (k(items::SUBNET_ALPHA_OUT_EMISSION.key(&0)), Field::AlphaOutEmission),
        (k(items::SUBNET_ALPHA_IN_EMISSION.key(&0)), Field::AlphaInEmission),
        (k(items::SUBNET_TAO_IN_EMISSION.key(&0)), Field::TaoInEmission),
        (k(items::PENDING_EMISSION.key(&0)), Field::PendingEmission),
        (k(items::PENDING_SERVER_EMISSION.key(&0)), Field::PendingServer),
        (k(items::PENDING_VALIDATOR_EMISSION.key(&0)), Field::PendingValidator),
        (k(items::SUBNET_VOLUME.key(&0)), Field::Volume),
        (k(items::NETWORK_REGISTERED_AT.key(&0)), Field::RegisteredAt),
        (k(items::SUBNET_MOVING_PRICE.key(&0)), Field::MovingPrice),
    ]
}

/// The current values of one subnet's items (absent items read as their defaults).
#[derive(Clone, Debug, Default)]
struct Subnet {
    added: bool,
    owner_hotkey: AccountId32,
    owner: AccountId32,
    tempo: u16,
    last_step: u64,
    alpha_in: u64,
    alpha_out: u64,
    tao: u64,
    alpha_out_emission: u64,
    alpha_in_emission: u64,
    tao_in_emission: u64,
    pending_emission: u64,
    pending_server: u64,
    pending_validator: u64,
    volume: u128,
    registered_at: u64,
    moving_price: i128,
}

fn decode<T: Decode + Default>(value: Option<&[u8]>) -> T {
    value.and_then(|mut v| T::decode(&mut v).ok()).unwrap_or_default()
}

impl Subnet {
    fn set(&mut self, field: Field, v: Option<&[u8]>) {
        match field {
            Field::Added => self.added = decode(v),
            Field::OwnerHotkey => self.owner_hotkey = decode(v),
            Field::Owner => self.owner = decode(v),
            Field::Tempo => self.tempo = decode(v),
            Field::LastStep => self.last_step = decode(v),
            Field::AlphaIn => self.alpha_in = decode(v),
            Field::AlphaOut => self.alpha_out = decode(v),
            Field::Tao => self.tao = decode(v),
            Field::AlphaOutEmission => self.alpha_out_emission = decode(v),
            Field::AlphaInEmission => self.alpha_in_emission = decode(v),
            Field::TaoInEmission => self.tao_in_emission = decode(v),
            Field::PendingEmission => self.pending_emission = decode(v),
            Field::PendingServer => self.pending_server = decode(v),
            Field::PendingValidator => self.pending_validator = decode(v),
            Field::Volume => self.volume = decode(v),
            Field::RegisteredAt => self.registered_at = decode(v),
            Field::MovingPrice => self.moving_price = decode::<I96F32>(v).bits,
        }
    }

    /// `get_dynamic_info(netuid)` as `spec` computes it at `block`.
    fn info(&self, netuid: u16, spec: Spec, block: u32) -> Option<DynamicInfo233> {
        if !self.added {
            return None;
        }
        let bytes = |s: String| s.into_bytes().into_iter().map(Compact).collect();
        // Spec 233 reads `PendingEmission` (and `PendingRootDivs`, never set on the devnet);
        // spec 343 sums the split pending items and reports no root emission.
        let pending = match spec {
            Spec::Dtao233 => self.pending_emission,
            Spec::Swap343 => self.pending_server.saturating_add(self.pending_validator),
        };
        Some(DynamicInfo233 {
            netuid,
            owner_hotkey: self.owner_hotkey,
            owner_coldkey: self.owner,
            subnet_name: bytes(subnet_name(netuid)),
            token_symbol: bytes(token_symbol(netuid)),
            tempo: self.tempo,
            last_step: self.last_step,
            blocks_since_last_step: u64::from(block).saturating_sub(self.last_step),
            // `EmissionValues` (spec 233) is not kept by the devnet; spec 343 reports 0.
            emission: 0,
            alpha_in: self.alpha_in,
            alpha_out: self.alpha_out,
            tao_in: self.tao,
            alpha_out_emission: self.alpha_out_emission,
            alpha_in_emission: self.alpha_in_emission,
            tao_in_emission: self.tao_in_emission,
            pending_alpha_emission: pending,
            pending_root_emission: 0,
            subnet_volume: self.volume,
            network_registered_at: self.registered_at,
            subnet_identity: None,
            moving_price: I96F32::from_bits(self.moving_price),
        })
    }
}

/// Follows the items `DynamicInfo` reads and records each block's encoded answers.
pub struct Tracker {
    fields: HashMap<[u8; 32], Field>,
    subnets: Vec<Subnet>,
    store: VersionedState,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            fields: prefixes().into_iter().collect(),
            subnets: vec![Subnet::default(); MAX_NETUIDS as usize],
            store: VersionedState::default(),
        }
    }
}

impl Tracker {
    /// Takes in block `number`'s writes and records its answers under runtime `spec`.
    pub fn import(&mut self, writes: &Writes, number: u32, spec: Spec) {
        for (key, value) in writes {
            if key.len() != 34 {
                continue;
            }
            let Some(&field) = self.fields.get(&key[..32]) else { continue };
            let netuid = u16::from_le_bytes([key[32], key[33]]);
            if let Some(s) = self.subnets.get_mut(netuid as usize) {
                s.set(field, value.as_deref());
            }
        }
        let count = self.subnets.iter().rposition(|s| s.added).map_or(0, |i| i + 1);
        self.store.set(COUNT_KEY, Some(&(count as u16).encode()), number);
        for (netuid, s) in self.subnets.iter().enumerate().take(count) {
            let entry = s.info(netuid as u16, spec, number).encode();
            self.store.set(&(netuid as u16).to_le_bytes(), Some(&entry), number);
        }
    }

    /// SCALE `Vec<Option<DynamicInfo>>` at block `number`: one entry per netuid from 0 to the
    /// highest, `None` for gaps.
    pub fn all(&self, number: u32) -> Vec<u8> {
        let count = self.store.get(COUNT_KEY, number).map_or(0, |v| decode::<u16>(Some(&v)));
        let mut out = Compact(u32::from(count)).encode();
        for netuid in 0..count {
            match self.store.get(&netuid.to_le_bytes(), number) {
                Some(entry) => out.extend_from_slice(&entry),
                None => out.push(0),
            }
        }
        out
    }

    /// SCALE `Option<DynamicInfo>` of `netuid` at block `number`.
    pub fn one(&self, netuid: u16, number: u32) -> Vec<u8> {
        self.store.get(&netuid.to_le_bytes(), number).unwrap_or_else(|| vec![0])
    }

    /// Forgets blocks after `number` and reloads the tracked items from `state` as of it.
    pub fn rewind(&mut self, state: &VersionedState, number: u32) {
        self.store.truncate_after(number);
        let fields: Vec<([u8; 32], Field)> = self.fields.iter().map(|(k, f)| (*k, *f)).collect();
        for (netuid, s) in self.subnets.iter_mut().enumerate() {
            for (prefix, field) in &fields {
                let mut key = prefix.to_vec();
                key.extend_from_slice(&(netuid as u16).to_le_bytes());
                s.set(*field, state.get(&key, number).as_deref());
            }
        }
    }

    /// Releases spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.store.shrink_to_fit();
    }

    /// Bytes held by the recorded answers.
    pub fn bytes(&self) -> usize {
        self.store.stats().bytes
    }
}
