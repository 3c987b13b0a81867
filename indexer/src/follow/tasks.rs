//! Units of work the pipeline spawns onto the runtime's worker threads (so decoding uses every
//! core), each owning what it needs, and the metrics recorded after each committed batch.

use std::future::Future;
use std::sync::Arc;

use super::{Placed, ReadSpec, StatePlan, read_block_state};
use crate::decode::{DecodedBlock, Runtime, decode_block};
use crate::error::IndexerError;
use crate::extract::extract;
use crate::node::{Node, RawBlock};
use crate::rows::{BlockRows, Failure};
use crate::state::READ_ATTEMPTS;
use crate::state::metagraph::read_replacements;

/// Runs `task` on a worker thread; a panic in it resumes here.
pub(super) fn spawned<T: Send + 'static>(
    task: impl Future<Output = Result<T, IndexerError>> + Send + 'static,
) -> impl Future<Output = Result<T, IndexerError>> {
    let handle = tokio::spawn(task);
    async move {
        match handle.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(IndexerError::Stopped),
        }
    }
}

/// Fetches block `number` on a worker thread.
pub(super) fn fetch(node: &Node, number: u64) -> impl Future<Output = Result<RawBlock, IndexerError>> {
    let node = node.clone();
    spawned(async move { node.fetch_block(number).await })
}

/// What one block's processing needs.
pub(super) struct BlockJob {
    pub node: Node,
    pub runtime: Runtime,
    pub plan: Arc<StatePlan>,
    pub placed: Placed,
    pub what: ReadSpec,
}

/// Decodes a block, derives its typed rows and reads its state (the state reads are in flight
/// while the block decodes).
pub(super) async fn process(job: BlockJob) -> Result<BlockRows, IndexerError> {
    let BlockJob { node, runtime, plan, placed, what } = job;
    let (number, hash, parent_hash) = (placed.raw.number, placed.raw.hash, placed.raw.parent_hash);
    let (decoded, read) = tokio::join!(
        decode_with_retry(&node, placed.raw, &runtime),
        read_block_state(&node, &runtime.metadata, &plan, number, hash, parent_hash, what),
    );
    let (raw, decoded, mut failures) = decoded?;
    let (state, mut state_failures) = read?;
    let mut typed = extract(&decoded.events);
    for u in &typed.unexpected {
        let raw_event = decoded.events.get(u.event_index as usize).map(|e| e.raw.clone()).unwrap_or_default();
        failures.push(Failure {
            kind: "event",
            item: u.event_index.to_string(),
            reason: u.reason.clone(),
            raw: raw_event,
        });
    }
    if !typed.registrations.is_empty() && number > 0 {
        state_failures.extend(
            read_replacements(&node, &plan, number - 1, parent_hash, &mut typed.registrations).await?,
        );
    }
    failures.extend(state_failures.into_iter().map(|f| Failure {
        kind: if f.item.contains("RuntimeApi") { "runtime_api" } else { "storage" },
        item: f.item,
        reason: f.reason,
        raw: f.raw,
    }));
    for f in &failures {
        tracing::warn!(block = raw.number, kind = f.kind, item = %f.item, reason = %f.reason, "recorded a decode failure");
    }
    Ok(BlockRows { raw, executing_spec: placed.executing, decoded, typed, state, failures })
}

/// Reads a block's state only (the RPC-bound limit, `taoscope bench`).
pub(super) async fn read_state_only(job: BlockJob) -> Result<(), IndexerError> {
    let BlockJob { node, runtime, plan, placed, what } = job;
    read_block_state(
        &node,
        &runtime.metadata,
        &plan,
        placed.raw.number,
        placed.raw.hash,
        placed.raw.parent_hash,
        what,
    )
    .await?;
    Ok(())
}

/// Decodes `raw`; while parts do not decode, fetches those parts again (a corrupted answer is
/// not a corrupted block: the events, or the body, by the block's hash), up to
/// [`READ_ATTEMPTS`] times in all, before keeping the failures.
async fn decode_with_retry(
    node: &Node,
    mut raw: RawBlock,
    runtime: &Runtime,
) -> Result<(RawBlock, DecodedBlock, Vec<Failure>), IndexerError> {
    let (mut decoded, mut failures) = decode_block(&raw, runtime).await;
    for _ in 1..READ_ATTEMPTS {
        if failures.is_empty() {
            break;
        }
        let mut again = raw.clone();
        if failures.iter().any(|f| f.kind == "events") {
            again.events = node.block_events(raw.number, raw.hash).await?;
        }
        if failures.iter().any(|f| f.kind == "extrinsic") {
            again.extrinsics = node.block_body(raw.number, raw.hash).await?.1;
        }
        let (decoded_again, failures_again) = decode_block(&again, runtime).await;
        if failures_again.len() <= failures.len() {
            (raw, decoded, failures) = (again, decoded_again, failures_again);
        }
    }
    Ok((raw, decoded, failures))
}

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
