//! Which runtime executes each block, and learning new runtimes (their metadata, cached in
//! PostgreSQL, and their read plan) the first time a block reports them.
//!
//! A block runs its parent's post-state runtime; its own post-state runtime differs only when
//! its header digest carries `RuntimeEnvironmentUpdated`, which `frame_system` deposits with
//! every code change. So the runtime version is asked for at those blocks only, plus once per
//! batch at the last block as a check: a mismatch (a code change without the digest) makes the
//! batch ask at every block.

use std::sync::Arc;

use super::{Indexer, StatePlan, Tip};
use crate::decode::Runtime;
use crate::error::IndexerError;
use crate::node::RawBlock;
use crate::store::NewRuntime;

/// A fetched block with the runtime that executed it and the one in its post-state.
pub(crate) struct Placed {
    /// The block.
    pub raw: RawBlock,
    /// Its parent's post-state runtime (its own for block 0).
    pub executing: u32,
    /// Its post-state runtime.
    pub post: u32,
}

impl Indexer {
    /// Places a linked run of blocks (see the module docs), learning new runtimes, and moves
    /// the in-memory tip to the run's last block.
    pub(super) async fn place(&mut self, raws: Vec<RawBlock>) -> Result<Vec<Placed>, IndexerError> {
        let Some(first) = raws.first() else { return Ok(vec![]) };
        let before = if first.number == 0 { None } else { Some(self.executing_spec(first.number).await?) };
        let mut posts = Vec::with_capacity(raws.len());
        let mut asked_last = false;
        let mut current = before;
        for raw in &raws {
            let post = match current {
                Some(spec) if !raw.runtime_updated => spec,
                _ => {
                    asked_last = raw.number == raws[raws.len() - 1].number;
                    self.node.runtime_version(raw.number, raw.hash).await?.spec_version
                }
            };
            posts.push(post);
            current = Some(post);
        }
        let last = &raws[raws.len() - 1];
        if !asked_last {
            let actual = self.node.runtime_version(last.number, last.hash).await?.spec_version;
            if Some(&actual) != posts.last() {
                tracing::warn!(
                    from = first.number,
                    to = last.number,
                    "runtime changed without a RuntimeEnvironmentUpdated digest; asking every block"
                );
                for (raw, post) in raws.iter().zip(posts.iter_mut()) {
                    *post = self.node.runtime_version(raw.number, raw.hash).await?.spec_version;
                }
            }
        }
        let mut placed = Vec::with_capacity(raws.len());
        let mut executing = before;
        for (raw, post) in raws.into_iter().zip(posts) {
            self.learn_runtime(raw.number, raw.hash, post).await?;
            placed.push(Placed { executing: executing.unwrap_or(post), post, raw });
            executing = Some(post);
        }
        let tip = &placed[placed.len() - 1];
        self.tip = Some(Tip { number: tip.raw.number, hash: tip.raw.hash, spec: tip.post });
        Ok(placed)
    }

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
