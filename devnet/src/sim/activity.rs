//! What the simulated users do each block: subnet owners register networks, validators and
//! miners register and set weights, stakers add, remove and move stake and send transfers.
//! All choices come from the seeded RNG, so a seed fixes the whole history.

use rand::Rng;
use rand::seq::IndexedRandom;

use super::Simulator;
use super::actors::{TAO, VALIDATORS_PER_SUBNET};
use crate::runtime::calls::{BalancesCall, RuntimeCall, SubtensorCall};
use crate::runtime::types::{AccountId32, Address};

/// Neurons each subnet starts with (validators included).
const INITIAL_NEURONS: u16 = 16;
/// Registrations the bootstrap packs into one block.
const BOOTSTRAP_PER_BLOCK: usize = 32;

fn stake(hotkey: AccountId32, netuid: u16, amount_staked: u64) -> RuntimeCall {
    RuntimeCall::SubtensorModule(SubtensorCall::add_stake { hotkey, netuid, amount_staked })
}

impl Simulator {
    /// Sends this block's transactions.
    pub(super) fn activity(&mut self, block: u64) {
        if block == 1 {
            for netuid in 1..=self.cfg.subnets {
                let (cold, hot) = (self.actors.owner_cold(netuid), self.actors.owner_hot(netuid));
                self.submit(
                    cold,
                    RuntimeCall::SubtensorModule(SubtensorCall::register_network { hotkey: hot }),
                    block,
                );
            }
            return;
        }
        if self.bootstrap(block) {
            return;
        }
        self.validators_stake_and_weigh(block);
        self.trades(block);
        self.new_miners(block);
    }

    /// Registers each subnet's first validators and miners; true while that is still going on.
    fn bootstrap(&mut self, block: u64) -> bool {
        let mut sent = 0;
        for netuid in 1..self.world.subnets.len() as u16 {
            while (self.world.subnets[netuid as usize].neurons.len() as u16)
                < INITIAL_NEURONS.min(self.cfg.max_uids)
            {
                if sent == BOOTSTRAP_PER_BLOCK {
                    return true;
                }
                let k = self.world.subnets[netuid as usize].neurons.len() as u16;
                let (cold, hot) = if k < VALIDATORS_PER_SUBNET {
                    let hot = self.actors.validator_hot(netuid, k);
                    self.pending_validators.insert(hot);
                    (self.actors.validator_cold(netuid, k), hot)
                } else {
                    self.next_miner_keys()
                };
                let call =
                    RuntimeCall::SubtensorModule(SubtensorCall::burned_register { netuid, hotkey: hot });
                if self.submit(cold, call, block) != Some(true) {
                    self.pending_validators.remove(&hot);
                    return true;
                }
                sent += 1;
            }
        }
        sent > 0
    }

    fn next_miner_keys(&mut self) -> (AccountId32, AccountId32) {
        let hot = self.actors.miner_hot(self.next_miner);
        self.next_miner += 1;
        let cold = *self.actors.miner_colds.choose(&mut self.rng).expect("miner coldkeys");
        (cold, hot)
    }

    /// Validators keep a stake on their own hotkey and set weights every half tempo.
    fn validators_stake_and_weigh(&mut self, block: u64) {
        let interval = u64::from(self.cfg.tempo / 2).max(1);
        for netuid in 1..self.world.subnets.len() as u16 {
            let s = &self.world.subnets[netuid as usize];
            let validators: Vec<(usize, AccountId32, AccountId32)> = s
                .neurons
                .iter()
                .enumerate()
                .filter(|(_, n)| n.validator)
                .map(|(uid, n)| (uid, n.hotkey, n.coldkey))
                .collect();
            for (uid, hot, cold) in validators {
                if self.world.stake_of(hot, cold, netuid) == 0 && self.world.free(&cold) > 600 * TAO {
                    let amount = self.rng.random_range(100..500) * TAO;
                    self.submit(cold, stake(hot, netuid, amount), block);
                }
                if (block + uid as u64 * 7 + u64::from(netuid)).is_multiple_of(interval) {
                    let call = self.weights_call(netuid, uid);
                    self.submit(cold, call, block);
                }
            }
        }
    }

    /// A validator's view of its subnet's miners: their hidden quality with noise.
    fn weights_call(&mut self, netuid: u16, me: usize) -> RuntimeCall {
        let s = &self.world.subnets[netuid as usize];
        let scored: Vec<(u16, f64)> = s
            .neurons
            .iter()
            .enumerate()
            .filter(|(uid, n)| *uid != me && !n.validator)
            .map(|(uid, n)| (uid as u16, n.quality))
            .collect();
        let mut dests = Vec::new();
        let mut weights = Vec::new();
        for (uid, q) in scored {
            let w = q * self.rng.random_range(0.8..1.2);
            dests.push(uid);
            weights.push((w * 10_000.0) as u16);
        }
        RuntimeCall::SubtensorModule(SubtensorCall::set_weights { netuid, dests, weights, version_key: 0 })
    }

    /// Stakers trade: add, remove and move stake, transfer TAO; a few of their transactions fail.
    fn trades(&mut self, block: u64) {
        let n = self.rng.random_range(0..=2 * self.cfg.trades_per_block);
        for _ in 0..n {
            let who = *self.actors.stakers.choose(&mut self.rng).expect("stakers");
            let roll: f64 = self.rng.random();
            let call = if roll < 0.45 {
                self.add_stake_call(who)
            } else if roll < 0.80 {
                self.remove_stake_call(who, roll < 0.47)
            } else if roll < 0.92 {
                self.move_stake_call(who)
            } else {
                let to = *self.actors.stakers.choose(&mut self.rng).expect("stakers");
                let value = (self.world.free(&who) / 50).max(TAO / 10);
                Some(RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
                    dest: Address::Id(to),
                    value,
                }))
            };
            if let Some(call) = call {
                self.submit(who, call, block);
            }
        }
    }

    fn random_validator(&mut self, netuid: u16) -> Option<AccountId32> {
        let s = &self.world.subnets[netuid as usize];
        let v: Vec<AccountId32> = s.neurons.iter().filter(|n| n.validator).map(|n| n.hotkey).collect();
        v.choose(&mut self.rng).copied()
    }

    fn random_subnet(&mut self) -> u16 {
        self.rng.random_range(1..self.world.subnets.len() as u16)
    }

    fn add_stake_call(&mut self, who: AccountId32) -> Option<RuntimeCall> {
        let netuid = self.random_subnet();
        let hot = self.random_validator(netuid)?;
        let free = self.world.free(&who);
        let amount = ((free as f64 * self.rng.random_range(0.01..0.15)) as u64).max(TAO);
        Some(stake(hot, netuid, amount))
    }

    /// Unstakes part of a position; `overdraw` asks for more than is held (the call fails).
    fn remove_stake_call(&mut self, who: AccountId32, overdraw: bool) -> Option<RuntimeCall> {
        let (hot, netuid, held) = self.random_position(who)?;
        let amount = if overdraw {
            held + TAO
        } else if self.rng.random_bool(0.3) {
            held
        } else {
            (held as f64 * self.rng.random_range(0.1..0.9)) as u64
        };
        Some(RuntimeCall::SubtensorModule(SubtensorCall::remove_stake {
            hotkey: hot,
            netuid,
            amount_unstaked: amount,
        }))
    }

    fn move_stake_call(&mut self, who: AccountId32) -> Option<RuntimeCall> {
        let (from_hot, from_net, held) = self.random_position(who)?;
        let to_net = if self.rng.random_bool(0.2) { from_net } else { self.random_subnet() };
        let to_hot = self.random_validator(to_net)?;
        let amount = (held as f64 * self.rng.random_range(0.2..1.0)) as u64;
        Some(RuntimeCall::SubtensorModule(SubtensorCall::move_stake {
            origin_hotkey: from_hot,
            destination_hotkey: to_hot,
            origin_netuid: from_net,
            destination_netuid: to_net,
            alpha_amount: amount,
        }))
    }

    fn random_position(&mut self, who: AccountId32) -> Option<(AccountId32, u16, u64)> {
        let positions: Vec<(AccountId32, u16)> =
            self.world.positions.get(&who).map(|p| p.iter().copied().collect()).unwrap_or_default();
        let (hot, net) = *positions.choose(&mut self.rng)?;
        Some((hot, net, self.world.stake_of(hot, who, net)))
    }

    /// Now and then a new miner registers somewhere (replacing a pruned uid once a subnet is full).
    fn new_miners(&mut self, block: u64) {
        if !self.rng.random_bool(0.2) {
            return;
        }
        let netuid = self.random_subnet();
        let (cold, hot) = self.next_miner_keys();
        self.submit(
            cold,
            RuntimeCall::SubtensorModule(SubtensorCall::burned_register { netuid, hotkey: hot }),
            block,
        );
    }
}
