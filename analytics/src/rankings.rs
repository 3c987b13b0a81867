//! Miner and validator rankings per subnet per epoch, from the indexed metagraph.
//!
//! Input frame (one row per uid per epoch, sorted by netuid, block, uid): `netuid` i32, `block`
//! i64, `uid` i32, `hotkey`, `coldkey` (nullable), `incentive`, `dividends`, `validator_trust`
//! (u16 proportions as i32), `emission` i64 (alpha rao), `validator_permit`, `input_permit` bool
//! (nullable), `stake`, `input_stake` i64 (nullable), `price` f64 (TAO per alpha at the epoch
//! block), `blocks_per_epoch` i64 (Tempo + 1, else the gap to the subnet's previous epoch) and
//! `prev_block` i64 (the subnet's previous epoch, nullable).
//!
//! Miners are the uids with incentive > 0, validators those with a validator permit (before or
//! after the epoch) or dividends > 0. Ranks are 1-based, ties to the lower uid.

use std::collections::{HashMap, VecDeque};

use polars::prelude::{
    DataFrame, DataType, Expr, IntoLazy, JoinArgs, JoinType, LazyFrame, NamedFrom, PolarsResult, RankMethod,
    RankOptions, Series, SortMultipleOptions, col, lit, when,
};

use crate::AnalyticsError;
use crate::frame::{i64s, required, strs};

const U16: f64 = 65_535.0;
const RAO: f64 = 1e9;
/// Blocks in a year at 12 s per block.
pub const BLOCKS_PER_YEAR: f64 = 365.0 * 7_200.0;

fn rank_desc(c: &str) -> PolarsResult<Expr> {
    col(c)
        .rank(RankOptions { method: RankMethod::Ordinal, descending: true }, None)
        .over([col("netuid"), col("block")])
}

/// Adds `stability_cv` (coefficient of variation of the hotkey's incentive over the subnet's
/// last `window` epochs, this one included, counting the epochs the hotkey was in; NULL when the
/// mean is 0) and `epochs_in_window`.
pub fn with_stability(mg: &DataFrame, window: usize) -> Result<DataFrame, AnalyticsError> {
    let netuid = required(i64s(mg, "netuid")?, "netuid")?;
    let block = required(i64s(mg, "block")?, "block")?;
    let hotkey = required(strs(mg, "hotkey")?, "hotkey")?;
    let incentive = i64s(mg, "incentive")?;
    let mut order: Vec<usize> = (0..mg.height()).collect();
    order.sort_by_key(|&i| (netuid[i], block[i]));
    // The subnet's epoch count so far, and each (subnet, hotkey)'s recent (epoch, incentive).
    let mut epoch_of: HashMap<i64, (i64, usize)> = HashMap::new();
    let mut recent: HashMap<(i64, &str), VecDeque<(usize, f64)>> = HashMap::new();
    let mut cv = vec![None; mg.height()];
    let mut seen = vec![0i32; mg.height()];
    for i in order {
        let (last_block, index) = epoch_of.entry(netuid[i]).or_insert((block[i], 0));
        if *last_block != block[i] {
            *last_block = block[i];
            *index += 1;
        }
        let index = *index;
        let q = recent.entry((netuid[i], hotkey[i].as_str())).or_default();
        q.push_back((index, incentive[i].unwrap_or(0) as f64 / U16));
        while q.front().is_some_and(|(e, _)| e + window <= index) {
            q.pop_front();
        }
        let n = q.len() as f64;
        let mean = q.iter().map(|(_, x)| x).sum::<f64>() / n;
        let var = q.iter().map(|(_, x)| (x - mean) * (x - mean)).sum::<f64>() / n;
        cv[i] = (mean > 0.0).then(|| var.sqrt() / mean);
        seen[i] = q.len() as i32;
    }
    let mut out = mg.clone();
    out.with_column(Series::new("stability_cv".into(), cv).into())?;
    out.with_column(Series::new("epochs_in_window".into(), seen).into())?;
    Ok(out)
}

/// Rank change against the subnet's previous epoch: `prev_rank − rank` for the same uid and
/// hotkey, NULL when it was not ranked there.
fn with_rank_change(ranked: LazyFrame, rank: &str) -> LazyFrame {
    let prev = ranked.clone().select([
        col("netuid"),
        col("uid"),
        col("hotkey"),
        col("block").alias("prev_block"),
        col(rank).alias("prev_rank"),
    ]);
    ranked
        .join(
            prev,
            [col("netuid"), col("uid"), col("hotkey"), col("prev_block")],
            [col("netuid"), col("uid"), col("hotkey"), col("prev_block")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column((col("prev_rank") - col(rank)).alias("rank_change"))
}

/// Miner rankings of the epochs after block `since` (earlier rows only feed rank changes).
pub fn miners(mg: LazyFrame, since: i64) -> PolarsResult<LazyFrame> {
    let ranked = mg
        .filter(col("incentive").gt(lit(0)))
        .with_columns([
            (col("incentive").cast(DataType::Float64) / lit(U16)).alias("incentive_f"),
            (col("emission").cast(DataType::Float64) * col("price") / lit(RAO)).alias("emission_tao"),
        ])
        .with_columns([
            rank_desc("incentive")?.cast(DataType::Int32).alias("rank_incentive"),
            rank_desc("emission")?.cast(DataType::Int32).alias("rank_emission"),
        ]);
    Ok(with_rank_change(ranked, "rank_incentive")
        .filter(col("block").gt(lit(since)))
        .select([
            col("netuid"),
            col("block"),
            col("uid"),
            col("hotkey"),
            col("coldkey"),
            col("incentive_f").alias("incentive"),
            col("emission").alias("emission_alpha"),
            col("emission_tao"),
            col("rank_incentive"),
            col("rank_emission"),
            col("rank_change").cast(DataType::Int32),
            col("stability_cv"),
            col("epochs_in_window"),
        ])
        .sort(["netuid", "block", "uid"], SortMultipleOptions::default()))
}

/// Validator rankings of the epochs after block `since`.
pub fn validators(mg: LazyFrame, since: i64) -> PolarsResult<LazyFrame> {
    let stake = col("input_stake").fill_null(col("stake")).fill_null(lit(0i64));
    let epoch_yield = when(col("stake_alpha").gt(lit(0i64)))
        .then(col("emission").cast(DataType::Float64) / col("stake_alpha").cast(DataType::Float64))
        .otherwise(lit(polars::prelude::NULL).cast(DataType::Float64));
    let per_year = lit(BLOCKS_PER_YEAR) / col("blocks_per_epoch").cast(DataType::Float64);
    let apy = (lit(1.0) + col("epoch_yield")).pow(per_year) - lit(1.0);
    let ranked = mg
        .filter(
            col("validator_permit")
                .fill_null(lit(false))
                .or(col("input_permit").fill_null(lit(false)))
                .or(col("dividends").gt(lit(0))),
        )
        .with_column(stake.alias("stake_alpha"))
        .with_columns([
            (col("dividends").cast(DataType::Float64) / lit(U16)).alias("dividends_f"),
            (col("validator_trust").fill_null(lit(0)).cast(DataType::Float64) / lit(U16)).alias("vtrust_f"),
            (col("stake_alpha").cast(DataType::Float64) * col("price") / lit(RAO)).alias("stake_tao"),
            (col("emission").cast(DataType::Float64) * col("price") / lit(RAO)).alias("emission_tao"),
            epoch_yield.alias("epoch_yield"),
        ])
        .with_column(
            when(apy.clone().is_finite().and(col("blocks_per_epoch").gt(lit(0i64))))
                .then(apy)
                .otherwise(lit(polars::prelude::NULL).cast(DataType::Float64))
                .alias("apy"),
        )
        .with_columns([
            rank_desc("dividends")?.cast(DataType::Int32).alias("rank_dividends"),
            rank_desc("stake_alpha")?.cast(DataType::Int32).alias("rank_stake"),
        ]);
    Ok(with_rank_change(ranked, "rank_dividends")
        .filter(col("block").gt(lit(since)))
        .select([
            col("netuid"),
            col("block"),
            col("uid"),
            col("hotkey"),
            col("coldkey"),
            col("dividends_f").alias("dividends"),
            col("vtrust_f").alias("validator_trust"),
            col("stake_alpha"),
            col("stake_tao"),
            col("emission").alias("emission_alpha"),
            col("emission_tao"),
            col("epoch_yield"),
            col("apy"),
            col("rank_dividends"),
            col("rank_stake"),
            col("rank_change").cast(DataType::Int32),
        ])
        .sort(["netuid", "block", "uid"], SortMultipleOptions::default()))
}

/// Runs both rankings over a metagraph frame.
pub fn rank(mg: &DataFrame, since: i64, window: usize) -> Result<(DataFrame, DataFrame), AnalyticsError> {
    let mg = with_stability(mg, window)?.lazy().with_columns([
        col("incentive").fill_null(lit(0)),
        col("dividends").fill_null(lit(0)),
        col("emission").fill_null(lit(0i64)),
    ]);
    Ok((miners(mg.clone(), since)?.collect()?, validators(mg, since)?.collect()?))
}
