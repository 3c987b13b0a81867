//! One batch through the pipeline: fetch (concurrent, in block order), place (which runtime ran
//! each block), process (decode, typed rows, state reads: concurrent on worker threads, in
//! order), then the write, which runs while the next batch is prepared. At most one write is in
//! flight, and batches commit in order, each with its checkpoint.

use std::time::Instant;

use futures::{StreamExt, TryStreamExt};

use super::tasks::{BlockJob, fetch, process, record_metrics, spawned};
use super::{Indexer, Placed, ReadSpec};
use crate::error::IndexerError;
use crate::node::RawBlock;
use crate::rows::BlockRows;
use crate::store::NewRuntime;

/// A batch being written.
pub(super) struct Writing {
    handle: tokio::task::JoinHandle<Result<f64, (IndexerError, Vec<NewRuntime>)>>,
    /// Last block of the batch.
    to: u64,
    /// Head when the batch was planned.
    head: u64,
}

/// A committed batch.
pub(super) struct Committed {
    /// Its last block.
    pub to: u64,
    /// The head it was planned against.
    pub head: u64,
}

impl Indexer {
    /// Fetches blocks `from..=to` (concurrently, in order) and checks they continue our chain.
    pub(super) async fn fetch_range(&self, from: u64, to: u64) -> Result<Vec<RawBlock>, IndexerError> {
        let raws: Vec<RawBlock> = futures::stream::iter(from..=to)
            .map(|n| fetch(&self.node, n))
            .buffered(self.config.concurrency)
            .try_collect()
            .await?;
        self.check_links(&raws).await?;
        Ok(raws)
    }

    /// What to read at block `number`.
    pub(super) fn read_spec(&self, number: u64) -> ReadSpec {
        ReadSpec {
            pools: self.config.pool_interval > 0 && number.is_multiple_of(self.config.pool_interval),
            metagraphs: self.config.metagraphs,
        }
    }

    /// The processing job of a placed block.
    pub(super) fn job(&self, placed: Placed) -> BlockJob {
        BlockJob {
            node: self.node.clone(),
            runtime: self.runtimes[&placed.executing].clone(),
            plan: self.plans[&placed.executing].clone(),
            what: self.read_spec(placed.raw.number),
            placed,
        }
    }

    /// Fetches, places and processes blocks `from..=to`.
    pub(super) async fn prepare(&mut self, from: u64, to: u64) -> Result<Vec<BlockRows>, IndexerError> {
        let started = Instant::now();
        let raws = self.fetch_range(from, to).await?;
        let placed = self.place(raws).await?;
        let fetched = self.stages.add("fetch", started);
        let jobs: Vec<BlockJob> = placed.into_iter().map(|p| self.job(p)).collect();
        let blocks = futures::stream::iter(jobs)
            .map(|job| spawned(process(job)))
            .buffered(self.config.concurrency)
            .try_collect()
            .await?;
        self.stages.add("process", fetched);
        Ok(blocks)
    }

    /// Starts writing `blocks` (with the runtimes learned so far) in the background.
    pub(super) fn start_write(&mut self, blocks: Vec<BlockRows>, head: (u64, [u8; 32])) {
        let Some(to) = blocks.last().map(|b| b.raw.number) else { return };
        let store = self.store.clone();
        let runtimes = std::mem::take(&mut self.pending_runtimes);
        let handle = tokio::spawn(async move {
            let started = Instant::now();
            match store.write_batch(&runtimes, &blocks, head).await {
                Ok(()) => {
                    record_metrics(&blocks, head.0);
                    Ok(started.elapsed().as_secs_f64())
                }
                Err(e) => Err((e, runtimes)),
            }
        });
        self.writing = Some(Writing { handle, to, head: head.0 });
    }

    /// Waits for the write in flight, if any. A failed write gives its runtimes back to the
    /// pending list (they are recorded with the next batch that commits).
    pub(super) async fn finish_write(&mut self) -> Result<Option<Committed>, IndexerError> {
        let Some(writing) = self.writing.as_mut() else { return Ok(None) };
        // Awaited in place: if this future is dropped (shutdown), the write stays tracked.
        let outcome = (&mut writing.handle).await;
        let Writing { to, head, .. } = self.writing.take().expect("checked above");
        match outcome {
            Ok(Ok(seconds)) => {
                self.stages.write += seconds;
                metrics::histogram!("taoscope_batch_stage_seconds", "stage" => "write").record(seconds);
                self.batches_done += 1;
                Ok(Some(Committed { to, head }))
            }
            Ok(Err((e, runtimes))) => {
                let learned_since = std::mem::replace(&mut self.pending_runtimes, runtimes);
                self.pending_runtimes.extend(learned_since);
                Err(e)
            }
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(IndexerError::Stopped),
        }
    }
}
