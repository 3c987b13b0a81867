//! The events each runtime can emit, with finney's pallet and variant indices.
//!
//! Only the events the simulator produces are declared; their indices are the real ones so an
//! indexer decodes devnet blocks exactly as it decodes finney blocks. Spec 233 and spec 343 differ
//! where finney's did: newtype names, `StakeAdded`/`StakeRemoved` gaining `fee`, `WeightsSet`
//! keyed by `NetUidStorageIndex`, `IncentiveAlphaEmittedToMiners`, and `DispatchError::Trie`.

#![allow(non_camel_case_types)]

use parity_scale_codec::Encode;
use scale_info::TypeInfo;

use super::types::{
    AccountId32, AlphaCurrency, DispatchError233, DispatchError343, DispatchInfo, NetUid, NetUidStorageIndex,
    TaoCurrency,
};

/// `frame_system::Event`, generic over the runtime's `DispatchError`.
#[derive(Clone, Debug, Encode, TypeInfo)]
pub enum SystemEvent<E: TypeInfo + Encode + 'static> {
    /// An extrinsic completed successfully.
    #[codec(index = 0)]
    ExtrinsicSuccess {
        /// Weight and class.
        dispatch_info: DispatchInfo,
    },
    /// An extrinsic failed.
    #[codec(index = 1)]
    ExtrinsicFailed {
        /// Why.
        dispatch_error: E,
        /// Weight and class.
        dispatch_info: DispatchInfo,
    },
    /// `:code` was updated.
    #[codec(index = 2)]
    CodeUpdated,
    /// A new account was created.
    #[codec(index = 3)]
    NewAccount {
        /// The account.
        account: AccountId32,
    },
}

/// `pallet_balances::Event` (the subset the devnet emits).
#[allow(missing_docs)]
#[derive(Clone, Debug, Encode, TypeInfo)]
pub enum BalancesEvent {
    #[codec(index = 0)]
    Endowed { account: AccountId32, free_balance: u64 },
    #[codec(index = 2)]
    Transfer { from: AccountId32, to: AccountId32, amount: u64 },
    #[codec(index = 7)]
    Deposit { who: AccountId32, amount: u64 },
    #[codec(index = 8)]
    Withdraw { who: AccountId32, amount: u64 },
}

/// `pallet_transaction_payment::Event`.
#[allow(missing_docs)]
#[derive(Clone, Debug, Encode, TypeInfo)]
pub enum TransactionPaymentEvent {
    #[codec(index = 0)]
    TransactionFeePaid { who: AccountId32, actual_fee: u64, tip: u64 },
}

/// `pallet_sudo::Event`.
#[allow(missing_docs)]
#[derive(Clone, Debug, Encode, TypeInfo)]
pub enum SudoEvent<E: TypeInfo + Encode + 'static> {
    #[codec(index = 0)]
    Sudid { sudo_result: Result<(), E> },
}

/// Spec 233 (v2.0.0): plain integers, 5-field stake events.
pub mod spec233 {
    #![allow(missing_docs)]
    use super::{
        AccountId32, BalancesEvent, DispatchError233, Encode, SudoEvent, SystemEvent,
        TransactionPaymentEvent, TypeInfo,
    };

    /// `pallet_subtensor::Event`.
    #[derive(Clone, Debug, Encode, TypeInfo)]
    pub enum SubtensorEvent {
        #[codec(index = 0)]
        NetworkAdded(u16, u16),
        #[codec(index = 2)]
        StakeAdded(AccountId32, AccountId32, u64, u64, u16),
        #[codec(index = 3)]
        StakeRemoved(AccountId32, AccountId32, u64, u64, u16),
        #[codec(index = 4)]
        StakeMoved(AccountId32, AccountId32, u16, AccountId32, u16, u64),
        #[codec(index = 5)]
        WeightsSet(u16, u16),
        #[codec(index = 6)]
        NeuronRegistered(u16, u16, AccountId32),
        #[codec(index = 85)]
        StakeTransferred(AccountId32, AccountId32, AccountId32, u16, u16, u64),
        #[codec(index = 86)]
        StakeSwapped(AccountId32, AccountId32, u16, u16, u64),
    }

    /// `node_subtensor_runtime::RuntimeEvent`.
    #[derive(Clone, Debug, Encode, TypeInfo)]
    pub enum RuntimeEvent {
        #[codec(index = 0)]
        System(SystemEvent<DispatchError233>),
        #[codec(index = 5)]
        Balances(BalancesEvent),
        #[codec(index = 6)]
        TransactionPayment(TransactionPaymentEvent),
        #[codec(index = 7)]
        SubtensorModule(SubtensorEvent),
        #[codec(index = 12)]
        Sudo(SudoEvent<DispatchError233>),
    }
}

/// Spec 343 (v3.2.x): newtypes, `fee` on stake events, mechanism-indexed weights, per-epoch miner
/// emission vector.
pub mod spec343 {
    #![allow(missing_docs)]
    use super::{
        AccountId32, AlphaCurrency, BalancesEvent, DispatchError343, Encode, NetUid, NetUidStorageIndex,
        SudoEvent, SystemEvent, TaoCurrency, TransactionPaymentEvent, TypeInfo,
    };

    /// `pallet_subtensor::Event`.
    #[derive(Clone, Debug, Encode, TypeInfo)]
    pub enum SubtensorEvent {
        #[codec(index = 0)]
        NetworkAdded(NetUid, u16),
        #[codec(index = 2)]
        StakeAdded(AccountId32, AccountId32, TaoCurrency, AlphaCurrency, NetUid, u64),
        #[codec(index = 3)]
        StakeRemoved(AccountId32, AccountId32, TaoCurrency, AlphaCurrency, NetUid, u64),
        #[codec(index = 4)]
        StakeMoved(AccountId32, AccountId32, NetUid, AccountId32, NetUid, TaoCurrency),
        #[codec(index = 5)]
        WeightsSet(NetUidStorageIndex, u16),
        #[codec(index = 6)]
        NeuronRegistered(NetUid, u16, AccountId32),
        #[codec(index = 85)]
        StakeTransferred(AccountId32, AccountId32, AccountId32, NetUid, NetUid, TaoCurrency),
        #[codec(index = 86)]
        StakeSwapped(AccountId32, AccountId32, NetUid, NetUid, TaoCurrency),
        #[codec(index = 104)]
        IncentiveAlphaEmittedToMiners { netuid: NetUidStorageIndex, emissions: Vec<AlphaCurrency> },
    }

    /// `node_subtensor_runtime::RuntimeEvent`.
    #[derive(Clone, Debug, Encode, TypeInfo)]
    pub enum RuntimeEvent {
        #[codec(index = 0)]
        System(SystemEvent<DispatchError343>),
        #[codec(index = 5)]
        Balances(BalancesEvent),
        #[codec(index = 6)]
        TransactionPayment(TransactionPaymentEvent),
        #[codec(index = 7)]
        SubtensorModule(SubtensorEvent),
        #[codec(index = 12)]
        Sudo(SudoEvent<DispatchError343>),
    }
}

/// `frame_system::EventRecord<E = RuntimeEvent, T = H256>`.
#[derive(Clone, Debug, Encode, TypeInfo)]
pub struct EventRecord<E: TypeInfo + Encode + 'static, T: TypeInfo + Encode + 'static> {
    /// When in the block the event was emitted.
    pub phase: super::types::Phase,
    /// The event.
    pub event: E,
    /// Indexed topics (always empty on subtensor).
    pub topics: Vec<T>,
}
