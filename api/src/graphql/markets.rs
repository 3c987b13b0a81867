//! A subnet's market history, as the analytics computed it: price candles, the TWAP over any
//! window, daily emissions and daily net TAO flows.

use async_graphql::connection::Connection;
use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use tokio_postgres::Row;

use crate::error::ApiError;
use crate::graphql::page::{PageRequest, SortOrder};
use crate::graphql::scalars::{BlockNumberScalar, Rao};
use crate::store::StoreError;
use crate::store::postgres::{PgStore, number, query_err};

/// Longest accepted TWAP window.
pub const MAX_TWAP_DAYS: i64 = 366;

/// A candle's width.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandleInterval {
    /// 5 minutes.
    M5,
    /// 1 hour.
    H1,
    /// 4 hours.
    H4,
    /// 1 day (UTC).
    D1,
}

impl CandleInterval {
    /// The `candles.interval` value.
    pub fn as_db(self) -> &'static str {
        match self {
            CandleInterval::M5 => "5m",
            CandleInterval::H1 => "1h",
            CandleInterval::H4 => "4h",
            CandleInterval::D1 => "1d",
        }
    }
}

/// A time window; open ends are unbounded.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeRange {
    /// Inclusive start.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive end.
    pub to: Option<DateTime<Utc>>,
}

/// A range of UTC days; open ends are unbounded.
#[derive(Debug, Clone, Copy, Default)]
pub struct DayRange {
    /// First day (inclusive).
    pub from: Option<NaiveDate>,
    /// Last day (inclusive).
    pub to: Option<NaiveDate>,
}

/// Bounds outside any indexed chain but inside PostgreSQL's timestamp range.
fn time_floor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).single().expect("valid")
}
fn time_ceiling() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0).single().expect("valid")
}

macro_rules! candle_query {
    ($cmp:literal, $order:literal) => {
        concat!(
            "SELECT bucket_start, first_block, last_block, blocks, open, high, low, close, twap,
                    moving_price, market_cap_tao, liquidity_tao, volume_rao, trades
               FROM candles
              WHERE netuid = $1 AND interval = $2 AND bucket_start >= $3 AND bucket_start < $4
                AND bucket_start ",
            $cmp,
            " $5
              ORDER BY bucket_start ",
            $order,
            " LIMIT $6"
        )
    };
}
const CANDLES_ASC: &str = candle_query!(">", "ASC");
const CANDLES_DESC: &str = candle_query!("<", "DESC");

/// The TWAP from pool states: each block's price holds from its time until the next block's
/// (or the window's end), clipped to the window; the block in force at `from` is included. The
/// same rule as the analytics' `prices::twap`.
const TWAP: &str = "
    WITH bounds AS (
        SELECT COALESCE((SELECT number FROM blocks WHERE timestamp <= $2
                          ORDER BY timestamp DESC LIMIT 1), 0) AS first,
               COALESCE((SELECT number FROM blocks WHERE timestamp < $3
                          ORDER BY timestamp DESC LIMIT 1), -1) AS last
    ), held AS (
        SELECT p.price::float8 AS price,
               extract(epoch FROM LEAST(COALESCE(lead(b.timestamp) OVER w, $3), $3)
                                 - GREATEST(b.timestamp, $2)) AS secs
          FROM bounds, pool_state p JOIN blocks b ON b.number = p.block_number
         WHERE p.netuid = $1 AND p.block_number BETWEEN bounds.first AND bounds.last
        WINDOW w AS (ORDER BY p.block_number)
    )
    SELECT sum(price * secs) / NULLIF(sum(secs), 0) FROM held WHERE secs > 0";

macro_rules! day_query {
    ($columns:literal, $table:literal) => {
        concat!(
            "SELECT ",
            $columns,
            " FROM ",
            $table,
            " WHERE netuid = $1 AND day BETWEEN $2 AND $3 AND day > $4 ORDER BY day LIMIT $5"
        )
    };
}
const EMISSIONS: &str = day_query!(
    "day, first_block, last_block, blocks, tao_in, alpha_in, alpha_out, owner_alpha, miner_alpha,
     validator_alpha, root_alpha, tao_share, cum_tao_in, cum_alpha_in, cum_alpha_out, era",
    "emissions_daily"
);
const FLOWS: &str = day_query!(
    "day, first_block, last_block, tao_in, tao_out, net_flow, stakes, unstakes, ema_flow",
    "flows_daily"
);

/// Microseconds since the Unix epoch, for cursors.
fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> Result<DateTime<Utc>, ApiError> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| ApiError::BadInput("malformed cursor: pass a `cursor` value from this list".into()))
}

/// A page of candles.
pub async fn candles(
    store: &PgStore,
    netuid: i32,
    interval: CandleInterval,
    range: TimeRange,
    order: SortOrder,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Connection<String, Candle>, ApiError> {
    const CURSOR: &str = "candle";
    let page = PageRequest::new(first, after, CURSOR, 1)?;
    let from = range.from.unwrap_or_else(time_floor).max(time_floor());
    let to = range.to.unwrap_or_else(time_ceiling).min(time_ceiling());
    let (sql, start) =
        if order.desc() { (CANDLES_DESC, time_ceiling()) } else { (CANDLES_ASC, time_floor()) };
    let after = match &page.after {
        Some(k) => from_micros(k[0])?,
        None if order.desc() => start,
        None => start - chrono::Duration::seconds(1),
    };
    let client = store.client().await?;
    let rows = client
        .query(sql, &[&netuid, &interval.as_db(), &from, &to, &after, &page.fetch()])
        .await
        .map_err(query_err("CANDLES"))?;
    let rows = rows.iter().map(candle).collect::<Result<Vec<_>, _>>()?;
    Ok(page.connection(CURSOR, rows, |c| vec![micros(c.start)]))
}

/// The TWAP over `[from, to)`.
pub async fn twap(
    store: &PgStore,
    netuid: i32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Option<f64>, ApiError> {
    if from >= to {
        return Err(ApiError::BadInput("`from` must be before `to`".into()));
    }
    if to - from > chrono::Duration::days(MAX_TWAP_DAYS) {
        return Err(ApiError::BadInput(format!("a TWAP window is at most {MAX_TWAP_DAYS} days")));
    }
    let client = store.client().await?;
    let row = client.query_one(TWAP, &[&netuid, &from, &to]).await.map_err(query_err("TWAP"))?;
    Ok(row.get(0))
}

fn day_bounds(range: DayRange) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let from = range.from.unwrap_or(NaiveDate::MIN.max(NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")));
    let to = range.to.unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid"));
    if from > to {
        return Err(ApiError::BadInput("`from` is after `to`".into()));
    }
    Ok((from, to))
}

fn day_after(page: &PageRequest) -> Result<NaiveDate, ApiError> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid");
    match &page.after {
        Some(k) => epoch.checked_add_signed(chrono::Duration::days(k[0])).ok_or_else(|| {
            ApiError::BadInput("malformed cursor: pass a `cursor` value from this list".into())
        }),
        None => Ok(epoch.pred_opt().expect("valid")),
    }
}

fn day_key(day: NaiveDate) -> i64 {
    (day - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days()
}

/// A page of daily emissions.
pub async fn emissions(
    store: &PgStore,
    netuid: i32,
    range: DayRange,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Connection<String, EmissionDay>, ApiError> {
    const CURSOR: &str = "emission";
    let page = PageRequest::new(first, after, CURSOR, 1)?;
    let (from, to) = day_bounds(range)?;
    let after = day_after(&page)?;
    let client = store.client().await?;
    let rows = client
        .query(EMISSIONS, &[&netuid, &from, &to, &after, &page.fetch()])
        .await
        .map_err(query_err("EMISSIONS"))?;
    let rows = rows.iter().map(emission_day).collect::<Result<Vec<_>, _>>()?;
    Ok(page.connection(CURSOR, rows, |d| vec![day_key(d.day)]))
}

/// A page of daily flows.
pub async fn flows(
    store: &PgStore,
    netuid: i32,
    range: DayRange,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Connection<String, FlowDay>, ApiError> {
    const CURSOR: &str = "flow";
    let page = PageRequest::new(first, after, CURSOR, 1)?;
    let (from, to) = day_bounds(range)?;
    let after = day_after(&page)?;
    let client = store.client().await?;
    let rows = client
        .query(FLOWS, &[&netuid, &from, &to, &after, &page.fetch()])
        .await
        .map_err(query_err("FLOWS"))?;
    let rows = rows.iter().map(flow_day).collect::<Result<Vec<_>, _>>()?;
    Ok(page.connection(CURSOR, rows, |d| vec![day_key(d.day)]))
}

/// One OHLC candle of the price (TAO per alpha).
#[derive(Debug, Clone, SimpleObject)]
pub struct Candle {
    /// Bucket start (UTC).
    pub start: DateTime<Utc>,
    /// First block in the bucket.
    pub first_block: BlockNumberScalar,
    /// Last block in the bucket.
    pub last_block: BlockNumberScalar,
    /// Blocks in the bucket.
    pub blocks: i32,
    /// Price at the first block.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Price at the last block.
    pub close: f64,
    /// Time-weighted average price in the bucket.
    pub twap: f64,
    /// The chain's moving price at the last block.
    pub moving_price: Option<f64>,
    /// Price × (alpha in + alpha out) at the last block, TAO.
    pub market_cap_tao: f64,
    /// TAO reserve × 2 at the last block, TAO.
    pub liquidity_tao: f64,
    /// TAO traded through the pool (stakes and unstakes), rao.
    pub volume: Rao,
    /// TAO traded, TAO.
    pub volume_tao: f64,
    /// Pool trades.
    pub trades: i32,
}

/// A subnet's emissions over one UTC day.
#[derive(Debug, Clone, SimpleObject)]
pub struct EmissionDay {
    /// The day.
    pub day: NaiveDate,
    /// First block of the day.
    pub first_block: BlockNumberScalar,
    /// Last block of the day.
    pub last_block: BlockNumberScalar,
    /// Blocks.
    pub blocks: i32,
    /// TAO injected into the pool, rao.
    pub tao_in: Rao,
    /// TAO injected, TAO.
    pub tao_in_tao: f64,
    /// Alpha injected into the pool, alpha rao.
    pub alpha_in: Rao,
    /// Alpha injected, alpha.
    pub alpha_in_alpha: f64,
    /// Alpha emitted to participants, alpha rao.
    pub alpha_out: Rao,
    /// Alpha emitted, alpha.
    pub alpha_out_alpha: f64,
    /// The owner's cut, alpha rao.
    pub owner_alpha: Rao,
    /// Miners' share, alpha rao.
    pub miner_alpha: Rao,
    /// Validators' share, alpha rao.
    pub validator_alpha: Rao,
    /// Root stakers' share, alpha rao.
    pub root_alpha: Rao,
    /// This subnet's share of the day's TAO emission.
    pub tao_share: f64,
    /// TAO injected since indexing began, rao.
    pub cum_tao_in: Rao,
    /// Alpha injected since indexing began, alpha rao.
    pub cum_alpha_in: Rao,
    /// Alpha emitted since indexing began, alpha rao.
    pub cum_alpha_out: Rao,
    /// The emission methodology era(s) of the day's blocks.
    pub era: String,
}

/// A subnet's net TAO flow over one UTC day.
#[derive(Debug, Clone, SimpleObject)]
pub struct FlowDay {
    /// The day.
    pub day: NaiveDate,
    /// First block of the day.
    pub first_block: BlockNumberScalar,
    /// Last block of the day.
    pub last_block: BlockNumberScalar,
    /// TAO staked in, rao.
    pub tao_in: Rao,
    /// TAO staked in, TAO.
    pub tao_in_tao: f64,
    /// TAO unstaked, rao.
    pub tao_out: Rao,
    /// TAO unstaked, TAO.
    pub tao_out_tao: f64,
    /// In minus out, rao.
    pub net_flow: Rao,
    /// In minus out, TAO.
    pub net_flow_tao: f64,
    /// Stake events.
    pub stakes: i32,
    /// Unstake events.
    pub unstakes: i32,
    /// The chain-style EMA of net flow at the day's end, rao per block.
    pub ema_flow: f64,
}

fn block(row: &Row, i: usize, what: &'static str) -> Result<BlockNumberScalar, StoreError> {
    number(what, row.get(i)).map(BlockNumberScalar)
}

fn candle(row: &Row) -> Result<Candle, StoreError> {
    let volume: i64 = row.get(12);
    Ok(Candle {
        start: row.get(0),
        first_block: block(row, 1, "candles.first_block")?,
        last_block: block(row, 2, "candles.last_block")?,
        blocks: row.get(3),
        open: row.get(4),
        high: row.get(5),
        low: row.get(6),
        close: row.get(7),
        twap: row.get(8),
        moving_price: row.get(9),
        market_cap_tao: row.get(10),
        liquidity_tao: row.get(11),
        volume: Rao(volume),
        volume_tao: Rao(volume).whole(),
        trades: row.get(13),
    })
}

fn emission_day(row: &Row) -> Result<EmissionDay, StoreError> {
    let rao = |i: usize| Rao(row.get(i));
    Ok(EmissionDay {
        day: row.get(0),
        first_block: block(row, 1, "emissions_daily.first_block")?,
        last_block: block(row, 2, "emissions_daily.last_block")?,
        blocks: row.get(3),
        tao_in: rao(4),
        tao_in_tao: rao(4).whole(),
        alpha_in: rao(5),
        alpha_in_alpha: rao(5).whole(),
        alpha_out: rao(6),
        alpha_out_alpha: rao(6).whole(),
        owner_alpha: rao(7),
        miner_alpha: rao(8),
        validator_alpha: rao(9),
        root_alpha: rao(10),
        tao_share: row.get(11),
        cum_tao_in: rao(12),
        cum_alpha_in: rao(13),
        cum_alpha_out: rao(14),
        era: row.get(15),
    })
}

fn flow_day(row: &Row) -> Result<FlowDay, StoreError> {
    let rao = |i: usize| Rao(row.get(i));
    Ok(FlowDay {
        day: row.get(0),
        first_block: block(row, 1, "flows_daily.first_block")?,
        last_block: block(row, 2, "flows_daily.last_block")?,
        tao_in: rao(3),
        tao_in_tao: rao(3).whole(),
        tao_out: rao(4),
        tao_out_tao: rao(4).whole(),
        net_flow: rao(5),
        net_flow_tao: rao(5).whole(),
        stakes: row.get(6),
        unstakes: row.get(7),
        ema_flow: row.get(8),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_cursors_count_days_since_the_epoch() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let page = PageRequest { limit: 1, after: Some(vec![day_key(d)]) };
        assert_eq!(day_after(&page).unwrap(), d);
    }
}
