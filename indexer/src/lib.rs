//! Chain to PostgreSQL: follows a subtensor node's finalized blocks and stores blocks,
//! extrinsics and events (raw SCALE bytes and decoded JSON), each block decoded with the
//! metadata of the runtime that executed it, resuming where it stopped.
//!
//! Stages: [`node`] fetches over RPC (subxt), [`decode`] turns bytes into rows, [`store`] writes
//! them with the checkpoint in one transaction, and [`follow`] drives the loop.

pub mod decode;
pub mod error;
pub mod extract;
pub mod follow;
pub mod inspect;
pub mod node;
pub mod reorg;
pub mod rows;
pub mod state;
pub mod storage;
pub mod store;

pub use error::IndexerError;
pub use follow::{Indexer, IndexerConfig, Progress, StageTimes};
pub use state::PoolSource;
