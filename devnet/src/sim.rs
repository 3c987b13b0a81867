//! The simulator: builds each block of the devnet chain (on_initialize economics, extrinsics,
//! finalisation writes) deterministically from a seed.

mod activity;
pub mod actors;
mod dispatch;
mod economy;
pub mod world;

use std::collections::BTreeSet;

use parity_scale_codec::Encode;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use self::actors::{Actors, TAO, VALIDATORS_PER_SUBNET};
use self::world::{Subnet, World, Writes};
use crate::chain::header::aura_pre_runtime;
use crate::runtime::calls::{RuntimeCall, TimestampCall};
use crate::runtime::storage::{events_key, items};
use crate::runtime::types::{
    AccountId32, Digest, DigestItem, H256, I96F32, LastRuntimeUpgradeInfo233, LastRuntimeUpgradeInfo343,
    Phase,
};
use crate::runtime::{Event, Spec};

/// Milliseconds since the epoch of the devnet's genesis (2025-02-13, the dTAO launch day).
pub const GENESIS_TIMESTAMP_MS: u64 = 1_739_404_800_000;
/// Chain time between blocks (finney: 12 s), independent of the devnet's wall-clock pace.
pub const SLOT_MS: u64 = 12_000;

/// What the simulation does.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Dynamic subnets to create (1–128).
    pub subnets: u16,
    /// RNG seed.
    pub seed: u64,
    /// Subnet tempo (epoch every `tempo + 1` blocks).
    pub tempo: u16,
    /// Uids per subnet before registrations replace neurons.
    pub max_uids: u16,
    /// Block whose extrinsics upgrade the runtime (`None`: never).
    pub upgrade_at: Option<u32>,
    /// Mean number of stake trades per block.
    pub trades_per_block: u32,
}

/// One built block, before the chain gives it a header.
pub struct BuiltBlock {
    /// Its number.
    pub number: u32,
    /// Encoded extrinsics.
    pub extrinsics: Vec<Vec<u8>>,
    /// Storage writes.
    pub writes: Writes,
    /// The runtime in `:code` after the block (the new one on an upgrade block).
    pub spec_after: Spec,
    /// Whether this block set new code.
    pub upgraded: bool,
    /// The `Timestamp.set` value.
    pub timestamp_ms: u64,
    /// The runtime's digest items (the chain appends the author's seal).
    pub digest: Vec<DigestItem>,
    /// Events emitted.
    pub event_count: usize,
}

/// The simulated chain's state machine.
#[derive(Clone)]
pub struct Simulator {
    cfg: SimConfig,
    rng: ChaCha8Rng,
    world: World,
    spec: Spec,
    actors: Actors,
    block: u32,
    events: Vec<(Phase, Event)>,
    extrinsics: Vec<Vec<u8>>,
    pending_validators: BTreeSet<AccountId32>,
    next_miner: u64,
    upgraded_at: Option<u32>,
    /// Set by [`Simulator::reseed`]: the next block records which fork it starts.
    fork_mark: Option<u64>,
}

impl Simulator {
    /// Genesis: endowed accounts, the root network, global parameters. Returns the simulator
    /// and block 0's storage.
    pub fn genesis(cfg: SimConfig) -> (Simulator, Writes) {
        let actors = Actors::new(cfg.seed, 32);
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut world = World { spec: Some(Spec::Dtao233), ..World::default() };
        world.credit(actors.sudo, TAO);
        for &s in &actors.stakers {
            world.credit(s, rng.random_range(100..20_000) * TAO);
        }
        for &m in &actors.miner_colds {
            world.credit(m, 500 * TAO);
        }
        for netuid in 1..=cfg.subnets {
            world.credit(actors.owner_cold(netuid), 2_000 * TAO);
            for k in 0..VALIDATORS_PER_SUBNET {
                world.credit(actors.validator_cold(netuid, k), 10_000 * TAO);
            }
        }
        world.total_issuance = world.accounts.values().map(|a| a.free).sum();
        world.subnets.push(Subnet {
            netuid: 0,
            owner: AccountId32::default(),
            owner_hotkey: AccountId32::default(),
            registered_at: 0,
            tempo: cfg.tempo,
            pool: Default::default(),
            alpha_out: 0,
            moving_price: 1 << 32,
            volume: 0,
            burn: TAO,
            neurons: vec![],
            pending_server: 0,
            pending_validator: 0,
            pending_owner: 0,
            metagraph: Default::default(),
            last_step: 0,
        });
        world.write_subnet_params(0, cfg.max_uids);
        world.write_totals(0);
        let mut sim = Simulator {
            cfg,
            rng,
            world,
            spec: Spec::Dtao233,
            actors,
            block: 0,
            events: vec![],
            extrinsics: vec![],
            pending_validators: BTreeSet::new(),
            next_miner: 0,
            upgraded_at: None,
            fork_mark: None,
        };
        let w = &mut sim.world.writes;
        let put = |w: &mut Writes, k: Vec<u8>, v: Vec<u8>| w.insert(k, Some(v));
        put(
            w,
            items::SUBNET_MOVING_ALPHA.key(),
            I96F32::from_bits(taoscope_math::fixed::f64_to_i96f32(economy::SUBNET_MOVING_ALPHA)).encode(),
        );
        put(w, items::TAO_WEIGHT.key(), 971_718_665_099_567_868u64.encode());
        put(w, items::SUBNET_OWNER_CUT.key(), economy::SUBNET_OWNER_CUT.encode());
        put(w, items::SUDO_KEY.key(), sim.actors.sudo.encode());
        put(w, items::NOW.key(), GENESIS_TIMESTAMP_MS.encode());
        put(w, items::NUMBER.key(), 0u32.encode());
        put(
            w,
            items::LAST_RUNTIME_UPGRADE_233.key(),
            LastRuntimeUpgradeInfo233 { spec_version: 233, spec_name: "node-subtensor".into() }.encode(),
        );
        sim.world.flush_pools();
        let writes = std::mem::take(&mut sim.world.writes);
        (sim, writes)
    }

    /// Starts a different future from the current state: the RNG is reseeded from the seed and
    /// `fork`, and the next block's digest carries `fork` (so it differs from any block built
    /// from the same state before, even when the RNG would choose the same activity).
    pub fn reseed(&mut self, fork: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(self.cfg.seed ^ fork.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        self.fork_mark = Some(fork);
    }

    /// The number of the last block built.
    pub fn block_number(&self) -> u32 {
        self.block
    }

    /// The runtime that will execute the next block.
    pub fn spec(&self) -> Spec {
        self.spec
    }

    /// Builds the next block on top of `parent_hash`.
    pub fn build_block(&mut self, parent_hash: [u8; 32]) -> BuiltBlock {
        let number = self.block + 1;
        let block = u64::from(number);
        let executing = self.spec;
        self.world.spec = Some(executing);
        self.events.clear();
        self.extrinsics.clear();

        // on_initialize: the first block of a new runtime runs its migration.
        if self.upgraded_at == Some(number - 1) {
            self.migrate_to(executing, block);
        }
        let emission = self.coinbase(block);
        self.epochs(block);

        // Extrinsics.
        let timestamp_ms = GENESIS_TIMESTAMP_MS + block * SLOT_MS;
        self.apply_inherent(RuntimeCall::Timestamp(TimestampCall::set { now: timestamp_ms }));
        let upgrade = self.cfg.upgrade_at == Some(number) && executing.next().is_some();
        if upgrade {
            let next = executing.next().expect("checked");
            self.apply_upgrade(block, next.code());
        }
        self.activity(block);

        // Finalisation.
        self.world.flush_pools();
        self.world.write_totals(emission);
        let (events, event_count) = executing.encode_events(&self.events);
        let w = &mut self.world.writes;
        w.insert(items::NUMBER.key(), Some(number.encode()));
        w.insert(items::PARENT_HASH.key(), Some(H256(parent_hash).encode()));
        w.insert(items::BLOCK_HASH.key(&(number - 1)), Some(H256(parent_hash).encode()));
        w.insert(items::NOW.key(), Some(timestamp_ms.encode()));
        w.insert(items::EXTRINSIC_COUNT.key(), Some((self.extrinsics.len() as u32).encode()));
        w.insert(items::EVENT_COUNT.key(), Some((event_count as u32).encode()));
        w.insert(events_key(), Some(events));
        let mut digest = vec![aura_pre_runtime(timestamp_ms / SLOT_MS)];
        if let Some(fork) = self.fork_mark.take() {
            digest.push(DigestItem::Other([&b"fork"[..], &fork.to_le_bytes()].concat()));
        }
        if upgrade {
            digest.push(DigestItem::RuntimeEnvironmentUpdated);
        }
        w.insert(items::DIGEST.key(), Some(Digest { logs: digest.clone() }.encode()));
        if upgrade {
            self.spec = executing.next().expect("checked");
            self.upgraded_at = Some(number);
        }
        self.block = number;
        BuiltBlock {
            number,
            extrinsics: std::mem::take(&mut self.extrinsics),
            writes: std::mem::take(&mut self.world.writes),
            spec_after: self.spec,
            upgraded: upgrade,
            timestamp_ms,
            digest,
            event_count,
        }
    }

    /// The new runtime's migration: record the upgrade, and for spec 343 initialise the Swap
    /// pallet over every pool and split pending emission by recipient.
    fn migrate_to(&mut self, spec: Spec, block: u64) {
        let info = LastRuntimeUpgradeInfo343 {
            spec_version: spec.spec_version(),
            spec_name: crate::runtime::types::Cow("node-subtensor".into()),
        };
        self.world.writes.insert(items::LAST_RUNTIME_UPGRADE_343.key(), Some(info.encode()));
        for netuid in 0..self.world.subnets.len() as u16 {
            self.world.writes.insert(items::PENDING_EMISSION.key(&netuid), None);
            self.world.write_subnet_params(netuid, self.cfg.max_uids);
            self.world.write_pending(netuid);
        }
        tracing::debug!(block, spec = spec.spec_version(), "runtime migration ran");
    }

    fn rng_quality(&mut self) -> f64 {
        self.rng.random_range(0.05..1.0)
    }

    fn rng_start_price(&mut self) -> f64 {
        self.rng.random_range(0.003..0.08)
    }
}
