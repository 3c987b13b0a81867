//! The block queries: `blocks` (a Relay connection, newest first) and `block` (one lookup), with
//! each block's extrinsics and events.

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use taoscope_schema::{BlockHash, BlockNumber};

use crate::error::ApiError;
use crate::graphql::chain::{Event, EventFilter, Extrinsic, ExtrinsicFilter};
use crate::graphql::page::{PageRequest, SortOrder, page_complexity};
use crate::graphql::scalars::BlockNumberScalar;
use crate::graphql::{chain, gql, store};
use crate::store::StoredBlock;

/// The cursor kind of the `blocks` connection (`block:<number>`).
const CURSOR: &str = "block";

/// Root fields of the blocks domain.
#[derive(Debug, Default)]
pub struct BlocksQuery;

#[Object]
impl BlocksQuery {
    /// Indexed blocks, newest first, with Relay cursor pagination: pass a page's
    /// `pageInfo.endCursor` as `after` to get the next (older) page.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn blocks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last block already seen; returns older blocks.")] after: Option<
            String,
        >,
    ) -> Result<Connection<String, Block>> {
        let page = PageRequest::new(first, after.as_deref(), CURSOR, 1).map_err(gql)?;
        let before = page.after.as_ref().map(|k| BlockNumber(u64::try_from(k[0]).unwrap_or(0)));
        let limit = u32::try_from(page.limit).unwrap_or(0);
        let found = store(ctx).blocks_page(before, limit).await.map_err(gql)?;
        let rows: Vec<Block> = found.blocks.into_iter().map(Block::from).collect();
        let mut connection = page.connection(CURSOR, rows, |b| vec![b.db_number()]);
        connection.has_next_page = found.has_older;
        connection.has_previous_page = found.has_newer;
        Ok(connection)
    }

    /// One block, by `number` or by `hash` (exactly one of them); null when not indexed.
    async fn block(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Block height.")] number: Option<BlockNumberScalar>,
        #[graphql(desc = "Block hash, 0x-prefixed hex of 32 bytes.")] hash: Option<String>,
    ) -> Result<Option<Block>> {
        let store = store(ctx);
        let found = match (number, hash) {
            (Some(number), None) => store.block_by_number(number.0).await.map_err(gql)?,
            (None, Some(hash)) => {
                let hash = BlockHash::from_hex(&hash).map_err(|_| {
                    gql(ApiError::BadInput("`hash` must be 0x-prefixed hex of 32 bytes".to_string()))
                })?;
                store.block_by_hash(hash).await.map_err(gql)?
            }
            _ => return Err(gql(ApiError::BadInput("pass exactly one of `number` and `hash`".to_string()))),
        };
        Ok(found.map(Block::from))
    }
}

/// A block header with counts.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Block {
    /// Height.
    pub number: BlockNumberScalar,
    /// Header hash, 0x-prefixed hex.
    pub hash: String,
    /// Parent header hash, 0x-prefixed hex (all zeroes for genesis).
    pub parent_hash: String,
    /// Time set by the block's `Timestamp.set` inherent; null for genesis.
    pub timestamp: Option<DateTime<Utc>>,
    /// The runtime that executed the block (on an upgrade block, the parent's runtime).
    pub spec_version: u32,
    /// Events the block emitted.
    pub event_count: u32,
    /// Extrinsics in the block body.
    pub extrinsic_count: u32,
}

impl Block {
    fn db_number(&self) -> i64 {
        i64::try_from(self.number.0.0).unwrap_or(i64::MAX)
    }
}

#[ComplexObject]
impl Block {
    /// The block's extrinsics in order.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn extrinsics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Extrinsic>> {
        let filter = ExtrinsicFilter::block(self.number.0);
        chain::extrinsics(store(ctx), &filter, SortOrder::Asc, first, after.as_deref()).await.map_err(gql)
    }

    /// The block's events in order.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Event>> {
        let filter = EventFilter::block(self.number.0);
        chain::events(store(ctx), &filter, SortOrder::Asc, first, after.as_deref()).await.map_err(gql)
    }
}

impl From<StoredBlock> for Block {
    fn from(b: StoredBlock) -> Self {
        Block {
            number: BlockNumberScalar(b.number),
            hash: b.hash.to_string(),
            parent_hash: b.parent_hash.to_string(),
            timestamp: b.timestamp,
            spec_version: b.spec_version.0,
            event_count: b.event_count,
            extrinsic_count: b.extrinsic_count,
        }
    }
}
