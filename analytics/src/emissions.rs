//! Emissions per subnet per block and per UTC day.
//!
//! What the chain recorded each block (`SubnetTaoInEmission`, `SubnetAlphaInEmission`,
//! `SubnetAlphaOutEmission`, indexed in `pool_state`) is summed as recorded. The chain records no
//! per-block split of alpha out, so the split is the chain's own (`math::emission::split_alpha_out`:
//! owner cut, then half to miners and half to validators, root's part of the validators' half by
//! root proportion) with the default `SubnetOwnerCut` and `TaoWeight` and the root subnet's
//! recorded TAO reserve. Each day carries the emission methodology era of its blocks' runtimes.

use std::collections::HashMap;

use polars::prelude::{
    DataFrame, DataType, IntoLazy, JoinArgs, JoinType, LazyFrame, NamedFrom, Series, SortMultipleOptions,
    col, len, lit, when,
};
use taoscope_math::emission::{
    DEFAULT_SUBNET_OWNER_CUT, DEFAULT_TAO_WEIGHT, EmissionEra, root_proportion, split_alpha_out,
};

use crate::AnalyticsError;
use crate::frame::{DAY_MS, i64s};

/// Adds the per-block emission columns to a pool frame (`netuid`, `block`, `ts`, `spec`, `tao`,
/// `alpha_in`, `alpha_out`, `tao_in_emission`, `alpha_in_emission`, `alpha_out_emission`):
/// `tao_in`, `alpha_in_em`, `alpha_out_em` (recorded, 0 when not recorded), `owner_alpha`,
/// `miner_alpha`, `validator_alpha` and `root_alpha`. Streams over the columns (a year of
/// history is tens of millions of rows).
pub fn per_block(pool: &DataFrame) -> Result<DataFrame, AnalyticsError> {
    let int = |name: &str| -> Result<polars::prelude::Column, AnalyticsError> {
        Ok(pool.column(name)?.cast(&DataType::Int64)?)
    };
    let (netuid, block, tao) = (int("netuid")?, int("block")?, int("tao")?);
    let (alpha_in, alpha_out, alpha_out_em) =
        (int("alpha_in")?, int("alpha_out")?, int("alpha_out_emission")?);
    let (netuid, block, tao) = (netuid.i64()?, block.i64()?, tao.i64()?);
    let (alpha_in, alpha_out, alpha_out_em) = (alpha_in.i64()?, alpha_out.i64()?, alpha_out_em.i64()?);
    let root_tao: HashMap<i64, u64> = netuid
        .iter()
        .zip(block.iter())
        .zip(tao.iter())
        .filter(|((n, _), _)| *n == Some(0))
        .filter_map(|((_, b), t)| Some((b?, t?.max(0) as u64)))
        .collect();
    let n = pool.height();
    let (mut owner, mut miner, mut validator, mut root) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let rows =
        netuid.iter().zip(block.iter()).zip(alpha_in.iter().zip(alpha_out.iter())).zip(alpha_out_em.iter());
    for (((netuid, block), (alpha_in, alpha_out)), out) in rows {
        let out = out.unwrap_or(0).max(0) as u64;
        let issuance = (alpha_in.unwrap_or(0).max(0) + alpha_out.unwrap_or(0).max(0)) as u64;
        let root_tao = block.and_then(|b| root_tao.get(&b)).copied().unwrap_or(0);
        let split = if netuid == Some(0) {
            Default::default()
        } else {
            split_alpha_out(
                out,
                DEFAULT_SUBNET_OWNER_CUT,
                root_proportion(root_tao, DEFAULT_TAO_WEIGHT, issuance),
            )
        };
        owner.push(split.owner_cut as i64);
        miner.push(split.server as i64);
        validator.push(split.validator as i64);
        root.push(split.root_alpha as i64);
    }
    let mut out = pool.clone();
    for s in [
        Series::new("owner_alpha".into(), owner),
        Series::new("miner_alpha".into(), miner),
        Series::new("validator_alpha".into(), validator),
        Series::new("root_alpha".into(), root),
    ] {
        out.with_column(s.into())?;
    }
    let out = out
        .lazy()
        .with_columns([
            col("tao_in_emission").fill_null(lit(0i64)).alias("tao_in"),
            col("alpha_in_emission").fill_null(lit(0i64)).alias("alpha_in_em"),
            col("alpha_out_emission").fill_null(lit(0i64)).alias("alpha_out_em"),
        ])
        .collect()?;
    Ok(out)
}

/// Daily emissions from [`per_block`]'s frame (with each day's first and last runtime; see
/// [`daily_with_era`]). `base` holds each subnet's running totals before
/// the frame's first day (`netuid`, `base_tao_in`, `base_alpha_in`, `base_alpha_out`).
pub fn daily(blocks: LazyFrame, base: LazyFrame) -> Result<LazyFrame, AnalyticsError> {
    let days = blocks
        .with_column((col("ts") / lit(DAY_MS)).alias("day"))
        .group_by([col("netuid"), col("day")])
        .agg([
            col("block").first().alias("first_block"),
            col("block").last().alias("last_block"),
            len().cast(DataType::Int32).alias("blocks"),
            col("tao_in").sum(),
            col("alpha_in_em").sum().alias("alpha_in"),
            col("alpha_out_em").sum().alias("alpha_out"),
            col("owner_alpha").sum(),
            col("miner_alpha").sum(),
            col("validator_alpha").sum(),
            col("root_alpha").sum(),
            col("spec").first().alias("spec_first"),
            col("spec").last().alias("spec_last"),
        ]);
    let total = col("tao_in").sum().over([col("day")])?;
    let cum = |c: &str| col(c).cum_sum(false).over([col("netuid")]);
    Ok(days
        .join(base, [col("netuid")], [col("netuid")], JoinArgs::new(JoinType::Left))
        // A join does not promise row order; running totals need each subnet's days in order.
        .sort(["netuid", "day"], SortMultipleOptions::default())
        .with_columns([
            when(total.clone().gt(lit(0i64)))
                .then(col("tao_in").cast(DataType::Float64) / total.cast(DataType::Float64))
                .otherwise(lit(0.0))
                .alias("tao_share"),
            (cum("tao_in")? + col("base_tao_in").fill_null(lit(0i64))).alias("cum_tao_in"),
            (cum("alpha_in")? + col("base_alpha_in").fill_null(lit(0i64))).alias("cum_alpha_in"),
            (cum("alpha_out")? + col("base_alpha_out").fill_null(lit(0i64))).alias("cum_alpha_out"),
        ])
        .select([
            col("netuid"),
            col("day"),
            col("first_block"),
            col("last_block"),
            col("blocks"),
            col("tao_in"),
            col("alpha_in"),
            col("alpha_out"),
            col("owner_alpha"),
            col("miner_alpha"),
            col("validator_alpha"),
            col("root_alpha"),
            col("tao_share"),
            col("cum_tao_in"),
            col("cum_alpha_in"),
            col("cum_alpha_out"),
            col("spec_first"),
            col("spec_last"),
        ]))
}

/// Collects [`daily`] and names each day's emission era(s) from its first and last runtime.
pub fn daily_with_era(blocks: LazyFrame, base: LazyFrame) -> Result<DataFrame, AnalyticsError> {
    let mut df = daily(blocks, base)?.collect()?;
    let era = |s: Option<i64>| EmissionEra::for_spec(s.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32);
    let eras: Vec<String> = i64s(&df, "spec_first")?
        .into_iter()
        .zip(i64s(&df, "spec_last")?)
        .map(|(first, last)| {
            let (a, b) = (era(first), era(last));
            if a == b { a.as_str().to_owned() } else { format!("{},{}", a.as_str(), b.as_str()) }
        })
        .collect();
    df.with_column(Series::new("era".into(), eras).into())?;
    Ok(df.drop_many(["spec_first", "spec_last"]))
}

/// An empty `base` frame for [`daily`] (no history before the first day).
pub fn no_base() -> Result<LazyFrame, AnalyticsError> {
    base_frame(&[])
}

/// A `base` frame for [`daily`] from `(netuid, tao_in, alpha_in, alpha_out)` running totals.
pub fn base_frame(rows: &[(i32, i64, i64, i64)]) -> Result<LazyFrame, AnalyticsError> {
    Ok(crate::frame::frame(vec![
        Series::new("netuid".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        Series::new("base_tao_in".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        Series::new("base_alpha_in".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
        Series::new("base_alpha_out".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
    ])?
    .lazy())
}
