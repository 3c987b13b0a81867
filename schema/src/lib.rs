//! Taoscope's shared vocabulary: the domain types every crate speaks (block numbers, subnet ids,
//! amounts in rao, SS58 accounts), the PostgreSQL schema as embedded forward-only migrations, and
//! the runner that applies them.
//!
//! This crate is deliberately small: no chain client, no HTTP, no dataframes. The indexer, the
//! analytics jobs and the API meet only in PostgreSQL, and this crate is the contract between them.

pub mod epoch;
pub mod migrate;
pub mod ss58;
pub mod tables;
#[cfg(feature = "testing")]
pub mod testing;
pub mod types;

pub use epoch::EpochParams;
pub use migrate::{MIGRATIONS, MigrateError, Migration, migrate};
pub use ss58::{AccountId, SS58_PREFIX, Ss58Error};
pub use types::{AlphaRao, BlockHash, BlockNumber, NetUid, Rao, SpecVersion, Uid};
