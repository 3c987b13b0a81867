//! What the API reads from the database, as a trait: the GraphQL resolvers and the probes depend
//! only on [`Store`], never on SQL, so they can be tested against another implementation and the
//! queries live in one place ([`postgres`]).
//!
//! The methods return boxed futures so that the trait stays object-safe (`Arc<dyn Store>`)
//! without an `async-trait` dependency.

pub mod postgres;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use taoscope_schema::{BlockHash, BlockNumber, SpecVersion};

/// The indexer stage whose checkpoint defines the indexed height.
pub const BLOCKS_STAGE: &str = "blocks";

/// Read access to the indexed chain.
pub trait Store: Send + Sync + 'static {
    /// Chain identity and heights, for the `status` query.
    fn status(&self) -> BoxFuture<'_, Result<ChainStatus, StoreError>>;

    /// Up to `limit` blocks, newest first, with numbers below `before` (all blocks when `None`).
    fn blocks_page(
        &self,
        before: Option<BlockNumber>,
        limit: u32,
    ) -> BoxFuture<'_, Result<BlockPage, StoreError>>;

    /// The block at `number`, if indexed.
    fn block_by_number(&self, number: BlockNumber) -> BoxFuture<'_, Result<Option<StoredBlock>, StoreError>>;

    /// The block with `hash`, if indexed.
    fn block_by_hash(&self, hash: BlockHash) -> BoxFuture<'_, Result<Option<StoredBlock>, StoreError>>;

    /// Versions recorded in `schema_migrations`, ascending; empty when the ledger does not
    /// exist. A successful answer also proves that the database is reachable.
    fn applied_migrations(&self) -> BoxFuture<'_, Result<Vec<i32>, StoreError>>;
}

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
