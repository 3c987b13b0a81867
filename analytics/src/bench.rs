//! `taoscope bench analytics`: one year of 5-minute pool history, analysed with Polars over a
//! Parquet snapshot and with SQL over the same rows in PostgreSQL.
//!
//! The history is synthetic but shaped like the chain's: per subnet a multiplicative random walk
//! of the price, reserves and alpha out that grow with emission, a moving price, recorded
//! emissions per row, and stake trades (about one per four rows). Both sides compute the same
//! aggregates: candles at 5m/1h/4h/1d (OHLC, time-weighted price, market cap, liquidity, TAO
//! volume and trade count), the whole-window TWAP per subnet, and daily emissions with their
//! split and shares. Polars' time includes scanning the Parquet files (candles are computed 32
//! subnets at a time, so memory is bounded by a batch's history); PostgreSQL's materialises each
//! result into a temporary table (as Polars materialises frames).

use std::path::Path;

use polars::prelude::{
    DataFrame, IntoLazy, LazyFrame, NamedFrom, ParquetCompression, ParquetWriter, ScanArgsParquet, Series,
    col,
};

use crate::AnalyticsError;
use crate::frame::frame;
use crate::prices::{Interval, candles_by_subnet_batch, twap};

/// Subnets per candle batch (memory is bounded by a batch's history).
const SUBNETS_PER_BATCH: usize = 32;
/// Blocks per 5-minute step.
const BLOCKS_PER_STEP: i64 = 25;
const STEP_MS: i64 = 300_000;
/// 2025-02-13 00:00 UTC (dTAO launch day), where the history starts.
const START_MS: i64 = 1_739_404_800_000;

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The synthetic history: the pool frame and the trades frame (schemas of [`crate::prices`]
/// and [`crate::emissions`]).
pub fn history(subnets: u16, days: u32) -> Result<(DataFrame, DataFrame), AnalyticsError> {
    let steps = i64::from(days) * 288;
    let n = usize::from(subnets) * steps as usize;
    let mut c_netuid = Vec::with_capacity(n);
    let mut c_block = Vec::with_capacity(n);
    let mut c_ts = Vec::with_capacity(n);
    let mut c_price = Vec::with_capacity(n);
    let mut c_moving = Vec::with_capacity(n);
    let (mut c_tao, mut c_ain, mut c_aout) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut c_tin, mut c_aine, mut c_aoute) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut t_netuid, mut t_block, mut t_ts, mut t_add, mut t_tao, mut t_internal) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for netuid in 1..=i32::from(subnets) {
        let mut rng = Rng(0x7461_6f73 ^ (netuid as u64) << 20);
        let mut price = 0.002 + 0.05 * rng.unit();
        let mut moving = price;
        let mut alpha_in = 1.0e15 + 1.0e15 * rng.unit();
        let mut alpha_out = 2.0e14 * rng.unit();
        for step in 0..steps {
            price *= (0.004 * (rng.unit() - 0.5)).exp();
            moving = 0.999 * moving + 0.001 * price.min(1.0);
            let alpha_em = 25_000_000_000.0; // 1 alpha per block x 25 blocks, in rao
            alpha_in += alpha_em * 0.3;
            alpha_out += alpha_em;
            c_netuid.push(netuid);
            c_block.push(step * BLOCKS_PER_STEP);
            c_ts.push(START_MS + step * STEP_MS);
            c_price.push(price);
            c_moving.push(moving);
            c_tao.push((alpha_in * price) as i64);
            c_ain.push(alpha_in as i64);
            c_aout.push(alpha_out as i64);
            c_tin.push((alpha_em * 0.3 * price) as i64);
            c_aine.push((alpha_em * 0.3) as i64);
            c_aoute.push(alpha_em as i64);
            if rng.next().is_multiple_of(4) {
                t_netuid.push(netuid);
                t_block.push(step * BLOCKS_PER_STEP + (rng.next() % 25) as i64);
                t_ts.push(START_MS + step * STEP_MS + (rng.next() % 300_000) as i64);
                t_add.push(rng.next().is_multiple_of(2));
                t_tao.push((rng.unit() * 50.0e9) as i64);
                t_internal.push(rng.next().is_multiple_of(50));
            }
        }
    }
    let spec = vec![343i32; n];
    let pool = frame(vec![
        Series::new("netuid".into(), c_netuid),
        Series::new("block".into(), c_block),
        Series::new("ts".into(), c_ts),
        Series::new("spec".into(), spec),
        Series::new("price".into(), c_price),
        Series::new("moving_price".into(), c_moving),
        Series::new("tao".into(), c_tao),
        Series::new("alpha_in".into(), c_ain),
        Series::new("alpha_out".into(), c_aout),
        Series::new("tao_in_emission".into(), c_tin),
        Series::new("alpha_in_emission".into(), c_aine),
        Series::new("alpha_out_emission".into(), c_aoute),
    ])?;
    let trades = frame(vec![
        Series::new("netuid".into(), t_netuid),
        Series::new("block".into(), t_block),
        Series::new("ts".into(), t_ts),
        Series::new("is_add".into(), t_add),
        Series::new("tao".into(), t_tao),
        Series::new("internal".into(), t_internal),
    ])?;
    Ok((pool, trades))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> AnalyticsError + '_ {
    move |source| AnalyticsError::File { path: path.display().to_string(), source }
}

/// Writes a frame as a zstd-compressed Parquet file.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<u64, AnalyticsError> {
    let file = std::fs::File::create(path).map_err(io(path))?;
    Ok(ParquetWriter::new(file).with_compression(ParquetCompression::Zstd(None)).finish(df)?)
}

/// Scans a Parquet file lazily (each query reads the columns it needs).
pub fn scan_parquet(path: &Path) -> Result<LazyFrame, AnalyticsError> {
    Ok(LazyFrame::scan_parquet(path.to_string_lossy().as_ref().into(), ScanArgsParquet::default())?)
}

/// The Polars side: over both snapshots (scanned by each query), candles at every interval, the
/// window's TWAP and daily emissions; returns the result rows.
pub fn polars_aggregates(pool_path: &Path, trades_path: &Path) -> Result<usize, AnalyticsError> {
    let pool = scan_parquet(pool_path)?;
    let trades = scan_parquet(trades_path)?;
    let span =
        pool.clone().select([col("ts").min().alias("start"), col("ts").max().alias("end")]).collect()?;
    let (start_ms, end_ms) = (
        crate::frame::i64s(&span, "start")?[0].unwrap_or(0),
        crate::frame::i64s(&span, "end")?[0].unwrap_or(0) + STEP_MS,
    );
    let netuids = pool.clone().select([col("netuid").unique_stable()]).collect()?;
    let mut netuids: Vec<i32> =
        crate::frame::i64s(&netuids, "netuid")?.into_iter().flatten().map(|n| n as i32).collect();
    netuids.sort_unstable();
    let mut rows = 0;
    for interval in Interval::ALL {
        candles_by_subnet_batch(
            pool.clone(),
            trades.clone(),
            interval,
            end_ms,
            &netuids,
            SUBNETS_PER_BATCH,
            |c| {
                rows += c.height();
                Ok(())
            },
        )?;
    }
    rows += twap(pool.clone(), start_ms, end_ms)?.collect()?.height();
    let emission_columns = [
        "netuid",
        "block",
        "ts",
        "spec",
        "tao",
        "alpha_in",
        "alpha_out",
        "tao_in_emission",
        "alpha_in_emission",
        "alpha_out_emission",
    ];
    let per_block = crate::emissions::per_block(&pool.select(emission_columns.map(col)).collect()?)?;
    rows += crate::emissions::daily_with_era(per_block.lazy(), crate::emissions::no_base()?)?.height();
    Ok(rows)
}

/// Tables for the PostgreSQL side.
pub const CREATE_TABLES: &str = "
    CREATE TABLE bench_pool (netuid int4, block int8, ts int8, spec int4, price float8, moving_price float8,
                             tao int8, alpha_in int8, alpha_out int8, tao_in_emission int8,
                             alpha_in_emission int8, alpha_out_emission int8);
    CREATE TABLE bench_trades (netuid int4, block int8, ts int8, is_add bool, tao int8, internal bool);";

/// The PostgreSQL side: the same aggregates, each materialised into a temporary table.
/// `$END` stands for the window's end (ms).
pub fn sql_aggregates(end_ms: i64) -> Vec<String> {
    let mut out = Vec::new();
    for interval in Interval::ALL {
        let w = interval.millis();
        out.push(format!(
            "CREATE TEMP TABLE c_{name} AS
             WITH p AS (
                 SELECT netuid, block, ts, price, moving_price, tao, alpha_in, alpha_out, ts - ts % {w} AS bucket,
                        LEAST(coalesce(lead(ts) OVER (PARTITION BY netuid ORDER BY block), {end_ms}),
                              ts - ts % {w} + {w}) - ts AS dur
                 FROM bench_pool),
             c AS (
                 SELECT netuid, bucket, min(block) AS first_block, max(block) AS last_block, count(*) AS blocks,
                        (array_agg(price ORDER BY block))[1] AS open, max(price) AS high, min(price) AS low,
                        (array_agg(price ORDER BY block DESC))[1] AS close,
                        coalesce(sum(price * dur) / nullif(sum(dur), 0), (array_agg(price ORDER BY block DESC))[1]) AS twap,
                        (array_agg(moving_price ORDER BY block DESC))[1] AS moving_price,
                        (array_agg(price * (alpha_in + alpha_out) / 1e9 ORDER BY block DESC))[1] AS market_cap_tao,
                        (array_agg(tao * 2 / 1e9 ORDER BY block DESC))[1] AS liquidity_tao
                 FROM p GROUP BY netuid, bucket),
             v AS (
                 SELECT netuid, ts - ts % {w} AS bucket, sum(tao) AS volume_rao, count(*) AS trades
                 FROM bench_trades WHERE NOT internal GROUP BY 1, 2)
             SELECT c.*, coalesce(v.volume_rao, 0) AS volume_rao, coalesce(v.trades, 0) AS trades
             FROM c LEFT JOIN v USING (netuid, bucket)",
            name = interval.as_str(),
        ));
    }
    out.push(format!(
        "CREATE TEMP TABLE twap AS
         SELECT netuid, sum(price * dur) / sum(dur) AS twap, sum(dur) AS covered_ms
         FROM (SELECT netuid, price, coalesce(lead(ts) OVER (PARTITION BY netuid ORDER BY block), {end_ms}) - ts AS dur
               FROM bench_pool) p
         WHERE dur > 0 GROUP BY netuid"
    ));
    out.push(
        "CREATE TEMP TABLE emissions AS
         WITH b AS (
             SELECT netuid, block, ts / 86400000 AS day, coalesce(tao_in_emission, 0) AS tao_in,
                    coalesce(alpha_in_emission, 0) AS alpha_in, coalesce(alpha_out_emission, 0) AS alpha_out,
                    floor(coalesce(alpha_out_emission, 0) * 11796 / 65535.0)::int8 AS owner_alpha
             FROM bench_pool),
         d AS (
             SELECT netuid, day, min(block) AS first_block, max(block) AS last_block, count(*) AS blocks,
                    sum(tao_in) AS tao_in, sum(alpha_in) AS alpha_in, sum(alpha_out) AS alpha_out,
                    sum(owner_alpha) AS owner_alpha, sum((alpha_out - owner_alpha) / 2) AS miner_alpha,
                    sum(alpha_out - owner_alpha - (alpha_out - owner_alpha) / 2) AS validator_alpha
             FROM b GROUP BY netuid, day)
         SELECT d.*, tao_in::float8 / nullif(sum(tao_in) OVER (PARTITION BY day), 0) AS tao_share,
                sum(tao_in) OVER (PARTITION BY netuid ORDER BY day) AS cum_tao_in,
                sum(alpha_in) OVER (PARTITION BY netuid ORDER BY day) AS cum_alpha_in,
                sum(alpha_out) OVER (PARTITION BY netuid ORDER BY day) AS cum_alpha_out
         FROM d"
            .to_owned(),
    );
    out
}

/// Text COPY lines of a frame's rows (columns in frame order; NULL as `\N`).
pub fn copy_text(df: &DataFrame) -> Result<Vec<u8>, AnalyticsError> {
    let mut cols: Vec<Vec<String>> = Vec::new();
    for c in df.columns() {
        let s = c.as_materialized_series();
        let v: Vec<String> = match s.dtype() {
            polars::prelude::DataType::Boolean => s
                .bool()?
                .iter()
                .map(|x| x.map_or("\\N".into(), |b| if b { "t".into() } else { "f".into() }))
                .collect(),
            polars::prelude::DataType::Float64 => {
                s.f64()?.iter().map(|x| x.map_or("\\N".into(), |f| format!("{f:e}"))).collect()
            }
            _ => s
                .cast(&polars::prelude::DataType::Int64)?
                .i64()?
                .iter()
                .map(|x| x.map_or("\\N".into(), |i| i.to_string()))
                .collect(),
        };
        cols.push(v);
    }
    let mut out = Vec::with_capacity(df.height() * 16 * cols.len());
    for row in 0..df.height() {
        for (i, c) in cols.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            out.extend_from_slice(c[row].as_bytes());
        }
        out.push(b'\n');
    }
    Ok(out)
}
