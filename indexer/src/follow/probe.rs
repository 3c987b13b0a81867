//! The RPC-bound limit of the pipeline, for `taoscope bench`: the same fetches, runtime
//! placement and state reads as indexing, with no decoding of blocks and no writes.

use futures::{StreamExt, TryStreamExt};

use super::Indexer;
use super::tasks::{read_state_only, spawned};
use crate::error::IndexerError;

impl Indexer {
    /// Fetches blocks `from..=to` and reads their state exactly as indexing does, without
    /// decoding blocks or writing anything; returns the number of blocks.
    pub async fn fetch_only(&mut self, from: u64, to: u64) -> Result<u64, IndexerError> {
        let mut next = from;
        while next <= to {
            let last = to.min(next + self.config.batch_size - 1);
            let raws = self.fetch_range(next, last).await?;
            let placed = self.place(raws).await?;
            let jobs: Vec<_> = placed.into_iter().map(|p| self.job(p)).collect();
            let _: Vec<()> = futures::stream::iter(jobs)
                .map(|job| spawned(read_state_only(job)))
                .buffered(self.config.concurrency)
                .try_collect()
                .await?;
            next = last + 1;
        }
        Ok(to + 1 - from)
    }
}
