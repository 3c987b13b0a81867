//! The indexer's PostgreSQL side: chain identity, the single-writer lock, resume point, cached
//! runtimes, and batch writes (binary `COPY` straight into the tables, with the checkpoint and
//! `NOTIFY` in the same transaction; the tables are in [`copy`], the subnet identities in
//! [`subnets`]).

mod copy;
pub mod numeric;
mod subnets;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use taoscope_schema::tables::BLOCK_TABLES;
use tokio_postgres::{Client, NoTls};

use crate::decode::Runtime;
use crate::error::IndexerError;
use crate::node::{ChainIdentity, RuntimeInfo};
pub use crate::rows::BlockRows;

/// The `indexer_progress` stage this crate advances.
pub const STAGE_BLOCKS: &str = "blocks";
/// `LISTEN` channel notified with the new height after each committed batch (and after a
/// rollback, with the kept height).
pub const NOTIFY_CHANNEL: &str = taoscope_schema::tables::BLOCKS_CHANNEL;
/// Advisory lock held by the one indexer writing a database ("tsc-indx").
const WRITER_LOCK: i64 = 0x7473_632d_696e_6478;

const SELECT_CHAIN: &str = "SELECT genesis_hash, chain_name FROM chain";
const INSERT_CHAIN: &str =
    "INSERT INTO chain (genesis_hash, chain_name, ss58_format, token_decimals, token_symbol)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING";
const SELECT_PROGRESS: &str = "SELECT block_number, block_hash FROM indexer_progress WHERE stage = $1";
const UPSERT_PROGRESS: &str = "INSERT INTO indexer_progress (stage, block_number, block_hash) VALUES ($1, $2, $3)
    ON CONFLICT (stage) DO UPDATE SET block_number = EXCLUDED.block_number, block_hash = EXCLUDED.block_hash, updated_at = now()";
const REWIND_ANALYTICS: &str =
    "UPDATE analytics_progress SET block_number = $1, updated_at = now() WHERE block_number > $1";
const UPSERT_HEAD: &str =
    "INSERT INTO chain_head (id, finalized_number, finalized_hash) VALUES (true, $1, $2)
    ON CONFLICT (id) DO UPDATE SET finalized_number = EXCLUDED.finalized_number,
        finalized_hash = EXCLUDED.finalized_hash, seen_at = now()";
const SELECT_RUNTIMES: &str = "SELECT spec_version, transaction_version, metadata FROM runtime_versions";
const INSERT_RUNTIME: &str = "INSERT INTO runtime_versions
    (spec_version, spec_name, impl_version, transaction_version, metadata_version, metadata, first_block)
    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (spec_version) DO NOTHING";
const ENSURE_PARTITIONS: &str = "SELECT taoscope_ensure_partitions($1, $2)";
const NOTIFY: &str = "SELECT pg_notify($1, $2)";

const SELECT_RECENT: &str = "SELECT number, hash FROM blocks ORDER BY number DESC LIMIT $1";
/// A runtime learned but not yet recorded with its metadata.
#[derive(Clone)]
pub struct NewRuntime {
    /// The runtime.
    pub runtime: Runtime,
    /// Its version as the node reported it.
    pub info: RuntimeInfo,
    /// The metadata bytes.
    pub metadata: Vec<u8>,
    /// Block where it was first seen.
    pub first_block: u64,
}

/// The database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

/// Holds the single-writer lock for as long as it lives (the lock is tied to its session).
pub struct WriterLock {
    client: Client,
}

impl WriterLock {
    /// Whether the session holding the lock is gone (the server released the lock).
    pub fn is_lost(&self) -> bool {
        self.client.is_closed()
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).expect("block numbers fit in i64")
}

impl Store {
    /// Connects (checking the server answers) and brings the schema up to date.
    pub async fn connect(database_url: &str) -> Result<Store, IndexerError> {
        let mut cfg: tokio_postgres::Config = database_url.parse()?;
        // `CREATE … IF NOT EXISTS` on every batch would otherwise send a NOTICE each time.
        cfg.options("-c client_min_messages=warning");
        let manager =
            Manager::from_config(cfg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(4)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .expect("pool settings are valid");
        let mut client = pool.get().await?;
        taoscope_schema::migrate(&mut client).await?;
        Ok(Store { pool })
    }

    /// Takes the single-writer lock, or fails if another indexer holds it.
    pub async fn lock_writer(&self, database_url: &str) -> Result<WriterLock, IndexerError> {
        let (client, conn) = tokio_postgres::connect(database_url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::warn!(error = %e, "writer-lock connection closed");
            }
        });
        let got: bool = client.query_one("SELECT pg_try_advisory_lock($1)", &[&WRITER_LOCK]).await?.get(0);
        if !got {
            return Err(IndexerError::AlreadyRunning);
        }
        Ok(WriterLock { client })
    }

    /// Records the chain on first use; refuses a database made from another chain.
    pub async fn ensure_chain(&self, id: &ChainIdentity) -> Result<(), IndexerError> {
        let client = self.pool.get().await?;
        client
            .execute(
                INSERT_CHAIN,
                &[
                    &id.genesis_hash.as_slice(),
                    &id.name,
                    &i32::from(id.ss58_format),
                    &(id.token_decimals as i32),
                    &id.token_symbol,
                ],
            )
            .await?;
        let row = client.query_one(SELECT_CHAIN, &[]).await?;
        let genesis: Vec<u8> = row.get(0);
        if genesis != id.genesis_hash {
            return Err(IndexerError::WrongChain {
                db_chain: row.get(1),
                db_genesis: format!("0x{}", hex::encode(genesis)),
                node_chain: id.name.clone(),
                node_genesis: format!("0x{}", hex::encode(id.genesis_hash)),
            });
        }
        Ok(())
    }

    /// The last indexed block, if any.
    pub async fn progress(&self) -> Result<Option<(u64, [u8; 32])>, IndexerError> {
        let client = self.pool.get().await?;
        let row = client.query_opt(SELECT_PROGRESS, &[&STAGE_BLOCKS]).await?;
        Ok(row.map(|r| {
            let hash: Vec<u8> = r.get(1);
            (r.get::<_, i64>(0) as u64, hash.try_into().unwrap_or([0; 32]))
        }))
    }

    /// Every runtime recorded so far, as (spec, transaction version, metadata bytes).
    pub async fn runtimes(&self) -> Result<Vec<(u32, u32, Vec<u8>)>, IndexerError> {
        let client = self.pool.get().await?;
        let rows = client.query(SELECT_RUNTIMES, &[]).await?;
        Ok(rows.iter().map(|r| (r.get::<_, i32>(0) as u32, r.get::<_, i32>(1) as u32, r.get(2))).collect())
    }

    /// Our last `limit` blocks as (number, hash), ascending.
    pub async fn recent_blocks(&self, limit: i64) -> Result<Vec<(u64, [u8; 32])>, IndexerError> {
        let client = self.pool.get().await?;
        let mut rows: Vec<(u64, [u8; 32])> = client
            .query(SELECT_RECENT, &[&limit])
            .await?
            .iter()
            .map(|r| {
                let hash: Vec<u8> = r.get(1);
                (r.get::<_, i64>(0) as u64, hash.try_into().unwrap_or([0; 32]))
            })
            .collect();
        rows.reverse();
        Ok(rows)
    }

    /// Deletes every row of blocks above `keep` (a reorg) and moves the checkpoint to
    /// `keep` with `hash`, in one transaction.
    pub async fn rollback_to(&self, keep: u64, hash: [u8; 32]) -> Result<u64, IndexerError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut removed = 0;
        for (table, column) in BLOCK_TABLES.iter().rev() {
            // Table and column names come from a closed list, never from input.
            let n = tx.execute(&format!("DELETE FROM {table} WHERE {column} > $1"), &[&to_i64(keep)]).await?;
            if *table == "blocks" {
                removed = n;
            }
        }
        tx.execute(subnets::DELETE_AFTER, &[&to_i64(keep)]).await?;
        tx.execute(UPSERT_PROGRESS, &[&STAGE_BLOCKS, &to_i64(keep), &hash.as_slice()]).await?;
        // Analytics computed from the removed blocks are recomputed from the kept head.
        tx.execute(REWIND_ANALYTICS, &[&to_i64(keep)]).await?;
        tx.execute(NOTIFY, &[&NOTIFY_CHANNEL, &keep.to_string()]).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// Records the node's finalized head.
    pub async fn set_head(&self, number: u64, hash: [u8; 32]) -> Result<(), IndexerError> {
        let client = self.pool.get().await?;
        client.execute(UPSERT_HEAD, &[&to_i64(number), &hash.as_slice()]).await?;
        Ok(())
    }

    /// Writes `blocks` (consecutive, ascending) and `runtimes` with the checkpoint at the last
    /// block, all in one transaction.
    pub async fn write_batch(
        &self,
        runtimes: &[NewRuntime],
        blocks: &[BlockRows],
        head: (u64, [u8; 32]),
    ) -> Result<(), IndexerError> {
        let (Some(first), Some(last)) = (blocks.first(), blocks.last()) else { return Ok(()) };
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        for r in runtimes {
            let version = i16::from(r.metadata.get(4).copied().unwrap_or(0));
            tx.execute(
                INSERT_RUNTIME,
                &[
                    &(r.runtime.spec_version as i32),
                    &r.info.spec_name,
                    &(r.info.impl_version as i32),
                    &(r.runtime.transaction_version as i32),
                    &version,
                    &r.metadata,
                    &to_i64(r.first_block),
                ],
            )
            .await?;
        }
        tx.execute(ENSURE_PARTITIONS, &[&to_i64(first.raw.number), &to_i64(last.raw.number)]).await?;
        copy::copy_all(&tx, blocks).await?;
        subnets::upsert(&tx, blocks).await?;
        tx.execute(UPSERT_PROGRESS, &[&STAGE_BLOCKS, &to_i64(last.raw.number), &last.raw.hash.as_slice()])
            .await?;
        tx.execute(UPSERT_HEAD, &[&to_i64(head.0), &head.1.as_slice()]).await?;
        tx.execute(NOTIFY, &[&NOTIFY_CHANNEL, &last.raw.number.to_string()]).await?;
        tx.commit().await?;
        Ok(())
    }
}
