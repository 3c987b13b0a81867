//! Which runtime executes each block, and learning new runtimes (their metadata, cached in
//! PostgreSQL, and their read plan) the first time a block reports them.

use std::sync::Arc;

use super::{Indexer, StatePlan};
use crate::decode::Runtime;
use crate::error::IndexerError;
use crate::store::NewRuntime;

impl Indexer {
    /// Makes sure the runtime `spec` in `number`'s post-state is known, fetching its version
    /// and metadata there if not (a new runtime is pending until a batch records it).
    pub(super) async fn learn_runtime(
        &mut self,
        number: u64,
        hash: [u8; 32],
        spec: u32,
    ) -> Result<(), IndexerError> {
        if self.runtimes.contains_key(&spec) {
            return Ok(());
        }
        let info = self.node.runtime_version(number, hash).await?;
        // A metadata answer that does not parse is fetched again before giving up: a corrupted
        // answer is not a broken runtime.
        let mut attempt = 0;
        let (metadata, runtime) = loop {
            attempt += 1;
            let parsed = match self.node.metadata(spec, number, hash).await {
                Ok(bytes) => Runtime::from_metadata_bytes(spec, info.transaction_version, &bytes)
                    .map(|r| (bytes, r))
                    .map_err(|reason| IndexerError::Metadata { spec, reason }),
                Err(e) => Err(e),
            };
            match parsed {
                Ok(found) => break found,
                Err(e) if attempt < crate::state::READ_ATTEMPTS => {
                    tracing::warn!(spec, error = %e, "metadata did not parse; fetching it again");
                }
                Err(e) => return Err(e),
            }
        };
        tracing::info!(spec, name = %info.spec_name, block = number, "new runtime");
        self.plans.insert(spec, Arc::new(StatePlan::new(&runtime.metadata, self.config.pool_source)));
        self.runtimes.insert(spec, runtime.clone());
        // Recorded with the next committed batch; until then it stays pending, so a failed batch
        // cannot lose it.
        self.pending_runtimes.push(NewRuntime { runtime, info, metadata, first_block: number });
        Ok(())
    }

    /// The runtime in the post-state of block `number - 1` (which executes `number`).
    pub(super) async fn executing_spec(&mut self, number: u64) -> Result<u32, IndexerError> {
        if let Some(tip) = self.tip.filter(|t| t.number + 1 == number) {
            return Ok(tip.spec);
        }
        let parent = number.saturating_sub(1);
        let hash = self.node.block_hash(parent).await?.ok_or_else(|| IndexerError::BadBlock {
            block: parent,
            reason: "the node has no such block".into(),
        })?;
        let spec = self.node.runtime_version(parent, hash).await?.spec_version;
        self.learn_runtime(parent, hash, spec).await?;
        Ok(spec)
    }
}
