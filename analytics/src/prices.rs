//! Prices: OHLCV candles of the per-block pool price at 5m/1h/4h/1d with TWAP, market cap,
//! liquidity and the on-chain moving price; TWAP over any window.
//!
//! Inputs are two frames sorted by (netuid, block):
//! - pool: `netuid` i32, `block` i64, `ts` i64 (ms), `price` f64, `moving_price` f64 (nullable),
//!   `tao`, `alpha_in`, `alpha_out` i64 (rao);
//! - trades: `netuid` i32, `ts` i64, `tao` i64 (rao, unsigned amount), `internal` bool (a movement
//!   between two hotkeys of one subnet: no pool trade).
//!
//! A block's price holds from its timestamp until the next block of its subnet (or the end of
//! the data); within a bucket each block weighs by how long its price held there.

use polars::prelude::{
    DataType, Expr, JoinArgs, JoinType, LazyFrame, PolarsResult, SortMultipleOptions, col, len, lit, when,
};

/// Candle widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// 5 minutes.
    M5,
    /// 1 hour.
    H1,
    /// 4 hours.
    H4,
    /// 1 day (UTC).
    D1,
}

impl Interval {
    /// Every interval, shortest first.
    pub const ALL: [Interval; 4] = [Interval::M5, Interval::H1, Interval::H4, Interval::D1];

    /// Width in milliseconds.
    pub fn millis(self) -> i64 {
        match self {
            Interval::M5 => 300_000,
            Interval::H1 => 3_600_000,
            Interval::H4 => 14_400_000,
            Interval::D1 => 86_400_000,
        }
    }

    /// The name stored in `candles.interval`.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::M5 => "5m",
            Interval::H1 => "1h",
            Interval::H4 => "4h",
            Interval::D1 => "1d",
        }
    }

    /// Parses `5m`, `1h`, `4h`, `1d`.
    pub fn parse(s: &str) -> Option<Interval> {
        Interval::ALL.into_iter().find(|i| i.as_str() == s)
    }
}

const RAO: f64 = 1e9;

/// How long each block's price held, ending at `until` (next block, capped by `cap`).
fn held(cap: Expr, end_ms: i64) -> PolarsResult<Expr> {
    let next = col("ts").shift(lit(-1)).over([col("netuid")])?.fill_null(lit(end_ms));
    let until = when(next.clone().lt(cap.clone())).then(next).otherwise(cap);
    let d = until - col("ts");
    Ok(when(d.clone().gt(lit(0i64))).then(d).otherwise(lit(0i64)))
}

/// Candles of `interval` (one row per subnet and bucket; `bucket` is the start in ms).
/// `end_ms` is where the data ends (the last block's price holds until then).
pub fn candles(
    pool: LazyFrame,
    trades: LazyFrame,
    interval: Interval,
    end_ms: i64,
) -> PolarsResult<LazyFrame> {
    let w = interval.millis();
    let bucket = col("ts") - col("ts") % lit(w);
    let ohlc = pool
        .with_column(bucket.clone().alias("bucket"))
        .with_column(held(col("bucket") + lit(w), end_ms)?.alias("dur"))
        .group_by([col("netuid"), col("bucket")])
        .agg([
            col("block").first().alias("first_block"),
            col("block").last().alias("last_block"),
            len().cast(DataType::Int32).alias("blocks"),
            col("price").first().alias("open"),
            col("price").max().alias("high"),
            col("price").min().alias("low"),
            col("price").last().alias("close"),
            (col("price") * col("dur").cast(DataType::Float64)).sum().alias("price_time"),
            col("dur").sum().alias("time"),
            col("moving_price").last().alias("moving_price"),
            (col("price") * (col("alpha_in") + col("alpha_out")).cast(DataType::Float64) / lit(RAO))
                .last()
                .alias("market_cap_tao"),
            (col("tao").cast(DataType::Float64) * lit(2.0 / RAO)).last().alias("liquidity_tao"),
        ])
        .with_column(
            when(col("time").gt(lit(0i64)))
                .then(col("price_time") / col("time").cast(DataType::Float64))
                .otherwise(col("close"))
                .alias("twap"),
        );
    let volume = trades
        .filter(col("internal").not())
        .with_column(bucket.alias("bucket"))
        .group_by([col("netuid"), col("bucket")])
        .agg([col("tao").sum().alias("volume_rao"), len().cast(DataType::Int32).alias("trades")]);
    Ok(ohlc
        .join(
            volume,
            [col("netuid"), col("bucket")],
            [col("netuid"), col("bucket")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([col("volume_rao").fill_null(lit(0i64)), col("trades").fill_null(lit(0i32))])
        .select([
            col("netuid"),
            col("bucket"),
            col("first_block"),
            col("last_block"),
            col("blocks"),
            col("open"),
            col("high"),
            col("low"),
            col("close"),
            col("twap"),
            col("moving_price"),
            col("market_cap_tao"),
            col("liquidity_tao"),
            col("volume_rao"),
            col("trades"),
        ])
        .sort(["netuid", "bucket"], SortMultipleOptions::default()))
}

/// Time-weighted average price per subnet over `[from_ms, to_ms)`: each block's price weighs by
/// how long it held inside the window (the price in force at `from_ms` counts from `from_ms`).
/// `pool` must hold the window's blocks and the last block before it.
pub fn twap(pool: LazyFrame, from_ms: i64, to_ms: i64) -> PolarsResult<LazyFrame> {
    let start = when(col("ts").lt(lit(from_ms))).then(lit(from_ms)).otherwise(col("ts"));
    let next = col("ts").shift(lit(-1)).over([col("netuid")])?.fill_null(lit(to_ms));
    let until = when(next.clone().lt(lit(to_ms))).then(next).otherwise(lit(to_ms));
    Ok(pool
        .filter(col("ts").lt(lit(to_ms)))
        .with_column((until - start).alias("dur"))
        .filter(col("dur").gt(lit(0i64)))
        .group_by([col("netuid")])
        .agg([
            ((col("price") * col("dur").cast(DataType::Float64)).sum()
                / col("dur").sum().cast(DataType::Float64))
            .alias("twap"),
            col("dur").sum().alias("covered_ms"),
        ])
        .sort(["netuid"], SortMultipleOptions::default()))
}
