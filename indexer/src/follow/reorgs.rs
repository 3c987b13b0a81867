//! Chain continuity: every batch must continue the indexed chain, and in `--unfinalized` mode a
//! tip that left the node's canonical chain is rolled back to the fork point.

use super::{Indexer, REORG_WINDOW};
use crate::error::IndexerError;
use crate::node::RawBlock;

impl Indexer {
    /// The fetched blocks must form one chain continuing ours; if not, the node's chain
    /// changed while fetching (the batch is retried after reorg handling).
    pub(super) async fn check_links(&self, raws: &[RawBlock]) -> Result<(), IndexerError> {
        for pair in raws.windows(2) {
            if pair[1].parent_hash != pair[0].hash {
                return Err(IndexerError::ChainChanged { block: pair[1].number });
            }
        }
        let Some(first) = raws.first() else { return Ok(()) };
        // Our tip: the last block placed (its write may still be in flight), else the checkpoint.
        let ours = match self.tip {
            Some(tip) => Some((tip.number, tip.hash)),
            None => self.store.progress().await?,
        };
        if let Some((last, hash)) = ours
            && first.number == last + 1
            && first.parent_hash != hash
        {
            return Err(IndexerError::ChainChanged { block: first.number });
        }
        Ok(())
    }

    /// In `--unfinalized` mode: if our tip is no longer on the node's canonical chain, rolls
    /// back to the fork point.
    pub(super) async fn follow_reorgs(&mut self) -> Result<(), IndexerError> {
        let ours = self.store.recent_blocks(REORG_WINDOW as i64).await?;
        let Some(&(tip, tip_hash)) = ours.last() else { return Ok(()) };
        if self.node.block_hash(tip).await? == Some(tip_hash) {
            return Ok(());
        }
        let mut theirs = Vec::with_capacity(ours.len());
        for (n, _) in ours.iter().rev() {
            let h = self.node.block_hash(*n).await?;
            let same = h.is_some_and(|h| ours.iter().any(|(m, x)| m == n && *x == h));
            theirs.push((*n, h));
            if same {
                break;
            }
        }
        let Some(keep) = crate::reorg::fork_point(&ours, &theirs) else {
            return Err(IndexerError::ReorgTooDeep { tip, window: REORG_WINDOW });
        };
        let hash = ours.iter().find(|(n, _)| *n == keep).map(|(_, h)| *h).expect("fork point is one of ours");
        let removed = self.store.rollback_to(keep, hash).await?;
        self.tip = None;
        metrics::counter!("taoscope_reorgs_total").increment(1);
        tracing::warn!(tip, fork_point = keep, removed, "reorg: rolled back to the common ancestor");
        Ok(())
    }
}
