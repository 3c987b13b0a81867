//! Embedded, forward-only SQL migrations and their runner.
//!
//! Each migration runs in its own transaction and is recorded in `schema_migrations` with a
//! checksum of its text; a migration edited after it was applied is refused rather than silently
//! skipped. A session-level advisory lock serialises concurrent runners (the indexer and the API
//! of `taoscope up` both migrate on start).

use blake2::{Blake2b512, Digest};
use tokio_postgres::Client;

/// One embedded migration file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Sequence number, from the file name.
    pub version: i32,
    /// File name without the extension.
    pub name: &'static str,
    /// The SQL text.
    pub sql: &'static str,
}

/// Every migration, in order. New files are appended here; applied files are never edited.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_chain_blocks_events",
        sql: include_str!("../migrations/0001_chain_blocks_events.sql"),
    },
    Migration {
        version: 2,
        name: "0002_ledger_pools_metagraph",
        sql: include_str!("../migrations/0002_ledger_pools_metagraph.sql"),
    },
    Migration {
        version: 3,
        name: "0003_write_path_indexes",
        sql: include_str!("../migrations/0003_write_path_indexes.sql"),
    },
    Migration {
        version: 4,
        name: "0004_epoch_inputs_analytics",
        sql: include_str!("../migrations/0004_epoch_inputs_analytics.sql"),
    },
    Migration {
        version: 5,
        name: "0005_subnets_reader_role",
        sql: include_str!("../migrations/0005_subnets_reader_role.sql"),
    },
    Migration {
        version: 6,
        name: "0006_inference_audits",
        sql: include_str!("../migrations/0006_inference_audits.sql"),
    },
];

/// Key of the advisory lock held while migrating ("taoscope" in ASCII).
const MIGRATION_LOCK: i64 = 0x7461_6f73_636f_7065;

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   bytea NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())";
const SELECT_APPLIED: &str = "SELECT version, name, checksum FROM schema_migrations ORDER BY version";
const INSERT_APPLIED: &str = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The database rejected a statement.
    #[error("migration {name}: {source}")]
    Sql {
        /// The migration (or `ledger` for the bookkeeping table).
        name: String,
        /// The database error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// An applied migration's text differs from the embedded one.
    #[error(
        "migration {name} was changed after it was applied (checksum mismatch); migrations are forward-only"
    )]
    Modified {
        /// The migration's name.
        name: String,
    },
    /// The database has migrations this binary does not know: it is older than the schema.
    #[error("database schema is at version {db}, newer than this binary's {binary}; upgrade taoscope")]
    TooNew {
        /// Highest version recorded in the database.
        db: i32,
        /// Highest version embedded in this binary.
        binary: i32,
    },
}

fn checksum(sql: &str) -> Vec<u8> {
    Blake2b512::digest(sql.as_bytes())[..32].to_vec()
}

fn sql_err(name: &str) -> impl FnOnce(tokio_postgres::Error) -> MigrateError + '_ {
    move |source| MigrateError::Sql { name: name.to_string(), source }
}

/// Applies every pending migration; returns how many were applied.
pub async fn migrate(client: &mut Client) -> Result<usize, MigrateError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(sql_err("ledger"))?;
    let result = apply_pending(client).await;
    // Unlock even when a migration failed; the session may be reused by the caller.
    let unlock =
        client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await.map_err(sql_err("ledger"));
    let applied = result?;
    unlock?;
    Ok(applied)
}

async fn apply_pending(client: &mut Client) -> Result<usize, MigrateError> {
    client.batch_execute(CREATE_LEDGER).await.map_err(sql_err("ledger"))?;
    let rows = client.query(SELECT_APPLIED, &[]).await.map_err(sql_err("ledger"))?;
    let newest = MIGRATIONS.last().map_or(0, |m| m.version);
    for row in &rows {
        let version: i32 = row.get(0);
        let name: String = row.get(1);
        let sum: Vec<u8> = row.get(2);
        match MIGRATIONS.iter().find(|m| m.version == version) {
            Some(m) if checksum(m.sql) == sum => {}
            Some(_) => return Err(MigrateError::Modified { name }),
            None => return Err(MigrateError::TooNew { db: version, binary: newest }),
        }
    }
    let mut applied = 0;
    for m in MIGRATIONS {
        if rows.iter().any(|r| r.get::<_, i32>(0) == m.version) {
            continue;
        }
        let tx = client.transaction().await.map_err(sql_err(m.name))?;
        tx.batch_execute(m.sql).await.map_err(sql_err(m.name))?;
        tx.execute(INSERT_APPLIED, &[&m.version, &m.name, &checksum(m.sql)])
            .await
            .map_err(sql_err(m.name))?;
        tx.commit().await.map_err(sql_err(m.name))?;
        tracing::info!(migration = m.name, "applied migration");
        applied += 1;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_and_named_after_their_files() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i32 + 1);
            assert!(m.name.starts_with(&format!("{:04}_", m.version)), "{}", m.name);
            assert!(!m.sql.trim().is_empty());
        }
    }
}
