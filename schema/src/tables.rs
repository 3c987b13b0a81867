//! The tables the indexer fills, named once for every crate that walks them (writes, reorg
//! rollbacks, benchmarks, test digests).

/// The `LISTEN`/`NOTIFY` channel on which the indexer announces its new indexed height (the
/// payload, in decimal) when a batch commits, and the kept height after a rollback.
pub const BLOCKS_CHANNEL: &str = "taoscope_blocks";

/// Every table with rows per block, in write order (`blocks` first: the others belong to a
/// block), each with its block-number column. Rollbacks delete in the reverse order.
pub const BLOCK_TABLES: &[(&str, &str)] = &[
    ("blocks", "number"),
    ("extrinsics", "block_number"),
    ("events", "block_number"),
    ("stake_ledger", "block_number"),
    ("stake_movements", "block_number"),
    ("registrations", "block_number"),
    ("weights_set", "block_number"),
    ("pool_state", "block_number"),
    ("epochs", "block_number"),
    ("metagraph", "block_number"),
    ("decode_failures", "block_number"),
];

/// Tables the indexer writes besides the per-block ones: the chain's identity and its runtimes
/// (before any block), the subnets' identities (with each batch) and the checkpoint (after).
pub const BOOKKEEPING_TABLES: &[&str] = &["chain", "runtime_versions", "subnets", "indexer_progress"];

/// The analytics tables (derived from the indexed ones by `taoscope analytics`), and the
/// progress table that says how far each job has got.
pub const ANALYTICS_TABLES: &[&str] = &[
    "candles",
    "emissions_daily",
    "flows_daily",
    "miner_rankings",
    "validator_rankings",
    "coldkey_rollups",
    "yuma_audit",
];
