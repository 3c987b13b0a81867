//! Applying calls to the world: what each extrinsic does and which events it emits, in the
//! order finney emits them (fee withdrawal, the call's events, fee paid, success or failure).

use taoscope_math::pool::{FEE_RATE_DEFAULT, Pool, fee};

use super::Simulator;
use super::world::{IMMUNITY_PERIOD, Neuron};
use crate::extrinsic;
use crate::runtime::calls::{BalancesCall, RuntimeCall, SubtensorCall, SudoCall, SystemCall};
use crate::runtime::types::{AccountId32, DispatchClass, MultiAddress, Pays, Phase};
use crate::runtime::{Event, Failure};

/// Flat part of a transaction fee (rao).
const BASE_FEE: u64 = 100_000;
/// Per-byte part of a transaction fee (rao).
const BYTE_FEE: u64 = 1_000;
/// Smallest stake operation (rao), as on finney.
const MIN_STAKE: u64 = 500_000;
/// TAO locked to register a subnet.
pub const NETWORK_LOCK: u64 = 1_000 * super::actors::TAO;

impl Simulator {
    fn phase(&self) -> Phase {
        Phase::ApplyExtrinsic(self.extrinsics.len() as u32)
    }

    fn emit(&mut self, event: Event) {
        let phase = self.phase();
        self.events.push((phase, event));
    }

    /// Includes the `Timestamp.set` inherent.
    pub(super) fn apply_inherent(&mut self, call: RuntimeCall) {
        self.emit(Event::ExtrinsicSuccess {
            class: DispatchClass::Mandatory,
            pays_fee: Pays::Yes,
            ref_time: 8_000_000,
        });
        self.extrinsics.push(extrinsic::unsigned(&call));
    }

    /// Includes the sudo `System.set_code` that upgrades the runtime at the end of this block.
    pub(super) fn apply_upgrade(&mut self, block: u64, code: Vec<u8>) {
        let sudo = self.actors.sudo;
        let nonce = self.world.bump_nonce(sudo);
        let call = RuntimeCall::Sudo(SudoCall::sudo {
            call: Box::new(RuntimeCall::System(SystemCall::set_code { code })),
        });
        self.emit(Event::CodeUpdated);
        self.emit(Event::Sudid);
        self.emit(Event::ExtrinsicSuccess {
            class: DispatchClass::Operational,
            pays_fee: Pays::No,
            ref_time: 1_500_000_000,
        });
        self.extrinsics.push(extrinsic::signed(sudo, nonce, 0, block, &call));
    }

    /// Includes a signed transaction if `signer` can pay its fee; returns whether the call
    /// succeeded (`None`: not included).
    pub(super) fn submit(&mut self, signer: AccountId32, call: RuntimeCall, block: u64) -> Option<bool> {
        let nonce = self.world.accounts.get(&signer).map_or(0, |a| a.nonce);
        let xt = extrinsic::signed(signer, nonce, 0, block, &call);
        let fee = BASE_FEE + xt.len() as u64 * BYTE_FEE;
        if !self.world.debit(signer, fee) {
            return None;
        }
        self.world.bump_nonce(signer);
        self.world.total_issuance -= fee;
        self.emit(Event::Withdraw { who: signer, amount: fee });
        let result = self.dispatch(signer, &call, block);
        self.emit(Event::TransactionFeePaid { who: signer, actual_fee: fee, tip: 0 });
        let ref_time = 50_000_000 + xt.len() as u64 * 10_000;
        self.emit(match result {
            Ok(()) => Event::ExtrinsicSuccess { class: DispatchClass::Normal, pays_fee: Pays::Yes, ref_time },
            Err(failure) => Event::ExtrinsicFailed { failure, ref_time },
        });
        self.extrinsics.push(xt);
        Some(result.is_ok())
    }

    fn dispatch(&mut self, who: AccountId32, call: &RuntimeCall, block: u64) -> Result<(), Failure> {
        match call.clone() {
            RuntimeCall::SubtensorModule(c) => match c {
                SubtensorCall::add_stake { hotkey, netuid, amount_staked } => {
                    self.add_stake(who, hotkey, netuid, amount_staked)
                }
                SubtensorCall::remove_stake { hotkey, netuid, amount_unstaked } => {
                    self.remove_stake(who, hotkey, netuid, amount_unstaked)
                }
                SubtensorCall::move_stake {
                    origin_hotkey,
                    destination_hotkey,
                    origin_netuid,
                    destination_netuid,
                    alpha_amount,
                } => self.move_stake(
                    who,
                    origin_hotkey,
                    destination_hotkey,
                    origin_netuid,
                    destination_netuid,
                    alpha_amount,
                ),
                SubtensorCall::burned_register { netuid, hotkey } => {
                    self.register(who, netuid, hotkey, block)
                }
                SubtensorCall::register_network { hotkey } => self.register_network(who, hotkey, block),
                SubtensorCall::set_weights { netuid, dests, weights, .. } => {
                    self.set_weights(who, netuid, &dests, &weights, block)
                }
            },
            RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
                dest: MultiAddress::Id(to),
                value,
            }) => {
                if !self.world.debit(who, value) {
                    return Err(Failure::NotEnoughBalanceToStake);
                }
                self.world.credit(to, value);
                self.emit(Event::Transfer { from: who, to, amount: value });
                Ok(())
            }
            other => unreachable!("the simulator never sends {other:?}"),
        }
    }

    fn swap_fee(&self, amount: u64) -> u64 {
        if self.spec.stake_events_have_fee() { fee(amount, FEE_RATE_DEFAULT) } else { 0 }
    }

    fn pool(&mut self, netuid: u16) -> &mut Pool {
        &mut self.world.subnets[netuid as usize].pool
    }

    fn add_stake(
        &mut self,
        cold: AccountId32,
        hot: AccountId32,
        netuid: u16,
        tao: u64,
    ) -> Result<(), Failure> {
        if tao < MIN_STAKE {
            return Err(Failure::AmountTooLow);
        }
        if !self.world.debit(cold, tao) {
            return Err(Failure::NotEnoughBalanceToStake);
        }
        self.emit(Event::Withdraw { who: cold, amount: tao });
        self.stake_tao(cold, hot, netuid, tao);
        Ok(())
    }

    /// Swaps `tao` into `netuid`'s pool and credits the alpha to (hot, cold); emits StakeAdded.
    fn stake_tao(&mut self, cold: AccountId32, hot: AccountId32, netuid: u16, tao: u64) {
        let swap_fee = self.swap_fee(tao);
        let pool = self.pool(netuid);
        let alpha = pool.swap_tao_for_alpha(tao - swap_fee);
        pool.tao += swap_fee; // the fee stays with the pool's liquidity
        let s = &mut self.world.subnets[netuid as usize];
        s.alpha_out += alpha;
        s.volume += u128::from(tao);
        self.world.add_stake_alpha(hot, cold, netuid, alpha);
        self.world.write_pool(netuid);
        self.emit(Event::StakeAdded { coldkey: cold, hotkey: hot, tao, alpha, netuid, fee: swap_fee });
    }

    /// Takes `alpha` of (hot, cold)'s stake out through the pool; emits StakeRemoved; returns TAO.
    fn unstake_alpha(
        &mut self,
        cold: AccountId32,
        hot: AccountId32,
        netuid: u16,
        alpha: u64,
    ) -> Result<u64, Failure> {
        if alpha == 0 || self.world.stake_of(hot, cold, netuid) < alpha {
            return Err(Failure::NotEnoughStakeToWithdraw);
        }
        let swap_fee = self.swap_fee(alpha);
        let removed = self.world.remove_stake_alpha(hot, cold, netuid, alpha);
        let pool = self.pool(netuid);
        let tao = pool.swap_alpha_for_tao(removed - swap_fee);
        pool.alpha_in += swap_fee;
        let s = &mut self.world.subnets[netuid as usize];
        s.alpha_out -= removed;
        s.volume += u128::from(tao);
        self.world.write_pool(netuid);
        self.emit(Event::StakeRemoved {
            coldkey: cold,
            hotkey: hot,
            tao,
            alpha: removed - swap_fee,
            netuid,
            fee: swap_fee,
        });
        Ok(tao)
    }

    fn remove_stake(
        &mut self,
        cold: AccountId32,
        hot: AccountId32,
        netuid: u16,
        alpha: u64,
    ) -> Result<(), Failure> {
        let tao = self.unstake_alpha(cold, hot, netuid, alpha)?;
        self.world.credit(cold, tao);
        self.emit(Event::Deposit { who: cold, amount: tao });
        Ok(())
    }

    fn move_stake(
        &mut self,
        cold: AccountId32,
        from_hot: AccountId32,
        to_hot: AccountId32,
        from_net: u16,
        to_net: u16,
        alpha: u64,
    ) -> Result<(), Failure> {
        let tao = if from_net == to_net {
            // Within one subnet no swap happens: the alpha moves and both events carry its
            // TAO equivalent at the current price, with no fee (transfer_stake_within_subnet).
            if alpha == 0 || self.world.stake_of(from_hot, cold, from_net) < alpha {
                return Err(Failure::NotEnoughStakeToWithdraw);
            }
            let moved = self.world.remove_stake_alpha(from_hot, cold, from_net, alpha);
            let tao = (self.world.subnets[from_net as usize].pool.price() * moved as f64) as u64;
            self.emit(Event::StakeRemoved {
                coldkey: cold,
                hotkey: from_hot,
                tao,
                alpha: moved,
                netuid: from_net,
                fee: 0,
            });
            self.world.add_stake_alpha(to_hot, cold, to_net, moved);
            self.emit(Event::StakeAdded {
                coldkey: cold,
                hotkey: to_hot,
                tao,
                alpha: moved,
                netuid: to_net,
                fee: 0,
            });
            tao
        } else {
            let tao = self.unstake_alpha(cold, from_hot, from_net, alpha)?;
            if tao < MIN_STAKE {
                // Too little to re-stake: refund it to the coldkey like a plain unstake.
                self.world.credit(cold, tao);
                return Err(Failure::AmountTooLow);
            }
            self.stake_tao(cold, to_hot, to_net, tao);
            tao
        };
        self.emit(Event::StakeMoved {
            coldkey: cold,
            origin_hotkey: from_hot,
            origin_netuid: from_net,
            destination_hotkey: to_hot,
            destination_netuid: to_net,
            tao,
        });
        Ok(())
    }

    fn register(
        &mut self,
        cold: AccountId32,
        netuid: u16,
        hotkey: AccountId32,
        block: u64,
    ) -> Result<(), Failure> {
        let burn = self.world.subnets[netuid as usize].burn;
        if !self.world.debit(cold, burn) {
            return Err(Failure::NotEnoughBalanceToStake);
        }
        // Registration cost is recycled: it leaves the issuance.
        self.world.total_issuance -= burn;
        self.emit(Event::Withdraw { who: cold, amount: burn });
        let validator = self.pending_validators.remove(&hotkey);
        let neuron = Neuron {
            hotkey,
            coldkey: cold,
            registered_at: block,
            last_update: block,
            weights: vec![],
            bonds: vec![],
            quality: if validator { 0.0 } else { self.rng_quality() },
            validator,
        };
        let max_uids = self.cfg.max_uids as usize;
        let s = &mut self.world.subnets[netuid as usize];
        let (uid, replaced) = if s.neurons.len() < max_uids {
            s.neurons.push(neuron);
            (s.neurons.len() - 1, None)
        } else {
            // Replace the lowest-scoring neuron past its immunity (any, if all are immune);
            // validators are never pruned in the simulation.
            let immune = |n: &Neuron| n.registered_at + u64::from(IMMUNITY_PERIOD) > block;
            let score = |uid: usize| s.metagraph.pruning_scores.get(uid).copied().unwrap_or(0);
            let candidates: Vec<usize> = (0..s.neurons.len()).filter(|&u| !s.neurons[u].validator).collect();
            let pool: Vec<usize> =
                match candidates.iter().copied().filter(|&u| !immune(&s.neurons[u])).collect::<Vec<_>>() {
                    v if !v.is_empty() => v,
                    _ => candidates,
                };
            let Some(uid) = pool.into_iter().min_by_key(|&u| (score(u), u)) else {
                return Err(Failure::AmountTooLow);
            };
            let old = std::mem::replace(&mut s.neurons[uid], neuron);
            // Everyone's weights and bonds on the replaced uid are reset.
            for n in s.neurons.iter_mut() {
                n.weights.retain(|(d, _)| *d as usize != uid);
                n.bonds.retain(|(d, _)| *d as usize != uid);
            }
            (uid, Some(old.hotkey))
        };
        self.world.owners.insert(hotkey, cold);
        self.world.write_neuron(netuid, uid as u16, replaced);
        if replaced.is_some() {
            // Their rows changed in memory above: store them, weights and bonds alike.
            for other in 0..self.world.subnets[netuid as usize].neurons.len() as u16 {
                self.world.write_weights(netuid, other);
                self.world.write_bonds(netuid, other);
            }
        }
        self.emit(Event::NeuronRegistered { netuid, uid: uid as u16, hotkey });
        Ok(())
    }

    fn register_network(
        &mut self,
        cold: AccountId32,
        hotkey: AccountId32,
        block: u64,
    ) -> Result<(), Failure> {
        if !self.world.debit(cold, NETWORK_LOCK) {
            return Err(Failure::NotEnoughBalanceToStake);
        }
        self.emit(Event::Withdraw { who: cold, amount: NETWORK_LOCK });
        let netuid = self.world.subnets.len() as u16;
        let start_price = self.rng_start_price();
        let tao = NETWORK_LOCK;
        let subnet = super::world::Subnet {
            netuid,
            owner: cold,
            owner_hotkey: hotkey,
            registered_at: block,
            tempo: self.cfg.tempo,
            pool: Pool::new(tao, (tao as f64 / start_price) as u64),
            alpha_out: 0,
            moving_price: 0,
            volume: 0,
            burn: super::actors::TAO / 2 + u64::from(netuid) * super::actors::TAO / 20,
            neurons: vec![],
            pending_server: 0,
            pending_validator: 0,
            pending_owner: 0,
            metagraph: Default::default(),
            last_step: block,
        };
        self.world.subnets.push(subnet);
        self.world.owners.insert(hotkey, cold);
        self.world.write_subnet_params(netuid, self.cfg.max_uids);
        self.emit(Event::NetworkAdded { netuid, mechanism: 1 });
        Ok(())
    }

    fn set_weights(
        &mut self,
        who: AccountId32,
        netuid: u16,
        dests: &[u16],
        weights: &[u16],
        block: u64,
    ) -> Result<(), Failure> {
        let s = &mut self.world.subnets[netuid as usize];
        let Some(uid) = s.neurons.iter().position(|n| n.coldkey == who && n.validator) else {
            return Err(Failure::NotEnoughStakeToWithdraw);
        };
        // Stored rows are max-upscaled to u16::MAX, as the chain stores them.
        let max = weights.iter().copied().max().unwrap_or(0).max(1) as u64;
        let row: Vec<(u16, u16)> = dests
            .iter()
            .zip(weights)
            .filter(|(_, w)| **w > 0)
            .map(|(d, w)| (*d, (*w as u64 * 65_535 / max) as u16))
            .collect();
        let n = &mut s.neurons[uid];
        n.weights = row;
        n.last_update = block;
        self.world.write_weights(netuid, uid as u16);
        self.emit(Event::WeightsSet { netuid, uid: uid as u16 });
        Ok(())
    }
}
