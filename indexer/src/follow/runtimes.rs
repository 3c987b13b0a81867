//! Which runtime executes each block, and learning new runtimes (their metadata, cached in
//! PostgreSQL, and their read plan) the first time a block reports them.

use std::sync::Arc;

use super::{Indexer, StatePlan};
use crate::decode::Runtime;
use crate::error::IndexerError;
use crate::store::NewRuntime;

impl Indexer {
    /// Makes sure the runtime `spec` in `number`'s post-state is known, fetching its version
    /// and metadata there if not; returns it if it was new.
    pub(super) async fn learn_runtime(
        &mut self,
        number: u64,
        hash: [u8; 32],
        spec: u32,
    ) -> Result<Option<NewRuntime>, IndexerError> {
        if self.runtimes.contains_key(&spec) {
            return Ok(None);
        }
        let info = self.node.runtime_version(number, hash).await?;
        let metadata = self.node.metadata(spec, number, hash).await?;
        let runtime = Runtime::from_metadata_bytes(spec, info.transaction_version, &metadata)
            .map_err(|reason| IndexerError::Metadata { spec, reason })?;
        tracing::info!(spec, name = %info.spec_name, block = number, "new runtime");
        self.plans.insert(spec, Arc::new(StatePlan::new(&runtime.metadata, self.config.pool_source)));
        self.runtimes.insert(spec, runtime.clone());
        Ok(Some(NewRuntime { runtime, info, metadata, first_block: number }))
    }

    /// The runtime in the post-state of block `number - 1` (which executes `number`).
    pub(super) async fn executing_spec(
        &mut self,
        number: u64,
        new: &mut Vec<NewRuntime>,
    ) -> Result<u32, IndexerError> {
        if let Some(tip) = self.tip.filter(|t| t.number + 1 == number) {
            return Ok(tip.spec);
        }
        let parent = number.saturating_sub(1);
        let hash = self.node.block_hash(parent).await?.ok_or_else(|| IndexerError::BadBlock {
            block: parent,
            reason: "the node has no such block".into(),
        })?;
        let spec = self.node.runtime_version(parent, hash).await?.spec_version;
        new.extend(self.learn_runtime(parent, hash, spec).await?);
        Ok(spec)
    }
}
