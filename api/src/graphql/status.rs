//! The `status` query: which chain this is and how far it is indexed and analysed.

use async_graphql::{Context, Object, Result, SimpleObject};

use crate::graphql::scalars::BlockNumberScalar;
use crate::graphql::{gql, store};
use crate::store::ChainStatus;

/// Root fields of the status domain.
#[derive(Debug, Default)]
pub struct StatusQuery;

#[Object]
impl StatusQuery {
    /// Chain identity and indexing progress.
    async fn status(&self, ctx: &Context<'_>) -> Result<Status> {
        Ok(Status::from(store(ctx).status().await.map_err(gql)?))
    }
}

/// Chain identity and indexing progress. Fields are null until the indexer has written them.
#[derive(Debug, Clone, SimpleObject)]
pub struct Status {
    /// The chain's name as the node reports it (`system_chain`).
    pub chain: Option<String>,
    /// The genesis block hash, 0x-prefixed hex.
    pub genesis_hash: Option<String>,
    /// The node's finalized height as last seen by the indexer.
    pub finalized_height: Option<BlockNumberScalar>,
    /// The highest block the indexer has committed.
    pub indexed_height: Option<BlockNumberScalar>,
    /// The runtime `spec_version` of the highest indexed block.
    pub spec_version: Option<u32>,
    /// Finalized blocks not yet indexed (0 when caught up).
    pub lag_blocks: Option<u64>,
    /// The last block the analytics (candles, emissions, flows, rankings, audit) include.
    pub analytics_height: Option<BlockNumberScalar>,
}

impl From<ChainStatus> for Status {
    fn from(s: ChainStatus) -> Self {
        let lag = s.finalized.zip(s.indexed).map(|(f, i)| f.0.saturating_sub(i.0));
        Status {
            chain: s.chain,
            genesis_hash: s.genesis_hash.map(|h| h.to_string()),
            finalized_height: s.finalized.map(BlockNumberScalar),
            indexed_height: s.indexed.map(BlockNumberScalar),
            spec_version: s.spec_version.map(|v| v.0),
            lag_blocks: lag,
            analytics_height: s.analytics.map(BlockNumberScalar),
        }
    }
}
