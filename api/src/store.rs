//! The API's access to PostgreSQL: the read-only pool ([`postgres`]), the rows the core queries
//! return, and [`StoreError`]. Each GraphQL domain module keeps its own SQL next to the resolver
//! that runs it and reaches the database through [`PgStore`](postgres::PgStore).

pub mod postgres;

use chrono::{DateTime, Utc};
use taoscope_schema::{BlockHash, BlockNumber, SpecVersion};

/// The indexer stage whose checkpoint defines the indexed height.
pub const BLOCKS_STAGE: &str = "blocks";

/// Chain identity and progress. Every field is `None` on a database the indexer has not filled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainStatus {
    /// `chain.chain_name`.
    pub chain: Option<String>,
    /// `chain.genesis_hash`.
    pub genesis_hash: Option<BlockHash>,
    /// The node's finalized head as last seen by the indexer (`chain_head`).
    pub finalized: Option<BlockNumber>,
    /// The `blocks` stage checkpoint, or else the highest block row.
    pub indexed: Option<BlockNumber>,
    /// The runtime of the highest indexed block.
    pub spec_version: Option<SpecVersion>,
    /// The last block the analytics jobs have computed (`analytics_progress`).
    pub analytics: Option<BlockNumber>,
}

/// One `blocks` row, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlock {
    /// Height.
    pub number: BlockNumber,
    /// Header hash.
    pub hash: BlockHash,
    /// Parent header hash (all zeroes for genesis).
    pub parent_hash: BlockHash,
    /// From the `Timestamp.set` inherent; `None` for genesis.
    pub timestamp: Option<DateTime<Utc>>,
    /// The runtime that executed the block.
    pub spec_version: SpecVersion,
    /// Events emitted by the block.
    pub event_count: u32,
    /// Extrinsics in the block body.
    pub extrinsic_count: u32,
}

/// A page of blocks, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockPage {
    /// At most the requested number of blocks, descending by number.
    pub blocks: Vec<StoredBlock>,
    /// Whether older blocks exist beyond this page.
    pub has_older: bool,
    /// Whether blocks at or above the `before` bound exist (always `false` without one).
    pub has_newer: bool,
}

/// Why the store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL does not parse.
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] tokio_postgres::Error),
    /// The connection pool could not be built.
    #[error("cannot build the connection pool: {0}")]
    PoolBuild(#[source] deadpool_postgres::BuildError),
    /// No connection could be obtained (database down, pool exhausted, timeout).
    #[error("no database connection: {0}")]
    Pool(#[source] deadpool_postgres::PoolError),
    /// A query failed.
    #[error("query {query} failed: {source}")]
    Query {
        /// Which query (the constant's name).
        query: &'static str,
        /// The database error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A row holds a value the schema forbids (e.g. a hash that is not 32 bytes).
    #[error("corrupt row: {what} = {value}")]
    Corrupt {
        /// Table and column.
        what: &'static str,
        /// The offending value, for the log.
        value: String,
    },
}

impl StoreError {
    /// Whether the database itself is out of reach (rather than a query or the data being
    /// wrong): the API answers "unavailable" instead of "internal error", and a retry may help.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Pool(_) => true,
            StoreError::Query { source, .. } => source.is_closed(),
            StoreError::InvalidUrl(_) | StoreError::PoolBuild(_) | StoreError::Corrupt { .. } => false,
        }
    }
}
