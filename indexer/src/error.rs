//! What can go wrong while indexing, and whether trying again can help.

/// An indexing failure.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    /// No connection to the node could be made.
    #[error(
        "cannot connect to node at {url}: {reason}. Is it a Substrate node's RPC endpoint (e.g. ws://127.0.0.1:9944)?"
    )]
    Connect {
        /// The URL tried.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// Something answers at the URL but not like a Substrate node.
    #[error("{url} answered, but not like a Substrate node: {reason}")]
    NotANode {
        /// The URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// An RPC call failed (often a dropped connection; retried).
    #[error("node request {method} failed{}: {reason}", block.map(|b| format!(" at block {b}")).unwrap_or_default())]
    Rpc {
        /// The method.
        method: &'static str,
        /// The block involved, if any.
        block: Option<u64>,
        /// Why.
        reason: String,
    },
    /// The node returned something unusable for a block (missing block, bad header).
    #[error("block {block}: {reason}")]
    BadBlock {
        /// The block.
        block: u64,
        /// What was wrong.
        reason: String,
    },
    /// The node's chain changed under a batch (a reorg while fetching): the batch is retried.
    #[error("the chain changed at block {block} while fetching; retrying")]
    ChainChanged {
        /// Where the links broke.
        block: u64,
    },
    /// A reorg reaches below everything the indexer keeps to compare (or below finality).
    #[error("reorg deeper than the {window}-block window below block {tip}; re-index from an earlier block")]
    ReorgTooDeep {
        /// Our tip.
        tip: u64,
        /// How far back was compared.
        window: u64,
    },
    /// A runtime's metadata could not be fetched or understood.
    #[error("metadata of runtime spec {spec}: {reason}")]
    Metadata {
        /// The spec version.
        spec: u32,
        /// Why.
        reason: String,
    },
    /// The database was built from another chain.
    #[error(
        "database indexes {db_chain} (genesis {db_genesis}) but the node is {node_chain} (genesis {node_genesis}); use another database (--database-url)"
    )]
    WrongChain {
        /// Chain name recorded in the database.
        db_chain: String,
        /// Genesis recorded in the database.
        db_genesis: String,
        /// Chain name of the node.
        node_chain: String,
        /// Genesis of the node.
        node_genesis: String,
    },
    /// `--from` is past what the database holds: indexing there would leave a gap.
    #[error("the database is indexed up to block {indexed}; starting at --from {from} would leave a gap (omit --from to resume at {})", indexed + 1)]
    Gap {
        /// Last indexed block.
        indexed: u64,
        /// The requested start.
        from: u64,
    },
    /// Another indexer is writing to this database.
    #[error("another indexer is already writing to this database")]
    AlreadyRunning,
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// No database connection could be had from the pool.
    #[error("database connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The schema could not be migrated.
    #[error(transparent)]
    Migrate(#[from] taoscope_schema::MigrateError),
    /// A row could not be encoded for `COPY` (a value out of its column's range).
    #[error("encoding a {table} row: {reason}")]
    Encode {
        /// The table.
        table: &'static str,
        /// Why.
        reason: String,
    },
    /// A pipeline task was cancelled because the process is shutting down.
    #[error("stopped while a batch was in flight (nothing of it was committed)")]
    Stopped,
}

impl IndexerError {
    /// Whether the same work may succeed if tried again (after reconnecting).
    pub fn is_retryable(&self) -> bool {
        match self {
            IndexerError::Rpc { .. } | IndexerError::Pool(_) | IndexerError::ChainChanged { .. } => true,
            IndexerError::Database(e) => e.is_closed() || e.code().is_none_or(is_transient),
            _ => false,
        }
    }
}

/// SQLSTATEs that pass: connection exceptions (08), resource shortages (53), operator
/// intervention such as a server shutdown or restart (57), serialization failures and deadlocks.
fn is_transient(code: &tokio_postgres::error::SqlState) -> bool {
    let c = code.code();
    c.starts_with("08") || c.starts_with("53") || c.starts_with("57") || c == "40001" || c == "40P01"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_connections_are_retryable_bad_chains_are_not() {
        let rpc = IndexerError::Rpc { method: "chain_getBlock", block: Some(5), reason: "closed".into() };
        assert!(rpc.is_retryable());
        assert_eq!(rpc.to_string(), "node request chain_getBlock failed at block 5: closed");
        let wrong = IndexerError::WrongChain {
            db_chain: "a".into(),
            db_genesis: "0x1".into(),
            node_chain: "b".into(),
            node_genesis: "0x2".into(),
        };
        assert!(!wrong.is_retryable());
    }

    #[test]
    fn server_restarts_are_transient_constraint_violations_are_not() {
        use tokio_postgres::error::SqlState;
        assert!(is_transient(&SqlState::ADMIN_SHUTDOWN));
        assert!(is_transient(&SqlState::CONNECTION_FAILURE));
        assert!(is_transient(&SqlState::T_R_DEADLOCK_DETECTED));
        assert!(!is_transient(&SqlState::UNIQUE_VIOLATION));
    }
}
