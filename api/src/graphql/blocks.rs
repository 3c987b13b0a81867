//! The block queries: `blocks` (a Relay connection, newest first) and `block` (one lookup).

use std::fmt;
use std::sync::Arc;

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Context, ErrorExtensions, Object, Result, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use taoscope_schema::{BlockHash, BlockNumber};

use crate::error::ApiError;
use crate::graphql::scalars::BlockNumberScalar;
use crate::store::{Store, StoredBlock};

/// Page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
/// Largest accepted `first`.
pub const MAX_PAGE_SIZE: i32 = 100;

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
        #[graphql(
            default_with = "Some(DEFAULT_PAGE_SIZE)",
            desc = "Page size, from 0 to 100; null means the default."
        )]
        first: Option<i32>,
        #[graphql(desc = "Cursor of the last block already seen; returns older blocks.")] after: Option<
            String,
        >,
    ) -> Result<Connection<BlockCursor, Block>> {
        let store = ctx.data::<Arc<dyn Store>>()?;
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        blocks_page(store.as_ref(), first, after).await.map_err(|e| e.extend())
    }

    /// One block, by `number` or by `hash` (exactly one of them); null when not indexed.
    async fn block(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Block height.")] number: Option<BlockNumberScalar>,
        #[graphql(desc = "Block hash, 0x-prefixed hex of 32 bytes.")] hash: Option<String>,
    ) -> Result<Option<Block>> {
        let store = ctx.data::<Arc<dyn Store>>()?;
        block_lookup(store.as_ref(), number, hash).await.map_err(|e| e.extend())
    }
}

/// Complexity of a `blocks` selection: its fields once per requested row.
fn page_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let rows = usize::try_from(rows).unwrap_or(1);
    rows * child_complexity
}

async fn blocks_page(
    store: &dyn Store,
    first: i32,
    after: Option<String>,
) -> Result<Connection<BlockCursor, Block>, ApiError> {
    let limit =
        u32::try_from(first).ok().filter(|n| *n <= MAX_PAGE_SIZE.unsigned_abs()).ok_or_else(|| {
            ApiError::BadInput(format!("`first` must be between 0 and {MAX_PAGE_SIZE}, got {first}"))
        })?;
    let before = after
        .map(|s| BlockCursor::decode_cursor(&s))
        .transpose()
        .map_err(|e| ApiError::BadInput(e.to_string()))?;
    let page = store.blocks_page(before.map(|c| c.0), limit).await?;
    let mut connection = Connection::new(page.has_newer, page.has_older);
    connection
        .edges
        .extend(page.blocks.into_iter().map(|b| Edge::new(BlockCursor(b.number), Block::from(b))));
    Ok(connection)
}

async fn block_lookup(
    store: &dyn Store,
    number: Option<BlockNumberScalar>,
    hash: Option<String>,
) -> Result<Option<Block>, ApiError> {
    let found = match (number, hash) {
        (Some(number), None) => store.block_by_number(number.0).await?,
        (None, Some(hash)) => {
            let hash = BlockHash::from_hex(&hash)
                .map_err(|_| ApiError::BadInput("`hash` must be 0x-prefixed hex of 32 bytes".to_string()))?;
            store.block_by_hash(hash).await?
        }
        _ => {
            return Err(ApiError::BadInput("pass exactly one of `number` and `hash`".to_string()));
        }
    };
    Ok(found.map(Block::from))
}

/// A block header with counts.
#[derive(Debug, Clone, SimpleObject)]
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

/// Position in the `blocks` connection: an opaque string (base64 of `block:<number>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockCursor(pub BlockNumber);

/// An `after` argument that is not a cursor this API issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedCursor;

impl fmt::Display for MalformedCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed cursor: pass a `cursor` or `endCursor` value from a previous page")
    }
}

const CURSOR_PREFIX: &str = "block:";

impl CursorType for BlockCursor {
    type Error = MalformedCursor;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bytes = STANDARD.decode(s).map_err(|_| MalformedCursor)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| MalformedCursor)?;
        let digits = text.strip_prefix(CURSOR_PREFIX).ok_or(MalformedCursor)?;
        // Digits only: `u64::from_str` would also take a leading '+'.
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MalformedCursor);
        }
        let number: u64 = digits.parse().map_err(|_| MalformedCursor)?;
        if i64::try_from(number).is_err() {
            return Err(MalformedCursor);
        }
        Ok(BlockCursor(BlockNumber(number)))
    }

    fn encode_cursor(&self) -> String {
        STANDARD.encode(format!("{CURSOR_PREFIX}{}", self.0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for n in [0, 1, 4_000_000, i64::MAX as u64] {
            let c = BlockCursor(BlockNumber(n));
            assert_eq!(BlockCursor::decode_cursor(&c.encode_cursor()), Ok(c));
        }
    }

    #[test]
    fn foreign_strings_are_not_cursors() {
        let enc = |s: &str| STANDARD.encode(s);
        for bad in [
            "garbage!".to_string(),
            String::new(),
            enc("block:"),
            enc("block:+5"),
            enc("block:-5"),
            enc("block:99999999999999999999"),
            enc(&format!("block:{}", u64::MAX)),
            enc("extrinsic:5"),
            "12".to_string(),
        ] {
            assert_eq!(BlockCursor::decode_cursor(&bad), Err(MalformedCursor), "{bad}");
        }
    }

    #[test]
    fn complexity_scales_with_the_page_and_stays_bounded() {
        assert_eq!(page_complexity(Some(10), 5), 50);
        assert_eq!(page_complexity(None, 5), 100);
        assert_eq!(page_complexity(Some(1_000), 5), 500);
        assert_eq!(page_complexity(Some(-3), 5), 5);
    }
}
