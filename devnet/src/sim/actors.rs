//! The simulated population: deterministic keys for the sudo account, subnet owners, validators,
//! miners and stakers, and their genesis endowments.

use parity_scale_codec::Encode;
use sp_crypto_hashing::blake2_256;

use crate::runtime::types::AccountId32;

/// One TAO in rao.
pub const TAO: u64 = 1_000_000_000;

/// A deterministic account for `role` number `i` under `seed`.
pub fn key(seed: u64, role: &str, i: u64) -> AccountId32 {
    AccountId32(blake2_256(&(seed, role, i).encode()))
}

/// The accounts of a devnet.
#[derive(Clone)]
pub struct Actors {
    seed: u64,
    /// The sudo key (signs the runtime upgrade).
    pub sudo: AccountId32,
    /// Coldkeys that trade stake.
    pub stakers: Vec<AccountId32>,
    /// Coldkeys that own miners.
    pub miner_colds: Vec<AccountId32>,
}

/// Validators per subnet.
pub const VALIDATORS_PER_SUBNET: u16 = 4;

impl Actors {
    /// The population for `seed`.
    pub fn new(seed: u64, stakers: usize) -> Actors {
        Actors {
            seed,
            sudo: key(seed, "sudo", 0),
            stakers: (0..stakers as u64).map(|i| key(seed, "staker", i)).collect(),
            miner_colds: (0..24).map(|i| key(seed, "miner-cold", i)).collect(),
        }
    }

    /// Owner coldkey of subnet `netuid`.
    pub fn owner_cold(&self, netuid: u16) -> AccountId32 {
        key(self.seed, "owner-cold", netuid.into())
    }

    /// Owner hotkey of subnet `netuid`.
    pub fn owner_hot(&self, netuid: u16) -> AccountId32 {
        key(self.seed, "owner-hot", netuid.into())
    }

    /// Coldkey of validator `k` of subnet `netuid`.
    pub fn validator_cold(&self, netuid: u16, k: u16) -> AccountId32 {
        key(self.seed, "validator-cold", u64::from(netuid) << 16 | u64::from(k))
    }

    /// Hotkey of validator `k` of subnet `netuid`.
    pub fn validator_hot(&self, netuid: u16, k: u16) -> AccountId32 {
        key(self.seed, "validator-hot", u64::from(netuid) << 16 | u64::from(k))
    }

    /// The `i`-th miner hotkey ever created.
    pub fn miner_hot(&self, i: u64) -> AccountId32 {
        key(self.seed, "miner-hot", i)
    }
}
