//! The `status` query: which chain this is and how far it is indexed.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, Object, Result, SimpleObject};

use crate::error::ApiError;
use crate::graphql::scalars::BlockNumberScalar;
use crate::store::{ChainStatus, Store};

/// Root fields of the status domain.
#[derive(Debug, Default)]
pub struct StatusQuery;

#[Object]
impl StatusQuery {
    /// Chain identity and indexing progress.
    async fn status(&self, ctx: &Context<'_>) -> Result<Status> {
        let store = ctx.data::<Arc<dyn Store>>()?;
        let status = store.status().await.map_err(|e| ApiError::from(e).extend())?;
        Ok(Status::from(status))
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
}

impl From<ChainStatus> for Status {
    fn from(s: ChainStatus) -> Self {
        Status {
            chain: s.chain,
            genesis_hash: s.genesis_hash.map(|h| h.to_string()),
            finalized_height: s.finalized.map(BlockNumberScalar),
            indexed_height: s.indexed.map(BlockNumberScalar),
            spec_version: s.spec_version.map(|v| v.0),
        }
    }
}
