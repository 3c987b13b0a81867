//! Reading indexed rows into Polars frames (the SQL that reads them is here).

use polars::prelude::{DataFrame, NamedFrom, Series};
use tokio_postgres::GenericClient;

use crate::AnalyticsError;
use crate::frame::frame;

/// Per-block pool state of every subnet with the block's time and runtime, sorted by (netuid,
/// block). Blocks without a timestamp (genesis) are left out.
const SELECT_POOL: &str = "
    SELECT p.netuid, p.block_number, (extract(epoch FROM b.timestamp) * 1000)::int8 AS ts, b.spec_version,
           p.price::float8, p.moving_price::float8, p.tao, p.alpha_in, p.alpha_out,
           p.tao_in_emission, p.alpha_in_emission, p.alpha_out_emission
    FROM pool_state p JOIN blocks b ON b.number = p.block_number
    WHERE p.block_number BETWEEN $1 AND $2 AND b.timestamp IS NOT NULL
    ORDER BY p.netuid, p.block_number";

/// The pool frame of blocks `from..=to` (see [`crate::prices`] and [`crate::emissions`]).
pub async fn pool(c: &impl GenericClient, from: i64, to: i64) -> Result<DataFrame, AnalyticsError> {
    let rows = c.query(SELECT_POOL, &[&from, &to]).await?;
    let col_i32 = |i: usize| rows.iter().map(|r| r.get::<_, i32>(i)).collect::<Vec<_>>();
    let col_i64 = |i: usize| rows.iter().map(|r| r.get::<_, i64>(i)).collect::<Vec<_>>();
    let opt_i64 = |i: usize| rows.iter().map(|r| r.get::<_, Option<i64>>(i)).collect::<Vec<_>>();
    frame(vec![
        Series::new("netuid".into(), col_i32(0)),
        Series::new("block".into(), col_i64(1)),
        Series::new("ts".into(), col_i64(2)),
        Series::new("spec".into(), col_i32(3)),
        Series::new("price".into(), rows.iter().map(|r| r.get::<_, f64>(4)).collect::<Vec<_>>()),
        Series::new(
            "moving_price".into(),
            rows.iter().map(|r| r.get::<_, Option<f64>>(5)).collect::<Vec<_>>(),
        ),
        Series::new("tao".into(), col_i64(6)),
        Series::new("alpha_in".into(), col_i64(7)),
        Series::new("alpha_out".into(), col_i64(8)),
        Series::new("tao_in_emission".into(), opt_i64(9)),
        Series::new("alpha_in_emission".into(), opt_i64(10)),
        Series::new("alpha_out_emission".into(), opt_i64(11)),
    ])
}

/// Stake ledger rows per subnet with the block's time; `internal` marks a movement between two
/// hotkeys of one subnet (no pool trade, no flow).
const SELECT_TRADES: &str = "
    SELECT l.netuid, l.block_number, (extract(epoch FROM b.timestamp) * 1000)::int8 AS ts,
           l.direction = 'add' AS is_add, l.tao,
           coalesce(m.origin_netuid = m.destination_netuid, false) AS internal
    FROM stake_ledger l
    JOIN blocks b ON b.number = l.block_number
    LEFT JOIN stake_movements m ON m.block_number = l.block_number AND m.event_index = l.movement_event_index
    WHERE l.block_number BETWEEN $1 AND $2 AND l.netuid IS NOT NULL AND b.timestamp IS NOT NULL
    ORDER BY l.netuid, l.block_number, l.event_index";

/// The trades frame of blocks `from..=to`.
pub async fn trades(c: &impl GenericClient, from: i64, to: i64) -> Result<DataFrame, AnalyticsError> {
    let rows = c.query(SELECT_TRADES, &[&from, &to]).await?;
    frame(vec![
        Series::new("netuid".into(), rows.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>()),
        Series::new("block".into(), rows.iter().map(|r| r.get::<_, i64>(1)).collect::<Vec<_>>()),
        Series::new("ts".into(), rows.iter().map(|r| r.get::<_, i64>(2)).collect::<Vec<_>>()),
        Series::new("is_add".into(), rows.iter().map(|r| r.get::<_, bool>(3)).collect::<Vec<_>>()),
        Series::new("tao".into(), rows.iter().map(|r| r.get::<_, i64>(4).max(0)).collect::<Vec<_>>()),
        Series::new("internal".into(), rows.iter().map(|r| r.get::<_, bool>(5)).collect::<Vec<_>>()),
    ])
}

/// Metagraph rows of the subnets with epochs in `(done, to]`, from `window` epochs before each
/// subnet's first new one, with the epoch's price and length.
const SELECT_METAGRAPH: &str = "
    WITH first AS (
        SELECT netuid, min(block_number) AS b FROM epochs
        WHERE block_number > $1 AND block_number <= $2 GROUP BY netuid
    ), lo AS (
        SELECT f.netuid, coalesce((SELECT e.block_number FROM epochs e
                                   WHERE e.netuid = f.netuid AND e.block_number < f.b
                                   ORDER BY e.block_number DESC OFFSET $3 LIMIT 1), 0) AS lo
        FROM first f
    ), ep AS (
        SELECT e.netuid, e.block_number, e.tempo,
               lag(e.block_number) OVER (PARTITION BY e.netuid ORDER BY e.block_number) AS prev_block
        FROM epochs e JOIN lo ON lo.netuid = e.netuid AND e.block_number >= lo.lo AND e.block_number <= $2
    )
    SELECT m.netuid, m.block_number, m.uid, m.hotkey, m.coldkey, m.incentive, m.dividends, m.validator_trust,
           m.emission, m.validator_permit, m.input_validator_permit, m.stake, m.input_stake,
           p.price::float8, coalesce(ep.tempo + 1, ep.block_number - ep.prev_block)::int8, ep.prev_block
    FROM ep
    JOIN metagraph m ON m.netuid = ep.netuid AND m.block_number = ep.block_number
    LEFT JOIN pool_state p ON p.netuid = m.netuid AND p.block_number = m.block_number
    ORDER BY m.netuid, m.block_number, m.uid";

/// The metagraph frame for [`crate::rankings`]: epochs in `(done, to]` and the `window` epochs
/// before each subnet's first of them.
pub async fn metagraph(
    c: &impl GenericClient,
    done: i64,
    to: i64,
    window: i64,
) -> Result<DataFrame, AnalyticsError> {
    let rows = c.query(SELECT_METAGRAPH, &[&done, &to, &window]).await?;
    let i32s = |i: usize| rows.iter().map(|r| r.get::<_, Option<i32>>(i)).collect::<Vec<_>>();
    let i64s = |i: usize| rows.iter().map(|r| r.get::<_, Option<i64>>(i)).collect::<Vec<_>>();
    let bools = |i: usize| rows.iter().map(|r| r.get::<_, Option<bool>>(i)).collect::<Vec<_>>();
    frame(vec![
        Series::new("netuid".into(), i32s(0)),
        Series::new("block".into(), i64s(1)),
        Series::new("uid".into(), i32s(2)),
        Series::new("hotkey".into(), rows.iter().map(|r| r.get::<_, String>(3)).collect::<Vec<_>>()),
        Series::new("coldkey".into(), rows.iter().map(|r| r.get::<_, Option<String>>(4)).collect::<Vec<_>>()),
        Series::new("incentive".into(), i32s(5)),
        Series::new("dividends".into(), i32s(6)),
        Series::new("validator_trust".into(), i32s(7)),
        Series::new("emission".into(), i64s(8)),
        Series::new("validator_permit".into(), bools(9)),
        Series::new("input_permit".into(), bools(10)),
        Series::new("stake".into(), i64s(11)),
        Series::new("input_stake".into(), i64s(12)),
        Series::new("price".into(), rows.iter().map(|r| r.get::<_, Option<f64>>(13)).collect::<Vec<_>>()),
        Series::new("blocks_per_epoch".into(), i64s(14)),
        Series::new("prev_block".into(), i64s(15)),
    ])
}
