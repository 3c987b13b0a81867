//! Net TAO flow per subnet per UTC day from the stake ledger, and its EMA with the chain's
//! smoothing.
//!
//! Stake in is the TAO of `StakeAdded` rows, stake out the TAO of `StakeRemoved` rows, as the
//! chain records flow (`record_tao_inflow` / `record_tao_outflow`). A movement between two hotkeys
//! of one subnet does not go through the pool and is no flow; a movement across subnets is an
//! outflow of one and an inflow of the other — each ledger row counts once, the movement
//! annotation itself never.
//!
//! The EMA follows the chain's `SubnetEmaTaoFlow`: per block `ema ← (1 − α)·ema + α·flow` with
//! α = `FlowEmaSmoothingFactor` / i64::MAX (default ≈ 3.2e-6), from 0 at the first indexed block;
//! each day reports it after its last block.

use std::collections::HashMap;

use polars::prelude::{
    DataFrame, DataType, IntoLazy, JoinArgs, JoinType, LazyFrame, NamedFrom, Series, SortMultipleOptions,
    col, lit, when,
};
use taoscope_math::emission::{flow_ema_decay, flow_ema_step};

use crate::AnalyticsError;
use crate::frame::{DAY_MS, i64s, required};

/// Daily flows for every subnet-day of `days` (`netuid`, `day`, `first_block`, `last_block`)
/// from `trades` (see [`crate::prices`]; plus `block` i64 and `is_add` bool), with the EMA
/// continued from `start` (per subnet: the EMA after block `last_block` of the previous day).
pub fn daily(
    days: LazyFrame,
    trades: LazyFrame,
    alpha: f64,
    start: &HashMap<i32, (i64, f64)>,
) -> Result<DataFrame, AnalyticsError> {
    let flows = trades.clone().filter(col("internal").not());
    let sums = flows
        .clone()
        .with_column((col("ts") / lit(DAY_MS)).alias("day"))
        .group_by([col("netuid"), col("day")])
        .agg([
            when(col("is_add")).then(col("tao")).otherwise(lit(0i64)).sum().alias("tao_in"),
            when(col("is_add")).then(lit(0i64)).otherwise(col("tao")).sum().alias("tao_out"),
            col("is_add").cast(DataType::Int32).sum().alias("stakes"),
            col("is_add").not().cast(DataType::Int32).sum().alias("unstakes"),
        ]);
    let days = days
        .join(sums, [col("netuid"), col("day")], [col("netuid"), col("day")], JoinArgs::new(JoinType::Left))
        .with_columns([
            col("tao_in").fill_null(lit(0i64)),
            col("tao_out").fill_null(lit(0i64)),
            col("stakes").fill_null(lit(0i32)),
            col("unstakes").fill_null(lit(0i32)),
        ])
        .with_column((col("tao_in") - col("tao_out")).alias("net_flow"))
        .sort(["netuid", "day"], SortMultipleOptions::default())
        .collect()?;
    let per_block = flows
        .with_column(when(col("is_add")).then(col("tao")).otherwise(-col("tao")).alias("flow"))
        .group_by([col("netuid"), col("block")])
        .agg([col("flow").sum()])
        .sort(["netuid", "block"], SortMultipleOptions::default())
        .collect()?;

    // The EMA, block by block (closed form over flowless blocks), checkpointed at each day's end
    // so that a run continuing from a stored day computes exactly what a full run does.
    let (fn_, fb, ff) = (
        required(i64s(&per_block, "netuid")?, "netuid")?,
        required(i64s(&per_block, "block")?, "block")?,
        required(i64s(&per_block, "flow")?, "flow")?,
    );
    let (dn, dl) =
        (required(i64s(&days, "netuid")?, "netuid")?, required(i64s(&days, "last_block")?, "last_block")?);
    let mut ema_out = Vec::with_capacity(days.height());
    let mut state: HashMap<i64, (i64, f64)> =
        start.iter().map(|(n, (b, e))| (i64::from(*n), (*b, *e))).collect();
    let mut f = 0;
    for d in 0..days.height() {
        let (netuid, end) = (dn[d], dl[d]);
        while f < fb.len() && (fn_[f] < netuid || (fn_[f] == netuid && fb[f] <= end)) {
            if fn_[f] == netuid {
                let (last, ema) = state.entry(netuid).or_insert((fb[f] - 1, 0.0));
                let gap = (fb[f] - *last - 1).max(0) as u64;
                *ema = flow_ema_step(flow_ema_decay(*ema, alpha, gap), alpha, ff[f] as f64);
                *last = fb[f];
            }
            f += 1;
        }
        let (last, ema) = state.entry(netuid).or_insert((end, 0.0));
        *ema = flow_ema_decay(*ema, alpha, (end - *last).max(0) as u64);
        *last = end;
        ema_out.push(*ema);
    }
    let mut days = days;
    days.with_column(Series::new("ema_flow".into(), ema_out).into())?;
    let out = days
        .lazy()
        .select([
            col("netuid"),
            col("day"),
            col("first_block"),
            col("last_block"),
            col("tao_in"),
            col("tao_out"),
            col("net_flow"),
            col("stakes"),
            col("unstakes"),
            col("ema_flow"),
        ])
        .collect()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use polars::prelude::{IntoLazy, NamedFrom, Series};

    use super::*;
    use crate::frame::{f64s, frame};

    #[test]
    fn ema_follows_the_chain_block_by_block_and_continues_across_runs() {
        let alpha = 0.01;
        // Flows at blocks 3 (+100), 5 (−40, and an internal move), day ends at blocks 6 and 9.
        let trades = frame(vec![
            Series::new("netuid".into(), [1i32, 1, 1]),
            Series::new("block".into(), [3i64, 5, 5]),
            Series::new("ts".into(), [0i64, 0, 0]),
            Series::new("is_add".into(), [true, false, true]),
            Series::new("tao".into(), [100i64, 40, 999]),
            Series::new("internal".into(), [false, false, true]),
        ])
        .unwrap();
        let days = frame(vec![
            Series::new("netuid".into(), [1i32, 1]),
            Series::new("day".into(), [0i64, 1]),
            Series::new("first_block".into(), [1i64, 7]),
            Series::new("last_block".into(), [6i64, 9]),
        ])
        .unwrap();
        let out = daily(days.lazy(), trades.lazy(), alpha, &HashMap::new()).unwrap();
        // Block by block from 0 at block 2.
        let mut ema = 0.0;
        let mut at_day_end = Vec::new();
        for b in 3..=9 {
            let f = match b {
                3 => 100.0,
                5 => -40.0,
                _ => 0.0,
            };
            ema = (1.0 - alpha) * ema + alpha * f;
            if b == 6 || b == 9 {
                at_day_end.push(ema);
            }
        }
        let got = f64s(&out, "ema_flow").unwrap();
        for (g, w) in got.iter().zip(&at_day_end) {
            assert!((g.unwrap() - w).abs() < 1e-12, "{g:?} vs {w}");
        }
        assert_eq!(crate::frame::i64s(&out, "net_flow").unwrap(), [Some(60), Some(0)]);
    }
}
