//! What the pipeline hands the store for one block: the raw block, its decoded extrinsics and
//! events, the typed rows derived from them, the state read at the block, and what failed to
//! decode.

use crate::decode::DecodedBlock;
use crate::extract::Typed;
use crate::node::RawBlock;
use crate::state::{MetagraphRow, PoolRow};

/// Something that did not decode, kept raw in `decode_failures`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// `events` | `extrinsic` | `event` | `storage` | `runtime_api`.
    pub kind: &'static str,
    /// Which one (extrinsic/event index, storage item with key).
    pub item: String,
    /// Why.
    pub reason: String,
    /// The bytes.
    pub raw: Vec<u8>,
}

/// State read at the block.
#[derive(Clone, Debug, Default)]
pub struct StateRows {
    /// Every subnet's pool (empty when not read at this block).
    pub pools: Vec<PoolRow>,
    /// Metagraphs of subnets whose epoch ran.
    pub metagraph: Vec<MetagraphRow>,
    /// The epochs that ran in the block.
    pub epochs: Vec<EpochRow>,
}

/// One block's rows.
#[derive(Clone, Debug)]
pub struct BlockRows {
    /// What the node returned.
    pub raw: RawBlock,
    /// The runtime that executed the block (the parent's post-state runtime).
    pub executing_spec: u32,
    /// Decoded extrinsics and events.
    pub decoded: DecodedBlock,
    /// Ledger, movements, registrations, weights, fees.
    pub typed: Typed,
    /// Pools and metagraphs.
    pub state: StateRows,
    /// What did not decode.
    pub failures: Vec<Failure>,
}

/// An epoch that ran in a block: the subnet, its uid count and the hyperparameters it read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpochRow {
    /// Subnet.
    pub netuid: u16,
    /// Uids in the metagraph.
    pub uids: u16,
    /// Yuma hyperparameters at the parent block.
    pub params: crate::state::EpochParams,
}
