//! The raw chain: `extrinsics` and `events`, filtered by block range, pallet and name (or call,
//! signer, outcome), in either order, with keyset cursors on `(block, index)`.
//!
//! Neither table has an index on pallet or name (they cost as much to maintain as the table's
//! own writes, see migration 0003), so a filtered query scans its block range through the
//! primary key; the range of such a scan is capped at [`MAX_FILTER_SCAN_BLOCKS`].

use async_graphql::connection::Connection;
use async_graphql::{Context, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use taoscope_schema::{AccountId, BlockNumber};
use tokio_postgres::Row;

use crate::error::ApiError;
use crate::graphql::page::{PageRequest, SortOrder, page_complexity};
use crate::graphql::scalars::{BlockNumberScalar, Rao};
use crate::graphql::{gql, store};
use crate::store::StoreError;
use crate::store::postgres::{PgStore, db_number, query_err};

/// Widest block range a query filtered by pallet, name, call or signer may scan.
pub const MAX_FILTER_SCAN_BLOCKS: i64 = 100_000;

const EXTRINSIC_CURSOR: &str = "extrinsic";
const EVENT_CURSOR: &str = "event";

/// The columns [`extrinsic`] decodes, in order.
macro_rules! extrinsic_query {
    ($cmp:literal, $order:literal) => {
        concat!(
            "SELECT x.block_number, x.index, x.hash, x.pallet, x.call, x.signer, x.success, x.fee, x.args,
                    b.timestamp
               FROM extrinsics x LEFT JOIN blocks b ON b.number = x.block_number
              WHERE x.block_number BETWEEN $1 AND $2
                AND ($3::text IS NULL OR x.pallet = $3)
                AND ($4::text IS NULL OR x.call = $4)
                AND ($5::text IS NULL OR x.signer = $5)
                AND ($6::boolean IS NULL OR x.success = $6)
                AND (x.block_number, x.index) ",
            $cmp,
            " ($7, $8)
              ORDER BY x.block_number ",
            $order,
            ", x.index ",
            $order,
            " LIMIT $9"
        )
    };
}
const EXTRINSICS_ASC: &str = extrinsic_query!(">", "ASC");
const EXTRINSICS_DESC: &str = extrinsic_query!("<", "DESC");

macro_rules! event_query {
    ($cmp:literal, $order:literal) => {
        concat!(
            "SELECT e.block_number, e.index, e.phase, e.extrinsic_index, e.pallet, e.name, e.data,
                    b.timestamp
               FROM events e LEFT JOIN blocks b ON b.number = e.block_number
              WHERE e.block_number BETWEEN $1 AND $2
                AND ($3::text IS NULL OR e.pallet = $3)
                AND ($4::text IS NULL OR e.name = $4)
                AND (e.block_number, e.index) ",
            $cmp,
            " ($5, $6)
              ORDER BY e.block_number ",
            $order,
            ", e.index ",
            $order,
            " LIMIT $7"
        )
    };
}
const EVENTS_ASC: &str = event_query!(">", "ASC");
const EVENTS_DESC: &str = event_query!("<", "DESC");

const HIGHEST_BLOCK: &str = "SELECT max(number) FROM blocks";

/// Root fields of the raw chain.
#[derive(Debug, Default)]
pub struct ChainQuery;

#[Object]
impl ChainQuery {
    /// Extrinsics in a block range (oldest first by default), optionally by pallet, call,
    /// signer and outcome. A filtered query scans at most 100,000 blocks: without `fromBlock`
    /// and `toBlock` it covers the latest 100,000.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn extrinsics(
        &self,
        ctx: &Context<'_>,
        from_block: Option<BlockNumberScalar>,
        to_block: Option<BlockNumberScalar>,
        #[graphql(desc = "Pallet name, e.g. `SubtensorModule`.")] pallet: Option<String>,
        #[graphql(desc = "Call name, e.g. `add_stake`.")] call: Option<String>,
        #[graphql(desc = "Signer, SS58.")] signer: Option<String>,
        success: Option<bool>,
        #[graphql(default)] order: SortOrder,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Extrinsic>> {
        let signer = signer.map(|s| ss58(&s, "signer")).transpose().map_err(gql)?;
        let filter = ExtrinsicFilter {
            from: from_block.map(|b| b.0),
            to: to_block.map(|b| b.0),
            pallet,
            call,
            signer,
            success,
        };
        extrinsics(store(ctx), &filter, order, first, after.as_deref()).await.map_err(gql)
    }

    /// Events in a block range (oldest first by default), optionally by pallet and name. A
    /// filtered query scans at most 100,000 blocks: without `fromBlock` and `toBlock` it covers
    /// the latest 100,000.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Pallet name, e.g. `SubtensorModule`.")] pallet: Option<String>,
        #[graphql(desc = "Event name, e.g. `StakeAdded`.")] name: Option<String>,
        from_block: Option<BlockNumberScalar>,
        to_block: Option<BlockNumberScalar>,
        #[graphql(default)] order: SortOrder,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Event>> {
        let filter = EventFilter { from: from_block.map(|b| b.0), to: to_block.map(|b| b.0), pallet, name };
        events(store(ctx), &filter, order, first, after.as_deref()).await.map_err(gql)
    }
}

/// Validates an SS58 argument (prefix 42) and returns its canonical form.
pub fn ss58(s: &str, arg: &str) -> Result<String, ApiError> {
    AccountId::from_ss58(s)
        .map(|a| a.to_ss58())
        .map_err(|_| ApiError::BadInput(format!("`{arg}` must be an SS58 address")))
}

/// Which extrinsics.
#[derive(Debug, Clone, Default)]
pub struct ExtrinsicFilter {
    /// First block (inclusive).
    pub from: Option<BlockNumber>,
    /// Last block (inclusive).
    pub to: Option<BlockNumber>,
    /// Pallet name.
    pub pallet: Option<String>,
    /// Call name.
    pub call: Option<String>,
    /// Signer (canonical SS58).
    pub signer: Option<String>,
    /// Outcome.
    pub success: Option<bool>,
}

impl ExtrinsicFilter {
    /// Every extrinsic of block `n`.
    pub fn block(n: BlockNumber) -> Self {
        ExtrinsicFilter { from: Some(n), to: Some(n), ..Default::default() }
    }

    fn scans(&self) -> bool {
        self.pallet.is_some() || self.call.is_some() || self.signer.is_some() || self.success.is_some()
    }
}

/// Which events.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// First block (inclusive).
    pub from: Option<BlockNumber>,
    /// Last block (inclusive).
    pub to: Option<BlockNumber>,
    /// Pallet name.
    pub pallet: Option<String>,
    /// Event name.
    pub name: Option<String>,
}

impl EventFilter {
    /// Every event of block `n`.
    pub fn block(n: BlockNumber) -> Self {
        EventFilter { from: Some(n), to: Some(n), ..Default::default() }
    }
}

/// Resolves a block range: both ends checked, and capped to [`MAX_FILTER_SCAN_BLOCKS`] when the
/// query must scan it (an open range then ends at the highest block).
pub async fn block_range(
    store: &PgStore,
    from: Option<BlockNumber>,
    to: Option<BlockNumber>,
    capped: bool,
) -> Result<(i64, i64), ApiError> {
    let mut from = from.map(db_number);
    let mut to = to.map(db_number);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::BadInput(format!("`fromBlock` ({f}) is after `toBlock` ({t})")));
    }
    if capped {
        match (from, to) {
            (Some(f), Some(t)) if t - f >= MAX_FILTER_SCAN_BLOCKS => {
                return Err(ApiError::BadInput(format!(
                    "a filtered query covers at most {MAX_FILTER_SCAN_BLOCKS} blocks; narrow `fromBlock`..`toBlock`"
                )));
            }
            (Some(f), None) => to = Some(f + MAX_FILTER_SCAN_BLOCKS - 1),
            (None, t) => {
                let top = match t {
                    Some(t) => t,
                    None => highest_block(store).await?,
                };
                to = Some(top);
                from = Some((top - MAX_FILTER_SCAN_BLOCKS + 1).max(0));
            }
            _ => {}
        }
    }
    Ok((from.unwrap_or(0), to.unwrap_or(i64::MAX)))
}

async fn highest_block(store: &PgStore) -> Result<i64, StoreError> {
    let client = store.client().await?;
    let row = client.query_one(HIGHEST_BLOCK, &[]).await.map_err(query_err("HIGHEST_BLOCK"))?;
    Ok(row.get::<_, Option<i64>>(0).unwrap_or(0))
}

/// A page of extrinsics.
pub async fn extrinsics(
    store: &PgStore,
    filter: &ExtrinsicFilter,
    order: SortOrder,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Connection<String, Extrinsic>, ApiError> {
    let page = PageRequest::new(first, after, EXTRINSIC_CURSOR, 2)?;
    let (from, to) = block_range(store, filter.from, filter.to, filter.scans()).await?;
    let (sql, start) = if order.desc() { (EXTRINSICS_DESC, i64::MAX) } else { (EXTRINSICS_ASC, -1) };
    let (after_block, after_index) = (page.after_or(0, start), page.after_or(1, start));
    let after_index = i32::try_from(after_index).unwrap_or(if order.desc() { i32::MAX } else { -1 });
    let client = store.client().await?;
    let rows = client
        .query(
            sql,
            &[
                &from,
                &to,
                &filter.pallet,
                &filter.call,
                &filter.signer,
                &filter.success,
                &after_block,
                &after_index,
                &page.fetch(),
            ],
        )
        .await
        .map_err(query_err("EXTRINSICS"))?;
    let rows = rows.iter().map(extrinsic).collect::<Result<Vec<_>, _>>()?;
    Ok(page.connection(EXTRINSIC_CURSOR, rows, |x| vec![x.block_number.0.0 as i64, i64::from(x.index)]))
}

/// A page of events.
pub async fn events(
    store: &PgStore,
    filter: &EventFilter,
    order: SortOrder,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Connection<String, Event>, ApiError> {
    let page = PageRequest::new(first, after, EVENT_CURSOR, 2)?;
    let scans = filter.pallet.is_some() || filter.name.is_some();
    let (from, to) = block_range(store, filter.from, filter.to, scans).await?;
    let (sql, start) = if order.desc() { (EVENTS_DESC, i64::MAX) } else { (EVENTS_ASC, -1) };
    let (after_block, after_index) = (page.after_or(0, start), page.after_or(1, start));
    let after_index = i32::try_from(after_index).unwrap_or(if order.desc() { i32::MAX } else { -1 });
    let client = store.client().await?;
    let rows = client
        .query(sql, &[&from, &to, &filter.pallet, &filter.name, &after_block, &after_index, &page.fetch()])
        .await
        .map_err(query_err("EVENTS"))?;
    let rows = rows.iter().map(event).collect::<Result<Vec<_>, _>>()?;
    Ok(page.connection(EVENT_CURSOR, rows, |e| vec![e.block_number.0.0 as i64, i64::from(e.index)]))
}

/// One extrinsic.
#[derive(Debug, Clone, SimpleObject)]
pub struct Extrinsic {
    /// Block height.
    pub block_number: BlockNumberScalar,
    /// Position in the block.
    pub index: i32,
    /// blake2-256 of the extrinsic, 0x-hex.
    pub hash: String,
    /// Pallet, when the call decoded.
    pub pallet: Option<String>,
    /// Call, when decoded.
    pub call: Option<String>,
    /// Signer (SS58); null for inherents and unsigned extrinsics.
    pub signer: Option<String>,
    /// Whether it succeeded (from `ExtrinsicSuccess` / `ExtrinsicFailed`).
    pub success: Option<bool>,
    /// Fee paid, in rao.
    pub fee: Option<Rao>,
    /// Fee paid, in TAO.
    pub fee_tao: Option<f64>,
    /// The decoded call arguments.
    pub args: Option<Json<serde_json::Value>>,
    /// The block's time.
    pub timestamp: Option<DateTime<Utc>>,
}

/// One event.
#[derive(Debug, Clone, SimpleObject)]
pub struct Event {
    /// Block height.
    pub block_number: BlockNumberScalar,
    /// Position in the block's events.
    pub index: i32,
    /// `initialization`, `apply_extrinsic` or `finalization`.
    pub phase: String,
    /// The extrinsic that emitted it, in `apply_extrinsic` phase.
    pub extrinsic_index: Option<i32>,
    /// Pallet name.
    pub pallet: String,
    /// Event name.
    pub name: String,
    /// The decoded fields.
    pub data: Json<serde_json::Value>,
    /// The block's time.
    pub timestamp: Option<DateTime<Utc>>,
}

fn block_number(row: &Row, i: usize, what: &'static str) -> Result<BlockNumberScalar, StoreError> {
    crate::store::postgres::number(what, row.get(i)).map(BlockNumberScalar)
}

fn extrinsic(row: &Row) -> Result<Extrinsic, StoreError> {
    let hash: Vec<u8> = row.get(2);
    let fee: Option<i64> = row.get(7);
    Ok(Extrinsic {
        block_number: block_number(row, 0, "extrinsics.block_number")?,
        index: row.get(1),
        hash: format!("0x{}", hex_lower(&hash)),
        pallet: row.get(3),
        call: row.get(4),
        signer: row.get(5),
        success: row.get(6),
        fee: fee.map(Rao),
        fee_tao: fee.map(|f| Rao(f).whole()),
        args: row.get::<_, Option<serde_json::Value>>(8).map(Json),
        timestamp: row.get(9),
    })
}

fn event(row: &Row) -> Result<Event, StoreError> {
    Ok(Event {
        block_number: block_number(row, 0, "events.block_number")?,
        index: row.get(1),
        phase: row.get(2),
        extrinsic_index: row.get(3),
        pallet: row.get(4),
        name: row.get(5),
        data: Json(row.get(6)),
        timestamp: row.get(7),
    })
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
