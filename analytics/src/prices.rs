//! Prices: OHLCV candles of the per-block pool price at 5m/1h/4h/1d with TWAP, market cap,
//! liquidity and the on-chain moving price; TWAP over any window.
//!
//! Inputs are two frames sorted by (netuid, block), with time increasing with the block (the
//! chain's timestamps do; [`sorted_by_subnet_and_time`] checks a frame):
//! - pool: `netuid` i32, `block` i64, `ts` i64 (ms), `price` f64, `moving_price` f64 (nullable),
//!   `tao`, `alpha_in`, `alpha_out` i64 (rao);
//! - trades: `netuid` i32, `ts` i64, `tao` i64 (rao, unsigned amount), `internal` bool (a movement
//!   between two hotkeys of one subnet: no pool trade).
//!
//! A block's price holds from its timestamp until the next block of its subnet (or the end of
//! the data); within a bucket each block weighs by how long its price held there.

use polars::prelude::{
    DataType, Expr, JoinArgs, JoinType, LazyFrame, MaintainOrderJoin, PolarsResult, SortMultipleOptions, col,
    len, lit, when,
};
use polars_plan::plans::AExprSorted;

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
/// Spacing of subnets in the candle group key (bucket indices stay far below it).
const SUBNET_KEY: i64 = 1 << 42;

/// The next block's time in the same subnet, else `end_ms` (rows sorted by netuid, block: the
/// next row, unless it belongs to the next subnet — no window needed).
fn next_ts(end_ms: i64) -> Expr {
    when(col("netuid").shift(lit(-1)).eq(col("netuid"))).then(col("ts").shift(lit(-1))).otherwise(lit(end_ms))
}

/// How long each block's price held, until the next block or `cap`, whichever is first.
fn held(cap: Expr, end_ms: i64) -> Expr {
    let next = next_ts(end_ms);
    let until = when(next.clone().lt(cap.clone())).then(next).otherwise(cap);
    let d = until - col("ts");
    when(d.clone().gt(lit(0i64))).then(d).otherwise(lit(0i64))
}

/// Whether a pool frame is sorted by subnet, then time (what [`candles`] and [`twap`] need).
pub fn sorted_by_subnet_and_time(pool: &polars::prelude::DataFrame) -> PolarsResult<bool> {
    let (netuid, ts) =
        (pool.column("netuid")?.cast(&DataType::Int64)?, pool.column("ts")?.cast(&DataType::Int64)?);
    let mut last: Option<(Option<i64>, Option<i64>)> = None;
    for pair in netuid.i64()?.iter().zip(ts.i64()?.iter()) {
        if last.is_some_and(|l| l > pair) {
            return Ok(false);
        }
        last = Some(pair);
    }
    Ok(true)
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
    // One key per (subnet, bucket). Rows are sorted by subnet and time, so each bucket is a
    // contiguous run and the key is sorted: it groups by slices (no hash table), in order.
    let key = col("netuid").cast(DataType::Int64) * lit(SUBNET_KEY) + col("ts") / lit(w);
    let ohlc = pool
        .with_column(bucket.alias("bucket"))
        .with_column(held(col("bucket") + lit(w), end_ms).alias("dur"))
        .with_column(
            key.clone()
                .set_sorted_flag(AExprSorted { descending: Some(false), nulls_last: None })
                .alias("key"),
        )
        .group_by_stable([col("key")])
        .agg([
            col("netuid").first(),
            col("bucket").first(),
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
        // The final columns before the join, so the join gathers no more than it must.
        .select([
            col("key"),
            col("netuid"),
            col("bucket"),
            col("first_block"),
            col("last_block"),
            col("blocks"),
            col("open"),
            col("high"),
            col("low"),
            col("close"),
            when(col("time").gt(lit(0i64)))
                .then(col("price_time") / col("time").cast(DataType::Float64))
                .otherwise(col("close"))
                .alias("twap"),
            col("moving_price"),
            col("market_cap_tao"),
            col("liquidity_tao"),
        ]);
    let volume = trades
        .filter(col("internal").not())
        .with_column(key.alias("key"))
        .group_by([col("key")])
        .agg([col("tao").sum().alias("volume_rao"), len().cast(DataType::Int32).alias("trades")]);
    Ok(ohlc
        .join(
            volume,
            [col("key")],
            [col("key")],
            JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) },
        )
        .with_columns([col("volume_rao").fill_null(lit(0i64)), col("trades").fill_null(lit(0i32))])
        .drop(polars::prelude::Selector::ByName { names: ["key".into()].into(), strict: true }))
}

/// [`candles`] a batch of subnets at a time, each batch's frame handed to `sink`: memory is
/// bounded by the largest batch's history, not the whole history. `netuids` must be sorted.
pub fn candles_by_subnet_batch(
    pool: LazyFrame,
    trades: LazyFrame,
    interval: Interval,
    end_ms: i64,
    netuids: &[i32],
    per_batch: usize,
    mut sink: impl FnMut(polars::prelude::DataFrame) -> PolarsResult<()>,
) -> PolarsResult<()> {
    for batch in netuids.chunks(per_batch.max(1)) {
        let (first, last) = (batch[0], batch[batch.len() - 1]);
        let within = || col("netuid").gt_eq(lit(first)).and(col("netuid").lt_eq(lit(last)));
        sink(
            candles(pool.clone().filter(within()), trades.clone().filter(within()), interval, end_ms)?
                .collect()?,
        )?;
    }
    Ok(())
}

/// Time-weighted average price per subnet over `[from_ms, to_ms)`: each block's price weighs by
/// how long it held inside the window (the price in force at `from_ms` counts from `from_ms`).
/// `pool` must hold the window's blocks and the last block before it.
pub fn twap(pool: LazyFrame, from_ms: i64, to_ms: i64) -> PolarsResult<LazyFrame> {
    let start = when(col("ts").lt(lit(from_ms))).then(lit(from_ms)).otherwise(col("ts"));
    let next = next_ts(to_ms);
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

#[cfg(test)]
mod tests {
    use polars::prelude::{DataFrame, IntoLazy, NamedFrom, Series};

    use super::*;
    use crate::frame::{f64s, frame, i64s};

    /// One subnet, blocks at t = 0, 60 s, 240 s, 360 s; prices 1, 3, 2, 5.
    fn pool() -> DataFrame {
        frame(vec![
            Series::new("netuid".into(), [1i32, 1, 1, 1]),
            Series::new("block".into(), [10i64, 11, 12, 13]),
            Series::new("ts".into(), [0i64, 60_000, 240_000, 360_000]),
            Series::new("price".into(), [1.0, 3.0, 2.0, 5.0]),
            Series::new("moving_price".into(), [Some(0.5), None, Some(0.7), Some(0.8)]),
            Series::new("tao".into(), [10_000_000_000i64; 4]),
            Series::new("alpha_in".into(), [1_000_000_000i64; 4]),
            Series::new("alpha_out".into(), [1_000_000_000i64; 4]),
        ])
        .unwrap()
    }

    fn trades() -> DataFrame {
        frame(vec![
            Series::new("netuid".into(), [1i32, 1, 1]),
            Series::new("ts".into(), [30_000i64, 200_000, 330_000]),
            Series::new("tao".into(), [5i64, 7, 11]),
            Series::new("internal".into(), [false, true, false]),
        ])
        .unwrap()
    }

    #[test]
    fn five_minute_candles_weigh_prices_by_time_held() {
        let c = candles(pool().lazy(), trades().lazy(), Interval::M5, 420_000).unwrap().collect().unwrap();
        assert_eq!(i64s(&c, "bucket").unwrap(), [Some(0), Some(300_000)]);
        assert_eq!(f64s(&c, "open").unwrap(), [Some(1.0), Some(5.0)]);
        assert_eq!(f64s(&c, "high").unwrap(), [Some(3.0), Some(5.0)]);
        assert_eq!(f64s(&c, "low").unwrap(), [Some(1.0), Some(5.0)]);
        assert_eq!(f64s(&c, "close").unwrap(), [Some(2.0), Some(5.0)]);
        // 1 for 60 s, 3 for 180 s, 2 for 60 s (to the bucket's end): 720 / 300.
        assert!((f64s(&c, "twap").unwrap()[0].unwrap() - 2.4).abs() < 1e-12);
        assert_eq!(f64s(&c, "moving_price").unwrap(), [Some(0.7), Some(0.8)]);
        // price 2 × 2 alpha; 10 TAO × 2.
        assert_eq!(f64s(&c, "market_cap_tao").unwrap()[0], Some(4.0));
        assert_eq!(f64s(&c, "liquidity_tao").unwrap()[0], Some(20.0));
        // The internal movement is no trade.
        assert_eq!(i64s(&c, "volume_rao").unwrap(), [Some(5), Some(11)]);
        assert_eq!(i64s(&c, "trades").unwrap(), [Some(1), Some(1)]);
    }

    #[test]
    fn twap_over_any_window_starts_with_the_price_in_force() {
        // [120 s, 300 s): price 3 for 120 s, then 2 for 60 s.
        let t = twap(pool().lazy(), 120_000, 300_000).unwrap().collect().unwrap();
        assert!((f64s(&t, "twap").unwrap()[0].unwrap() - (3.0 * 120.0 + 2.0 * 60.0) / 180.0).abs() < 1e-12);
        assert_eq!(i64s(&t, "covered_ms").unwrap(), [Some(180_000)]);
    }

    #[test]
    fn intervals_round_trip_their_names() {
        for i in Interval::ALL {
            assert_eq!(Interval::parse(i.as_str()), Some(i));
            assert_eq!(86_400_000 % i.millis(), 0, "buckets align to UTC days");
        }
        assert_eq!(Interval::parse("2h"), None);
    }
}
