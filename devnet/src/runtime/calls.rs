//! The calls the devnet's extrinsics carry, with finney's pallet and call indices.
//!
//! The call set is the same in both runtimes (finney kept these signatures from spec 233 to 343),
//! so one `RuntimeCall` serves both.

#![allow(non_camel_case_types, missing_docs)]

use parity_scale_codec::{Decode, Encode};
use scale_info::TypeInfo;

use super::types::{AccountId32, Address};

/// `frame_system::Call`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum SystemCall {
    #[codec(index = 2)]
    set_code { code: Vec<u8> },
}

/// `pallet_timestamp::Call`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum TimestampCall {
    #[codec(index = 0)]
    set {
        #[codec(compact)]
        now: u64,
    },
}

/// `pallet_balances::Call`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum BalancesCall {
    #[codec(index = 3)]
    transfer_keep_alive {
        dest: Address,
        #[codec(compact)]
        value: u64,
    },
}

/// `pallet_subtensor::Call` (the subset the simulated users send).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum SubtensorCall {
    #[codec(index = 0)]
    set_weights { netuid: u16, dests: Vec<u16>, weights: Vec<u16>, version_key: u64 },
    #[codec(index = 2)]
    add_stake { hotkey: AccountId32, netuid: u16, amount_staked: u64 },
    #[codec(index = 3)]
    remove_stake { hotkey: AccountId32, netuid: u16, amount_unstaked: u64 },
    #[codec(index = 7)]
    burned_register { netuid: u16, hotkey: AccountId32 },
    #[codec(index = 59)]
    register_network { hotkey: AccountId32 },
    #[codec(index = 85)]
    move_stake {
        origin_hotkey: AccountId32,
        destination_hotkey: AccountId32,
        origin_netuid: u16,
        destination_netuid: u16,
        alpha_amount: u64,
    },
}

/// `pallet_sudo::Call`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum SudoCall {
    #[codec(index = 0)]
    sudo { call: Box<RuntimeCall> },
}

/// `node_subtensor_runtime::RuntimeCall`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum RuntimeCall {
    #[codec(index = 0)]
    System(SystemCall),
    #[codec(index = 2)]
    Timestamp(TimestampCall),
    #[codec(index = 5)]
    Balances(BalancesCall),
    #[codec(index = 7)]
    SubtensorModule(SubtensorCall),
    #[codec(index = 12)]
    Sudo(SudoCall),
}
