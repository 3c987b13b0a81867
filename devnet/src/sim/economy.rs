//! Per-block coinbase (TAO emission split by moving price, alpha injection, pending emission),
//! moving-price updates, and the per-subnet epoch that runs Yuma Consensus and pays out.

use taoscope_math::emission::{
    block_emission_for_issuance, split_alpha_out, subnet_emission, tao_split_by_moving_price,
};
use taoscope_math::fixed::i96f32_to_f64;
use taoscope_math::moving_price::{moving_alpha, update_moving_price, update_moving_price_uncapped};
use taoscope_math::yuma::{EpochInput, I32F32, YumaParams, YumaRules, epoch_with};

use super::Simulator;
use super::world::EMA_PRICE_HALVING_BLOCKS;
use crate::runtime::storage::items;
use crate::runtime::types::Phase;
use crate::runtime::{Event, Spec};

/// `SubnetOwnerCut` (≈18 %).
pub const SUBNET_OWNER_CUT: u16 = 11_796;
/// Validator take on dividends (`Delegates` default, ≈18 %).
pub const DELEGATE_TAKE: u16 = 11_796;
/// `SubnetMovingAlpha` on the devnet (finney: 0.000003), so prices' EMA moves within a session.
pub const SUBNET_MOVING_ALPHA: f64 = 0.01;

impl Simulator {
    /// Is `netuid` due for its epoch at `block`? (finney's pre-v3.4.9 schedule)
    pub fn is_epoch_block(block: u64, netuid: u16, tempo: u16) -> bool {
        (block + u64::from(netuid) + 1).is_multiple_of(u64::from(tempo) + 1)
    }

    /// Mints this block's emission into the subnets that are live, then updates moving prices.
    pub(super) fn coinbase(&mut self, block: u64) -> u64 {
        let world = &mut self.world;
        let emission = block_emission_for_issuance(world.total_issuance);
        let live: Vec<u16> = world
            .subnets
            .iter()
            .filter(|s| s.netuid != 0 && s.registered_at < block)
            .map(|s| s.netuid)
            .collect();
        let moving: Vec<f64> =
            live.iter().map(|&n| i96f32_to_f64(world.subnets[n as usize].moving_price)).collect();
        let shares = tao_split_by_moving_price(emission, &moving);
        for (&netuid, &tao_share) in live.iter().zip(&shares) {
            let s = &mut world.subnets[netuid as usize];
            let alpha_emission = block_emission_for_issuance(s.pool.alpha_in + s.alpha_out);
            let e = subnet_emission(tao_share, s.pool.price(), alpha_emission);
            s.pool.inject(e.tao_in, e.alpha_in);
            s.alpha_out += e.alpha_out;
            let split = split_alpha_out(e.alpha_out, SUBNET_OWNER_CUT, 0.0);
            s.pending_owner += split.owner_cut;
            s.pending_server += split.server;
            s.pending_validator += split.validator + split.root_alpha;
            world.total_issuance += e.tao_in;
            world.write_emission(netuid, e.tao_in, e.alpha_in, e.alpha_out);
        }
        for &netuid in &live {
            let s = &world.subnets[netuid as usize];
            // v2.0.0 (spec 233): constant factor, no cap; from spec 257: factor b/(b+h), capped at 1.
            let (old, price) = (i96f32_to_f64(s.moving_price), s.pool.price());
            let mp = match self.spec {
                Spec::Dtao233 => update_moving_price_uncapped(old, price, SUBNET_MOVING_ALPHA),
                Spec::Swap343 => {
                    let b = block - s.registered_at;
                    update_moving_price(
                        old,
                        price,
                        moving_alpha(SUBNET_MOVING_ALPHA, b, EMA_PRICE_HALVING_BLOCKS),
                    )
                }
            };
            world.set_moving_price(netuid, mp);
            world.write_pool(netuid);
        }
        emission
    }

    /// Runs the epoch of every subnet due at `block`.
    pub(super) fn epochs(&mut self, block: u64) {
        for netuid in 1..self.world.subnets.len() as u16 {
            let s = &self.world.subnets[netuid as usize];
            if s.registered_at >= block || s.neurons.is_empty() {
                continue;
            }
            let since = block - s.last_step;
            if Self::is_epoch_block(block, netuid, s.tempo) {
                self.run_epoch(block, netuid);
                self.world.put_step(netuid, 0, block);
            } else {
                let last = s.last_step;
                self.world.put_step(netuid, since, last);
            }
        }
    }

    fn run_epoch(&mut self, block: u64, netuid: u16) {
        let world = &mut self.world;
        let s = &world.subnets[netuid as usize];
        let stake: Vec<u64> = s
            .neurons
            .iter()
            .map(|n| world.hotkey_alpha.get(&(n.hotkey, netuid)).copied().unwrap_or(0))
            .collect();
        let weights: Vec<Vec<(u16, u16)>> = s.neurons.iter().map(|n| n.weights.clone()).collect();
        let bonds: Vec<Vec<(u16, u16)>> = s.neurons.iter().map(|n| n.bonds.clone()).collect();
        let last_update: Vec<u64> = s.neurons.iter().map(|n| n.last_update).collect();
        let registered: Vec<u64> = s.neurons.iter().map(|n| n.registered_at).collect();
        let mut permits = s.metagraph.validator_permit.clone();
        permits.resize(s.neurons.len(), false);
        let to_distribute = s.pending_server + s.pending_validator;
        // Each runtime's Yuma: v2.0.0's rules and defaults, then v3.1.6's (bonds penalty 65535,
        // nonzero-stake permits, bonds masked for uids registered since the last epoch).
        let owner_uid = s.neurons.iter().position(|n| n.hotkey == s.owner_hotkey).map(|uid| uid as u16);
        let rules = YumaRules::for_spec(self.spec.spec_version(), block, s.tempo, owner_uid);
        let params = YumaParams {
            max_allowed_validators: (self.cfg.max_uids / 4).max(1),
            bonds_penalty: if self.spec == Spec::Dtao233 { 0 } else { u16::MAX },
            rules,
            ..YumaParams::V2_0_0
        };
        // In the chain's own fixed point (I32F32), as subtensor runs it.
        let out = epoch_with::<I32F32>(&EpochInput {
            current_block: block,
            stake: &stake,
            weights: &weights,
            bonds: &bonds,
            last_update: &last_update,
            block_at_registration: &registered,
            validator_permit: &permits,
            params,
            emission: to_distribute,
        });

        // Pay out: miners' incentive as stake to their own coldkey, validators' dividends to
        // their nominators (minus the validator's take, paid as shares to its owner), and the
        // owner cut to the subnet owner's hotkey.
        let neurons = world.subnets[netuid as usize].neurons.clone();
        for (uid, n) in neurons.iter().enumerate() {
            let server = out.server_emission[uid];
            if server > 0 {
                world.add_stake_alpha(n.hotkey, n.coldkey, netuid, server);
            }
            let dividends = out.validator_emission[uid];
            if dividends > 0 {
                let take = (u128::from(dividends) * u128::from(DELEGATE_TAKE) / 65_535) as u64;
                world.add_stake_alpha(n.hotkey, n.coldkey, netuid, take);
                world.add_hotkey_alpha(n.hotkey, netuid, dividends - take);
            }
            world.put_dividends(netuid, n.hotkey, dividends);
        }
        let s = &mut world.subnets[netuid as usize];
        let (owner_hot, owner, owner_cut) = (s.owner_hotkey, s.owner, s.pending_owner);
        let paid: u64 = out.server_emission.iter().chain(&out.validator_emission).sum();
        // Rounding dust stays pending for the next epoch.
        let leftover = to_distribute.saturating_sub(paid);
        s.pending_server = leftover;
        s.pending_validator = 0;
        s.pending_owner = 0;
        for (n, row) in s.neurons.iter_mut().zip(&out.bonds) {
            n.bonds = row.clone();
        }
        s.metagraph.active = out.active.clone();
        s.metagraph.validator_permit = out.validator_permit.clone();
        s.metagraph.incentive = out.incentive.clone();
        s.metagraph.dividends = out.dividends.clone();
        s.metagraph.emission = out.emission.clone();
        s.metagraph.pruning_scores = out.pruning_scores.clone();
        s.last_step = block;
        if owner_cut > 0 {
            world.add_stake_alpha(owner_hot, owner, netuid, owner_cut);
        }
        world.write_metagraph(netuid, &out);
        world.write_pending(netuid);
        self.events.push((
            Phase::Initialization,
            Event::IncentiveAlphaEmittedToMiners { netuid, emissions: out.server_emission.clone() },
        ));
    }
}

impl super::world::World {
    /// Records `BlocksSinceLastStep` and `LastMechansimStepBlock`.
    pub fn put_step(&mut self, netuid: u16, since: u64, last: u64) {
        self.writes.insert(
            items::BLOCKS_SINCE_LAST_STEP.key(&netuid),
            Some(parity_scale_codec::Encode::encode(&since)),
        );
        self.writes.insert(
            items::LAST_MECHANISM_STEP_BLOCK.key(&netuid),
            Some(parity_scale_codec::Encode::encode(&last)),
        );
    }

    /// Records a hotkey's dividends of the last epoch.
    pub fn put_dividends(&mut self, netuid: u16, hotkey: crate::runtime::types::AccountId32, alpha: u64) {
        self.writes.insert(
            items::ALPHA_DIVIDENDS_PER_SUBNET.key(&netuid, &hotkey),
            Some(parity_scale_codec::Encode::encode(&alpha)),
        );
    }
}
