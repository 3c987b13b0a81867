//! Units of work the pipeline runs concurrently, boxed as `Send` futures with owned handles,
//! and the metrics recorded after each batch.

use std::sync::Arc;

use super::{Node, ReadSpec, RegistrationRow, StatePlan, StateRows, read_block_state};
use crate::error::IndexerError;
use crate::rows::BlockRows;

/// Fetches with an owned handle, boxed as `Send` where its lifetimes are concrete (a closure
/// producing futures inside a stream combinator otherwise trips rustc's "`Send` is not general
/// enough", rust-lang/rust#64552).
pub(super) fn fetch_owned(
    node: Node,
    number: u64,
) -> futures::future::BoxFuture<'static, Result<crate::node::RawBlock, IndexerError>> {
    Box::pin(async move { node.fetch_block(number).await })
}

/// Reads a block's state with owned handles, boxed as `Send` (see [`fetch_owned`]).
pub(super) fn read_owned(
    node: Node,
    md: std::sync::Arc<subxt::metadata::Metadata>,
    plan: Arc<StatePlan>,
    (number, hash, parent_hash): (u64, [u8; 32], [u8; 32]),
    registrations: Vec<RegistrationRow>,
    what: ReadSpec,
) -> futures::future::BoxFuture<'static, Result<StateRead, IndexerError>> {
    Box::pin(read_block_state(node, md, plan, number, hash, parent_hash, registrations, what))
}

pub(super) type StateRead = (StateRows, Vec<RegistrationRow>, Vec<crate::state::StateFailure>);

/// Counters and gauges after a committed batch.
pub(super) fn record_metrics(blocks: &[BlockRows], head: u64) {
    let Some(last) = blocks.last() else { return };
    metrics::counter!("taoscope_blocks_indexed_total").increment(blocks.len() as u64);
    metrics::gauge!("taoscope_indexed_height").set(last.raw.number as f64);
    metrics::gauge!("taoscope_head_height").set(head as f64);
    metrics::gauge!("taoscope_head_lag_blocks").set(head.saturating_sub(last.raw.number) as f64);
    let count = |f: fn(&BlockRows) -> usize| blocks.iter().map(f).sum::<usize>() as u64;
    for (table, rows) in [
        ("blocks", blocks.len() as u64),
        ("extrinsics", count(|b| b.decoded.extrinsics.len())),
        ("events", count(|b| b.decoded.events.len())),
        ("stake_ledger", count(|b| b.typed.stake.len())),
        ("stake_movements", count(|b| b.typed.movements.len())),
        ("registrations", count(|b| b.typed.registrations.len())),
        ("weights_set", count(|b| b.typed.weights.len())),
        ("pool_state", count(|b| b.state.pools.len())),
        ("metagraph", count(|b| b.state.metagraph.len())),
    ] {
        metrics::counter!("taoscope_rows_written_total", "table" => table).increment(rows);
    }
    for f in blocks.iter().flat_map(|b| &b.failures) {
        metrics::counter!("taoscope_decode_failures_total", "kind" => f.kind).increment(1);
    }
}
