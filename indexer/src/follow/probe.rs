//! The RPC-bound limit of the pipeline, for `taoscope bench`: the same fetches and state reads
//! as indexing, with no decoding and no writes.

use futures::{StreamExt, TryStreamExt};

use super::tasks::{StateRead, fetch_owned, read_owned};
use super::{Indexer, ReadSpec, Tip};
use crate::error::IndexerError;
use crate::node::RawBlock;

impl Indexer {
    /// Fetches blocks `from..=to` and their state exactly as indexing does, without decoding
    /// events or writing anything: the RPC-bound limit of the pipeline (`taoscope bench`).
    pub async fn fetch_only(&mut self, from: u64, to: u64) -> Result<u64, IndexerError> {
        let mut next = from;
        while next <= to {
            let last = to.min(next + self.config.batch_size - 1);
            let fetches: Vec<_> = (next..=last).map(|n| fetch_owned(self.node.clone(), n)).collect();
            let raws: Vec<RawBlock> =
                futures::stream::iter(fetches).buffered(self.config.concurrency).try_collect().await?;
            let mut executing = self.executing_spec(next).await?;
            let mut reads = Vec::with_capacity(raws.len());
            for raw in &raws {
                self.learn_runtime(raw.number, raw.hash, raw.spec_version).await?;
                let spec = if raw.number == 0 { raw.spec_version } else { executing };
                let what =
                    ReadSpec { pools: self.config.pool_interval > 0, metagraphs: self.config.metagraphs };
                let md = self.runtimes[&spec].metadata.clone();
                reads.push(read_owned(
                    self.node.clone(),
                    md,
                    self.plans[&spec].clone(),
                    (raw.number, raw.hash, raw.parent_hash),
                    vec![],
                    what,
                ));
                executing = raw.spec_version;
            }
            let _: Vec<StateRead> =
                futures::stream::iter(reads).buffered(self.config.concurrency).try_collect().await?;
            if let Some(last) = raws.last() {
                self.tip = Some(Tip { number: last.number, spec: last.spec_version });
            }
            next = last + 1;
        }
        Ok(to + 1 - from)
    }
}
