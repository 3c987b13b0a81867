//! [`Store`] over PostgreSQL through a `deadpool-postgres` pool, with the API's SQL as constants
//! next to the code that runs it.
//!
//! The pool fails fast: connecting, waiting for a free connection and recycling one are each
//! bounded, so a dead database turns into a prompt "unavailable" answer, never a hung request.
//! Sessions are read-only and every statement has a timeout: the API never writes.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use taoscope_schema::{BlockHash, BlockNumber, SpecVersion};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

use crate::store::{BLOCKS_STAGE, BlockPage, ChainStatus, StoreError, StoredBlock};

/// Bound on opening a connection, on waiting for a pooled one, and on recycling one.
pub const POOL_TIMEOUT: Duration = Duration::from_secs(3);

/// Session settings for API connections: read-only, and no statement outlives the request
/// timeout.
const SESSION_OPTIONS: &str = "-c default_transaction_read_only=on -c statement_timeout=30000";

/// The read-only role of migration 0005, which API sessions assume when they may.
pub const READER_ROLE: &str = "taoscope_reader";
/// Whether this session may assume [`READER_ROLE`] (it exists, and the user is a member or a
/// superuser).
const MAY_ASSUME_READER: &str = "
    SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'taoscope_reader')
                THEN pg_has_role(session_user, 'taoscope_reader', 'MEMBER') ELSE false END";

const STATUS: &str = "
    WITH indexed AS (
        SELECT COALESCE(
            (SELECT block_number FROM indexer_progress WHERE stage = $1),
            (SELECT max(number) FROM blocks)) AS number)
    SELECT c.chain_name, c.genesis_hash, h.finalized_number, i.number,
           (SELECT b.spec_version FROM blocks b
             WHERE b.number <= i.number ORDER BY b.number DESC LIMIT 1),
           (SELECT min(block_number) FROM analytics_progress)
      FROM indexed i
      LEFT JOIN chain c ON true
      LEFT JOIN chain_head h ON true";

/// The `blocks` columns [`block`] decodes, in order (a macro so `concat!` can splice it).
macro_rules! block_columns {
    () => {
        "number, hash, parent_hash, timestamp, spec_version, event_count, extrinsic_count"
    };
}

// Two statements rather than `$1 IS NULL OR number < $1`, so both plan as a bounded backward
// scan of the primary key at any depth.
const BLOCKS_NEWEST: &str =
    concat!("SELECT ", block_columns!(), " FROM blocks ORDER BY number DESC LIMIT $1");
const BLOCKS_BEFORE: &str =
    concat!("SELECT ", block_columns!(), " FROM blocks WHERE number < $1 ORDER BY number DESC LIMIT $2");
const BLOCKS_AT_OR_ABOVE: &str = "SELECT EXISTS (SELECT 1 FROM blocks WHERE number >= $1)";
const BLOCK_BY_NUMBER: &str = concat!("SELECT ", block_columns!(), " FROM blocks WHERE number = $1");
const BLOCK_BY_HASH: &str = concat!("SELECT ", block_columns!(), " FROM blocks WHERE hash = $1");
const BLOCKS_BETWEEN: &str =
    concat!("SELECT ", block_columns!(), " FROM blocks WHERE number > $1 AND number <= $2 ORDER BY number");
const APPLIED_MIGRATIONS: &str = "SELECT version FROM schema_migrations ORDER BY version";

/// Builds a connection pool for `database_url` (`postgres://...` or key=value form, no TLS)
/// holding at most `max_size` connections. Nothing connects until the first query. Each new
/// connection is a read-only session and assumes the read-only role [`READER_ROLE`] when the
/// database has it and the user may.
pub fn pool(database_url: &str, max_size: usize) -> Result<Pool, StoreError> {
    let mut config = tokio_postgres::Config::from_str(database_url).map_err(StoreError::InvalidUrl)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(POOL_TIMEOUT);
    }
    let options = match config.get_options() {
        Some(user) if !user.is_empty() => format!("{user} {SESSION_OPTIONS}"),
        _ => SESSION_OPTIONS.to_string(),
    };
    config.options(&options);
    let manager =
        Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager)
        .post_create(Hook::async_fn(|client, _| {
            Box::pin(async move {
                let may: bool =
                    client.query_one(MAY_ASSUME_READER, &[]).await.map_err(HookError::Backend)?.get(0);
                if may {
                    client
                        .batch_execute(&format!("SET ROLE {READER_ROLE}"))
                        .await
                        .map_err(HookError::Backend)?;
                }
                Ok(())
            })
        }))
        .max_size(max_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(POOL_TIMEOUT))
        .create_timeout(Some(POOL_TIMEOUT))
        .recycle_timeout(Some(POOL_TIMEOUT))
        .build()
        .map_err(StoreError::PoolBuild)
}

/// The PostgreSQL [`Store`].
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// Wraps a pool (see [`pool`]).
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// A pooled connection.
    pub async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool.get().await.map_err(StoreError::Pool)
    }

    /// Chain identity and heights, for the `status` query.
    pub async fn status(&self) -> Result<ChainStatus, StoreError> {
        let client = self.client().await?;
        let row = client.query_one(STATUS, &[&BLOCKS_STAGE]).await.map_err(query_err("STATUS"))?;
        let genesis: Option<Vec<u8>> = row.get(1);
        let spec: Option<i32> = row.get(4);
        Ok(ChainStatus {
            chain: row.get(0),
            genesis_hash: genesis.map(|h| hash("chain.genesis_hash", h)).transpose()?,
            finalized: row
                .get::<_, Option<i64>>(2)
                .map(|n| number("chain_head.finalized_number", n))
                .transpose()?,
            indexed: row.get::<_, Option<i64>>(3).map(|n| number("blocks.number", n)).transpose()?,
            spec_version: spec.map(spec_version).transpose()?,
            analytics: row
                .get::<_, Option<i64>>(5)
                .map(|n| number("analytics_progress.block_number", n))
                .transpose()?,
        })
    }

    /// Up to `limit` blocks, newest first, with numbers below `before` (all blocks when `None`).
    pub async fn blocks_page(
        &self,
        before: Option<BlockNumber>,
        limit: u32,
    ) -> Result<BlockPage, StoreError> {
        let client = self.client().await?;
        // One row more than asked tells whether another page follows.
        let fetch = i64::from(limit) + 1;
        let (rows, has_newer) = match before {
            None => {
                let rows =
                    client.query(BLOCKS_NEWEST, &[&fetch]).await.map_err(query_err("BLOCKS_NEWEST"))?;
                (rows, false)
            }
            Some(before) => {
                let before = db_number(before);
                let rows = client
                    .query(BLOCKS_BEFORE, &[&before, &fetch])
                    .await
                    .map_err(query_err("BLOCKS_BEFORE"))?;
                let newer: bool = client
                    .query_one(BLOCKS_AT_OR_ABOVE, &[&before])
                    .await
                    .map_err(query_err("BLOCKS_AT_OR_ABOVE"))?
                    .get(0);
                (rows, newer)
            }
        };
        let has_older = rows.len() > limit as usize;
        let blocks = rows.iter().take(limit as usize).map(block).collect::<Result<_, _>>()?;
        Ok(BlockPage { blocks, has_older, has_newer })
    }

    /// Blocks `(after, upto]`, ascending.
    pub async fn blocks_between(&self, after: i64, upto: i64) -> Result<Vec<StoredBlock>, StoreError> {
        let client = self.client().await?;
        let rows =
            client.query(BLOCKS_BETWEEN, &[&after, &upto]).await.map_err(query_err("BLOCKS_BETWEEN"))?;
        rows.iter().map(block).collect()
    }

    /// The block at `number`, if indexed.
    pub async fn block_by_number(&self, number: BlockNumber) -> Result<Option<StoredBlock>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(BLOCK_BY_NUMBER, &[&db_number(number)])
            .await
            .map_err(query_err("BLOCK_BY_NUMBER"))?;
        row.as_ref().map(block).transpose()
    }

    /// The block with `hash`, if indexed.
    pub async fn block_by_hash(&self, hash: BlockHash) -> Result<Option<StoredBlock>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(BLOCK_BY_HASH, &[&hash.0.as_slice()])
            .await
            .map_err(query_err("BLOCK_BY_HASH"))?;
        row.as_ref().map(block).transpose()
    }

    /// Versions recorded in `schema_migrations`, ascending; empty when the ledger does not
    /// exist. A successful answer also proves that the database is reachable.
    pub async fn applied_migrations(&self) -> Result<Vec<i32>, StoreError> {
        let client = self.client().await?;
        match client.query(APPLIED_MIGRATIONS, &[]).await {
            Ok(rows) => Ok(rows.iter().map(|r| r.get(0)).collect()),
            // No ledger yet: nothing was ever migrated.
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(Vec::new()),
            Err(e) => Err(query_err("APPLIED_MIGRATIONS")(e)),
        }
    }
}

/// Maps a failed query to [`StoreError::Query`] naming it.
pub fn query_err(query: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |source| StoreError::Query { query, source }
}

/// Block numbers are `bigint`; the API only builds them from values that fit (see the
/// `BlockNumber` scalar), so saturating is unreachable in practice and harmless if not.
pub fn db_number(n: BlockNumber) -> i64 {
    i64::try_from(n.0).unwrap_or(i64::MAX)
}

/// A `bigint` block number column.
pub fn number(what: &'static str, n: i64) -> Result<BlockNumber, StoreError> {
    u64::try_from(n).map(BlockNumber).map_err(|_| corrupt(what, n))
}

/// A 32-byte hash column.
pub fn hash(what: &'static str, bytes: Vec<u8>) -> Result<BlockHash, StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(BlockHash)
        .map_err(|_| corrupt(what, format!("{} bytes", bytes.len())))
}

fn spec_version(v: i32) -> Result<SpecVersion, StoreError> {
    u32::try_from(v).map(SpecVersion).map_err(|_| corrupt("spec_version", v))
}

fn count(what: &'static str, n: i32) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| corrupt(what, n))
}

/// A value the schema forbids.
pub fn corrupt(what: &'static str, value: impl ToString) -> StoreError {
    StoreError::Corrupt { what, value: value.to_string() }
}

/// Decodes a row selected with `block_columns!()`.
fn block(row: &Row) -> Result<StoredBlock, StoreError> {
    Ok(StoredBlock {
        number: number("blocks.number", row.get(0))?,
        hash: hash("blocks.hash", row.get(1))?,
        parent_hash: hash("blocks.parent_hash", row.get(2))?,
        timestamp: row.get(3),
        spec_version: spec_version(row.get(4))?,
        event_count: count("blocks.event_count", row.get(5))?,
        extrinsic_count: count("blocks.extrinsic_count", row.get(6))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_urls_are_refused_without_connecting() {
        assert!(matches!(pool("postgres://u@h:notaport/x", 1), Err(StoreError::InvalidUrl(_))));
        assert!(pool("postgres://postgres@127.0.0.1:1/x", 2).is_ok());
    }

    #[test]
    fn hashes_must_be_32_bytes() {
        assert!(hash("t", vec![0; 31]).is_err());
        assert_eq!(hash("t", vec![7; 32]).unwrap(), BlockHash([7; 32]));
        assert!(number("t", -1).is_err());
    }
}
