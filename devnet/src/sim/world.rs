//! The simulated chain's typed state: accounts, subnets with their pools and neurons, and the
//! alpha share ledger. Every mutation goes through a method that also records the storage write,
//! so the typed state and the served storage never disagree.

use std::collections::{BTreeMap, BTreeSet};

use parity_scale_codec::Encode;
use taoscope_math::fixed::f64_to_i96f32;
use taoscope_math::pool::Pool;
use taoscope_math::pool::{TICK_INDEX_MAX, sqrt_price_at_tick, tick_index};

use crate::runtime::Spec;
use crate::runtime::storage::items;
use crate::runtime::types::{AccountData, AccountId32, AccountInfo, I96F32, TickIndex, U64F64};

/// Storage writes of the block being built, by key (`None` deletes).
pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A coldkey's balance and transaction count.
#[derive(Clone, Copy, Debug, Default)]
pub struct Account {
    /// Spendable rao.
    pub free: u64,
    /// Transactions sent.
    pub nonce: u32,
}

/// A registered neuron (one uid of a subnet).
#[derive(Clone, Debug)]
pub struct Neuron {
    /// Its hotkey.
    pub hotkey: AccountId32,
    /// The hotkey's owner.
    pub coldkey: AccountId32,
    /// Block of registration.
    pub registered_at: u64,
    /// Block of its last `set_weights`.
    pub last_update: u64,
    /// Its weight row as stored (dest uid, u16 max-upscaled).
    pub weights: Vec<(u16, u16)>,
    /// Its bond row as stored.
    pub bonds: Vec<(u16, u16)>,
    /// Hidden quality validators score it by (miners); validators score near zero.
    pub quality: f64,
    /// Whether its owner operates it as a validator.
    pub validator: bool,
}

/// The last epoch's metagraph vectors, as stored.
#[derive(Clone, Debug, Default)]
pub struct Metagraph {
    /// Per-uid `Active`.
    pub active: Vec<bool>,
    /// Per-uid `ValidatorPermit`.
    pub validator_permit: Vec<bool>,
    /// Per-uid `Incentive`.
    pub incentive: Vec<u16>,
    /// Per-uid `Dividends`.
    pub dividends: Vec<u16>,
    /// Per-uid `Emission` (rao).
    pub emission: Vec<u64>,
    /// Per-uid `PruningScores`.
    pub pruning_scores: Vec<u16>,
}

/// A subnet and its pool.
#[derive(Clone, Debug)]
pub struct Subnet {
    /// Its id.
    pub netuid: u16,
    /// Owner coldkey.
    pub owner: AccountId32,
    /// Owner hotkey.
    pub owner_hotkey: AccountId32,
    /// Block registered.
    pub registered_at: u64,
    /// Blocks between epochs minus one.
    pub tempo: u16,
    /// The pool reserves (`SubnetTAO`, `SubnetAlphaIn`).
    pub pool: Pool,
    /// Alpha held as stake (`SubnetAlphaOut`).
    pub alpha_out: u64,
    /// `SubnetMovingPrice` as I96F32 bits.
    pub moving_price: i128,
    /// Cumulative TAO traded (`SubnetVolume`).
    pub volume: u128,
    /// Registration cost in rao (`Burn`).
    pub burn: u64,
    /// Neurons by uid.
    pub neurons: Vec<Neuron>,
    /// Alpha accumulated for miners since the last epoch.
    pub pending_server: u64,
    /// Alpha accumulated for validators since the last epoch.
    pub pending_validator: u64,
    /// Alpha accumulated for the owner since the last epoch.
    pub pending_owner: u64,
    /// The last epoch's results.
    pub metagraph: Metagraph,
    /// Block of the last epoch.
    pub last_step: u64,
}

/// The sqrt prices `[lo, hi)` of a pool's current tick.
#[derive(Clone, Copy, Debug)]
pub(super) struct TickRange {
    lo: u128,
    hi: u128,
    tick: i32,
}

/// All typed state.
#[derive(Clone, Default)]
pub struct World {
    /// Balances and nonces.
    pub accounts: BTreeMap<AccountId32, Account>,
    /// Hotkey → owning coldkey (`Owner`).
    pub owners: BTreeMap<AccountId32, AccountId32>,
    /// Subnets by netuid (index 0 is root).
    pub subnets: Vec<Subnet>,
    /// `Alpha` shares in whole units per (hotkey, coldkey, netuid).
    pub shares: BTreeMap<(AccountId32, AccountId32, u16), u64>,
    /// The (hotkey, netuid) positions with shares of each coldkey, in `shares` order.
    pub positions: BTreeMap<AccountId32, BTreeSet<(AccountId32, u16)>>,
    /// `TotalHotkeyShares` in whole units per (hotkey, netuid).
    pub hotkey_shares: BTreeMap<(AccountId32, u16), u64>,
    /// `TotalHotkeyAlpha` per (hotkey, netuid).
    pub hotkey_alpha: BTreeMap<(AccountId32, u16), u64>,
    /// `TotalIssuance` in rao.
    pub total_issuance: u64,
    /// Writes of the block being built.
    pub writes: Writes,
    /// The executing runtime (decides which items exist).
    pub spec: Option<Spec>,
    /// Pools changed in the block being built (their items are written once, at its end).
    pub(super) dirty_pools: BTreeSet<u16>,
    /// Each pool's last tick and its price range.
    pub(super) ticks: BTreeMap<u16, TickRange>,
}

fn units_to_bits(units: u64) -> U64F64 {
    U64F64::from_bits((units as u128) << 64)
}

impl World {
    fn put<V: Encode>(&mut self, key: Vec<u8>, value: &V) {
        self.writes.insert(key, Some(value.encode()));
    }

    fn spec(&self) -> Spec {
        self.spec.unwrap_or(Spec::Dtao233)
    }

    /// Free balance of `who`.
    pub fn free(&self, who: &AccountId32) -> u64 {
        self.accounts.get(who).map_or(0, |a| a.free)
    }

    /// Credits `amount` to `who` (creating the account).
    pub fn credit(&mut self, who: AccountId32, amount: u64) {
        self.accounts.entry(who).or_default().free += amount;
        self.write_account(who);
    }

    /// Debits `amount` from `who`; false (and no change) if the balance is short.
    pub fn debit(&mut self, who: AccountId32, amount: u64) -> bool {
        let Some(acct) = self.accounts.get_mut(&who) else { return false };
        if acct.free < amount {
            return false;
        }
        acct.free -= amount;
        self.write_account(who);
        true
    }

    /// Increments `who`'s nonce (a signed transaction was included).
    pub fn bump_nonce(&mut self, who: AccountId32) -> u32 {
        let acct = self.accounts.entry(who).or_default();
        let nonce = acct.nonce;
        acct.nonce += 1;
        self.write_account(who);
        nonce
    }

    fn write_account(&mut self, who: AccountId32) {
        let a = self.accounts.get(&who).copied().unwrap_or_default();
        let info = AccountInfo {
            nonce: a.nonce,
            consumers: 0,
            providers: 1,
            sufficients: 0,
            data: AccountData { free: a.free, ..Default::default() },
        };
        self.put(items::ACCOUNT.key(&who), &info);
    }

    /// Alpha value of (hotkey, coldkey)'s stake on `netuid`.
    pub fn stake_of(&self, hot: AccountId32, cold: AccountId32, netuid: u16) -> u64 {
        let units = self.shares.get(&(hot, cold, netuid)).copied().unwrap_or(0);
        let total_units = self.hotkey_shares.get(&(hot, netuid)).copied().unwrap_or(0);
        let alpha = self.hotkey_alpha.get(&(hot, netuid)).copied().unwrap_or(0);
        if total_units == 0 {
            return 0;
        }
        (alpha as u128 * units as u128 / total_units as u128) as u64
    }

    /// Adds `alpha` of stake to (hot, cold) on `netuid`, minting shares at the current rate.
    pub fn add_stake_alpha(&mut self, hot: AccountId32, cold: AccountId32, netuid: u16, alpha: u64) {
        let total_units = self.hotkey_shares.get(&(hot, netuid)).copied().unwrap_or(0);
        let total_alpha = self.hotkey_alpha.get(&(hot, netuid)).copied().unwrap_or(0);
        let new_units = if total_units == 0 || total_alpha == 0 {
            alpha
        } else {
            (alpha as u128 * total_units as u128 / total_alpha as u128) as u64
        };
        let units = self.shares.entry((hot, cold, netuid)).or_default();
        *units += new_units;
        if *units > 0 {
            self.positions.entry(cold).or_default().insert((hot, netuid));
        }
        *self.hotkey_shares.entry((hot, netuid)).or_default() += new_units;
        *self.hotkey_alpha.entry((hot, netuid)).or_default() += alpha;
        self.write_stake(hot, cold, netuid);
    }

    /// Removes up to `alpha` of (hot, cold)'s stake on `netuid`; returns the alpha removed.
    pub fn remove_stake_alpha(
        &mut self,
        hot: AccountId32,
        cold: AccountId32,
        netuid: u16,
        alpha: u64,
    ) -> u64 {
        let held = self.stake_of(hot, cold, netuid);
        let alpha = alpha.min(held);
        let units = self.shares.get(&(hot, cold, netuid)).copied().unwrap_or(0);
        let total_units = self.hotkey_shares.get(&(hot, netuid)).copied().unwrap_or(0);
        let total_alpha = self.hotkey_alpha.get(&(hot, netuid)).copied().unwrap_or(0);
        if alpha == 0 || total_alpha == 0 {
            return 0;
        }
        let burn_units = if alpha == held {
            units
        } else {
            ((alpha as u128 * total_units as u128).div_ceil(total_alpha as u128) as u64).min(units)
        };
        self.shares.insert((hot, cold, netuid), units - burn_units);
        if units == burn_units
            && let Some(p) = self.positions.get_mut(&cold)
        {
            p.remove(&(hot, netuid));
        }
        self.hotkey_shares.insert((hot, netuid), total_units - burn_units);
        self.hotkey_alpha.insert((hot, netuid), total_alpha - alpha);
        self.write_stake(hot, cold, netuid);
        alpha
    }

    /// Adds `alpha` to a hotkey's pool without minting shares: every nominator's stake grows
    /// (how dividends reach nominators).
    pub fn add_hotkey_alpha(&mut self, hot: AccountId32, netuid: u16, alpha: u64) {
        *self.hotkey_alpha.entry((hot, netuid)).or_default() += alpha;
        let total = self.hotkey_alpha[&(hot, netuid)];
        self.put(items::TOTAL_HOTKEY_ALPHA.key(&hot, &netuid), &total);
    }

    fn write_stake(&mut self, hot: AccountId32, cold: AccountId32, netuid: u16) {
        let units = self.shares.get(&(hot, cold, netuid)).copied().unwrap_or(0);
        let total_units = self.hotkey_shares.get(&(hot, netuid)).copied().unwrap_or(0);
        let total_alpha = self.hotkey_alpha.get(&(hot, netuid)).copied().unwrap_or(0);
        self.put(items::ALPHA.key(&hot, &cold, &netuid), &units_to_bits(units));
        self.put(items::TOTAL_HOTKEY_SHARES.key(&hot, &netuid), &units_to_bits(total_units));
        self.put(items::TOTAL_HOTKEY_ALPHA.key(&hot, &netuid), &total_alpha);
    }

    /// The tick of `netuid`'s pool at sqrt price `sqrt` (U64F64 bits). A tick lookup is a binary
    /// search over ~20 exact tick prices, and a pool's price rarely leaves its tick between two
    /// writes, so the last tick's bounds are checked first.
    fn current_tick(&mut self, netuid: u16, sqrt: u128) -> i32 {
        if let Some(r) = self.ticks.get(&netuid).filter(|r| r.lo <= sqrt && sqrt < r.hi) {
            return r.tick;
        }
        let tick = tick_index(sqrt);
        let hi = if tick >= TICK_INDEX_MAX { u128::MAX } else { sqrt_price_at_tick(tick + 1) };
        self.ticks.insert(netuid, TickRange { lo: sqrt_price_at_tick(tick), hi, tick });
        tick
    }

    /// Marks the pool of `netuid` as changed; [`World::flush_pools`] records it.
    pub fn write_pool(&mut self, netuid: u16) {
        self.dirty_pools.insert(netuid);
    }

    /// Records the items of every pool changed since the last flush (a pool changes many times
    /// per block; only its final state is stored).
    pub fn flush_pools(&mut self) {
        for netuid in std::mem::take(&mut self.dirty_pools) {
            self.put_pool(netuid);
        }
    }

    /// Records the pool items of `netuid` (reserves, price state, volume, and in spec 343 the
    /// Swap pallet's full-range v3 view of the same reserves).
    fn put_pool(&mut self, netuid: u16) {
        let s = &self.subnets[netuid as usize];
        let (pool, alpha_out, mp, volume) = (s.pool, s.alpha_out, s.moving_price, s.volume);
        self.put(items::SUBNET_TAO.key(&netuid), &pool.tao);
        self.put(items::SUBNET_ALPHA_IN.key(&netuid), &pool.alpha_in);
        self.put(items::SUBNET_ALPHA_OUT.key(&netuid), &alpha_out);
        self.put(items::SUBNET_MOVING_PRICE.key(&netuid), &I96F32::from_bits(mp));
        self.put(items::SUBNET_VOLUME.key(&netuid), &volume);
        if self.spec().has_swap_pallet() && netuid != 0 {
            self.put(items::SWAP_V3_INITIALIZED.key(&netuid), &true);
            let sqrt = pool.sqrt_price_u64f64();
            let tick = self.current_tick(netuid, sqrt);
            self.put(items::ALPHA_SQRT_PRICE.key(&netuid), &U64F64::from_bits(sqrt));
            self.put(items::CURRENT_TICK.key(&netuid), &TickIndex(tick));
            self.put(items::CURRENT_LIQUIDITY.key(&netuid), &pool.full_range_liquidity());
        }
    }

    /// Records what was injected into `netuid` this block.
    pub fn write_emission(&mut self, netuid: u16, tao_in: u64, alpha_in: u64, alpha_out: u64) {
        self.put(items::SUBNET_TAO_IN_EMISSION.key(&netuid), &tao_in);
        self.put(items::SUBNET_ALPHA_IN_EMISSION.key(&netuid), &alpha_in);
        self.put(items::SUBNET_ALPHA_OUT_EMISSION.key(&netuid), &alpha_out);
        self.write_pending(netuid);
    }

    /// Records the emission accumulated for `netuid`'s next epoch (one item in spec 233, split
    /// by recipient in spec 343).
    pub fn write_pending(&mut self, netuid: u16) {
        let s = &self.subnets[netuid as usize];
        let (server, validator, owner) = (s.pending_server, s.pending_validator, s.pending_owner);
        match self.spec() {
            Spec::Dtao233 => self.put(items::PENDING_EMISSION.key(&netuid), &(server + validator)),
            Spec::Swap343 => {
                self.put(items::PENDING_SERVER_EMISSION.key(&netuid), &server);
                self.put(items::PENDING_VALIDATOR_EMISSION.key(&netuid), &validator);
                self.put(items::PENDING_OWNER_CUT.key(&netuid), &owner);
            }
        }
    }

    /// Records a subnet's static and hyper-parameter items (at registration and upgrade).
    pub fn write_subnet_params(&mut self, netuid: u16, max_uids: u16) {
        let s = self.subnets[netuid as usize].clone();
        self.put(items::NETWORKS_ADDED.key(&netuid), &true);
        self.put(items::NETWORK_REGISTERED_AT.key(&netuid), &s.registered_at);
        self.put(items::NETWORK_REGISTRATION_ALLOWED.key(&netuid), &true);
        self.put(items::SUBNET_MECHANISM.key(&netuid), &u16::from(netuid != 0));
        self.put(items::TEMPO.key(&netuid), &s.tempo);
        self.put(items::SUBNET_OWNER.key(&netuid), &s.owner);
        self.put(items::SUBNET_OWNER_HOTKEY.key(&netuid), &s.owner_hotkey);
        self.put(items::MAX_ALLOWED_UIDS.key(&netuid), &max_uids);
        self.put(items::MAX_ALLOWED_VALIDATORS.key(&netuid), &(max_uids / 4).max(1));
        self.put(items::KAPPA.key(&netuid), &32_767u16);
        self.put(items::ACTIVITY_CUTOFF.key(&netuid), &5_000u16);
        self.put(items::BONDS_MOVING_AVERAGE.key(&netuid), &900_000u64);
        self.put(items::IMMUNITY_PERIOD.key(&netuid), &IMMUNITY_PERIOD);
        self.put(items::BURN.key(&netuid), &s.burn);
        if self.spec() == Spec::Swap343 {
            self.put(items::FIRST_EMISSION_BLOCK_NUMBER.key(&netuid), &(s.registered_at + 1));
            self.put(items::SUBTOKEN_ENABLED.key(&netuid), &true);
            self.put(items::EMA_PRICE_HALVING_BLOCKS.key(&netuid), &EMA_PRICE_HALVING_BLOCKS);
            if netuid != 0 {
                self.put(items::FEE_RATE.key(&netuid), &taoscope_math::pool::FEE_RATE_DEFAULT);
                self.put(items::ENABLED_USER_LIQUIDITY.key(&netuid), &false);
                self.put(items::SUBNET_TAO_PROVIDED.key(&netuid), &0u64);
                self.put(items::SUBNET_ALPHA_IN_PROVIDED.key(&netuid), &0u64);
            }
        }
        self.write_pool(netuid);
    }

    /// Records uid `uid` of `netuid` (keys, registration block, membership).
    pub fn write_neuron(&mut self, netuid: u16, uid: u16, replaced: Option<AccountId32>) {
        let n = self.subnets[netuid as usize].neurons[uid as usize].clone();
        if let Some(old) = replaced {
            self.writes.insert(items::UIDS.key(&netuid, &old), None);
        }
        self.put(items::KEYS.key(&netuid, &uid), &n.hotkey);
        self.put(items::UIDS.key(&netuid, &n.hotkey), &uid);
        self.put(items::BLOCK_AT_REGISTRATION.key(&netuid, &uid), &n.registered_at);
        self.put(items::OWNER.key(&n.hotkey), &n.coldkey);
        self.put(items::WEIGHTS.key(&netuid, &uid), &n.weights);
        self.put(items::BONDS.key(&netuid, &uid), &n.bonds);
        let count = self.subnets[netuid as usize].neurons.len() as u16;
        self.put(items::SUBNETWORK_N.key(&netuid), &count);
        self.write_last_update(netuid);
    }

    /// Records the `LastUpdate` vector of `netuid`.
    pub fn write_last_update(&mut self, netuid: u16) {
        let v: Vec<u64> = self.subnets[netuid as usize].neurons.iter().map(|n| n.last_update).collect();
        self.put(items::LAST_UPDATE.key(&netuid), &v);
    }

    /// Records uid `uid`'s weight row.
    pub fn write_weights(&mut self, netuid: u16, uid: u16) {
        let row = self.subnets[netuid as usize].neurons[uid as usize].weights.clone();
        self.put(items::WEIGHTS.key(&netuid, &uid), &row);
        self.write_last_update(netuid);
    }

    /// Records uid `uid`'s bonds row.
    pub fn write_bonds(&mut self, netuid: u16, uid: u16) {
        let row = self.subnets[netuid as usize].neurons[uid as usize].bonds.clone();
        self.put(items::BONDS.key(&netuid, &uid), &row);
    }

    /// Records an epoch's outputs for `netuid`.
    pub fn write_metagraph(&mut self, netuid: u16, out: &taoscope_math::yuma::EpochOutput) {
        self.put(items::ACTIVE.key(&netuid), &out.active);
        self.put(items::RANK.key(&netuid), &out.rank);
        self.put(items::TRUST.key(&netuid), &out.trust);
        self.put(items::CONSENSUS.key(&netuid), &out.consensus);
        self.put(items::INCENTIVE.key(&netuid), &out.incentive);
        self.put(items::DIVIDENDS.key(&netuid), &out.dividends);
        self.put(items::EMISSION.key(&netuid), &out.emission);
        self.put(items::VALIDATOR_TRUST.key(&netuid), &out.validator_trust);
        self.put(items::VALIDATOR_PERMIT.key(&netuid), &out.validator_permit);
        self.put(items::PRUNING_SCORES.key(&netuid), &out.pruning_scores);
        for (uid, row) in out.bonds.iter().enumerate() {
            self.put(items::BONDS.key(&netuid, &(uid as u16)), row);
        }
    }

    /// Records chain-wide totals.
    pub fn write_totals(&mut self, block_emission: u64) {
        let staked: u64 = self.subnets.iter().map(|s| s.pool.tao).sum();
        let issuance = self.total_issuance;
        self.put(items::TOTAL_ISSUANCE.key(), &issuance);
        self.put(items::BALANCES_TOTAL_ISSUANCE.key(), &issuance);
        self.put(items::TOTAL_STAKE.key(), &staked);
        self.put(items::BLOCK_EMISSION.key(), &block_emission);
        self.put(items::TOTAL_NETWORKS.key(), &(self.subnets.len() as u16));
    }

    /// Records a moving-price update.
    pub fn set_moving_price(&mut self, netuid: u16, price: f64) {
        self.subnets[netuid as usize].moving_price = f64_to_i96f32(price);
    }
}

/// Blocks a new registration is safe from pruning.
pub const IMMUNITY_PERIOD: u16 = 400;
/// `EMAPriceHalvingBlocks` on the devnet (finney: 201,600); short so the EMA visibly moves.
pub const EMA_PRICE_HALVING_BLOCKS: u64 = 2_000;
