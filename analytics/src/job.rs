//! `taoscope analytics`: one incremental run over what the indexer has added since the last run.
//!
//! A run takes the blocks after its progress mark up to the indexed head (or `up_to`), at most
//! `max_days` UTC days of them. Day-based results (candles, daily emissions and flows) are
//! recomputed from the start of the UTC day of the last block done, so a day that was still open
//! is completed; epoch results (rankings, the
//! Yuma audit) are computed for the new epochs, reading back as many earlier epochs as rank
//! changes and stability need; coldkey roll-ups are recomputed for the days of new epochs.
//! Everything, with the new mark, is written in one transaction: a failed or killed run changes
//! nothing, and a run over the same blocks writes the same rows.

use std::collections::HashMap;

use polars::prelude::{DataFrame, IntoLazy, col};
use tokio_postgres::{Client, Transaction};

use crate::audit::{AuditEpoch, AuditUid, audit};
use crate::frame::{DAY_MS, f64s, i64s, required, strs};
use crate::prices::{Interval, candles, sorted_by_subnet_and_time};
use crate::{AnalyticsError, emissions, flows, load, rankings};
use taoscope_schema::EpochParams;

/// The progress mark's name in `analytics_progress`.
pub const JOB: &str = "analytics";
/// Advisory lock held by a run ("tscpanly").
const RUN_LOCK: i64 = 0x7473_6370_616e_6c79;

/// What a run computes with.
#[derive(Clone, Debug)]
pub struct AnalyticsOptions {
    /// Stop at this block (else the indexed head).
    pub up_to: Option<u64>,
    /// Audit tolerance (proportion of 1).
    pub tolerance: f64,
    /// Epochs in the stability window.
    pub stability_window: usize,
    /// `FlowEmaSmoothingFactor` for the flow EMA.
    pub flow_smoothing: u64,
    /// UTC days of new blocks one run takes at most (later runs take the rest).
    pub max_days: u32,
}

impl Default for AnalyticsOptions {
    fn default() -> Self {
        AnalyticsOptions {
            up_to: None,
            tolerance: 1e-3,
            stability_window: 10,
            flow_smoothing: taoscope_math::emission::DEFAULT_FLOW_EMA_SMOOTHING,
            max_days: 2,
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    /// First block whose results were (re)computed (the start of its UTC day).
    pub from_block: u64,
    /// The new progress mark.
    pub to_block: u64,
    /// Candle rows written (all intervals).
    pub candles: usize,
    /// Daily emission rows written.
    pub emission_days: usize,
    /// Daily flow rows written.
    pub flow_days: usize,
    /// Miner ranking rows written.
    pub miner_rows: usize,
    /// Validator ranking rows written.
    pub validator_rows: usize,
    /// Coldkey roll-up rows written.
    pub rollup_rows: u64,
    /// Epochs audited.
    pub epochs_audited: usize,
    /// Of those, epochs with uids beyond tolerance.
    pub epochs_deviating: usize,
}

/// Runs once over up to [`AnalyticsOptions::max_days`] days of new blocks; returns `None` when
/// there was nothing new.
pub async fn run(client: &mut Client, opts: &AnalyticsOptions) -> Result<Option<RunReport>, AnalyticsError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&RUN_LOCK]).await?;
    let done: i64 = tx
        .query_opt("SELECT block_number FROM analytics_progress WHERE job = $1", &[&JOB])
        .await?
        .map(|r| r.get(0))
        .unwrap_or(-1);
    let indexed: Option<i64> = tx.query_one("SELECT max(number) FROM blocks", &[]).await?.get(0);
    let Some(mut head) = indexed else { return Ok(None) };
    if let Some(up_to) = opts.up_to {
        head = head.min(up_to as i64);
    }
    if head <= done {
        return Ok(None);
    }

    // Day-based results are recomputed from the start of the UTC day of the last block already
    // done (its price held until the block that follows it, which may be new), else of the first
    // new block.
    let mut report = RunReport { to_block: head as u64, ..RunReport::default() };
    let first_ts: Option<i64> = tx
        .query_opt(
            "SELECT (extract(epoch FROM timestamp) * 1000)::int8 FROM blocks
             WHERE number > $1 AND number <= $2 AND timestamp IS NOT NULL ORDER BY number LIMIT 1",
            &[&done, &head],
        )
        .await?
        .map(|r| r.get(0));
    if let Some(first_ts) = first_ts {
        // A run covers at most `max_days` days of new blocks (memory stays bounded on a long
        // history); the next run goes on from there.
        let first_day = first_ts.div_euclid(DAY_MS);
        let limit: Option<i64> = tx
            .query_one(
                "SELECT max(number) FROM blocks WHERE number <= $1 AND timestamp < to_timestamp($2::float8 / 1000)",
                &[&head, &(((first_day + i64::from(opts.max_days.max(1))) * DAY_MS) as f64)],
            )
            .await?
            .get(0);
        head = limit.unwrap_or(head).max(done + 1);
        report.to_block = head as u64;
        let done_ts: Option<i64> = tx
            .query_opt(
                "SELECT (extract(epoch FROM timestamp) * 1000)::int8 FROM blocks
                 WHERE number = $1 AND timestamp IS NOT NULL",
                &[&done],
            )
            .await?
            .map(|r| r.get(0));
        let day = done_ts.unwrap_or(first_ts).min(first_ts).div_euclid(DAY_MS);
        let start: i64 = tx
            .query_one(
                "SELECT min(number) FROM blocks WHERE timestamp >= to_timestamp($1::float8 / 1000)",
                &[&((day * DAY_MS) as f64)],
            )
            .await?
            .get::<_, Option<i64>>(0)
            .unwrap_or(done + 1);
        report.from_block = start as u64;
        let pool = load::pool(&tx, start, head).await?;
        let trades = load::trades(&tx, start, head).await?;
        let end_ms = required(i64s(&pool, "ts")?, "ts")?.into_iter().max().unwrap_or(0);
        report.candles = write_candles(&tx, &pool, &trades, day * DAY_MS, end_ms).await?;
        let daily = write_emissions(&tx, &pool, day).await?;
        report.emission_days = daily.height();
        report.flow_days = write_flows(&tx, &daily, &trades, day, opts).await?;
    } else {
        report.from_block = (done + 1) as u64;
    }

    // Epoch-based results.
    let new_epochs = tx
        .query(
            "SELECT netuid, block_number FROM epochs WHERE block_number > $1 AND block_number <= $2",
            &[&done, &head],
        )
        .await?;
    for t in ["miner_rankings", "validator_rankings", "yuma_audit"] {
        // Table names from a closed list.
        tx.execute(&format!("DELETE FROM {t} WHERE block_number > $1"), &[&done]).await?;
    }
    if !new_epochs.is_empty() {
        let window = opts.stability_window.max(1);
        let mg = load::metagraph(&tx, done, head, window as i64).await?;
        let (miners, validators) = compute(move || rankings::rank(&mg, done, window)).await?;
        report.miner_rows = write_miners(&tx, &miners).await?;
        report.validator_rows = write_validators(&tx, &validators).await?;
        report.rollup_rows = write_rollups(&tx, done, head).await?;
        let (audited, deviating) = write_audits(&tx, done, head, opts.tolerance).await?;
        report.epochs_audited = audited;
        report.epochs_deviating = deviating;
    }
    tx.execute(
        "INSERT INTO analytics_progress (job, block_number) VALUES ($1, $2)
         ON CONFLICT (job) DO UPDATE SET block_number = EXCLUDED.block_number, updated_at = now()",
        &[&JOB, &head],
    )
    .await?;
    tx.commit().await?;
    Ok(Some(report))
}

/// Runs [`run`] every `interval` until `stop` resolves, reporting each run that did work to
/// `on_report`. A failed run (the database restarting, say) changes nothing; it is logged and
/// retried on a new connection after the interval.
pub async fn follow(
    url: &str,
    opts: &AnalyticsOptions,
    interval: std::time::Duration,
    stop: impl std::future::Future<Output = ()>,
    mut on_report: impl FnMut(&RunReport, std::time::Duration),
) {
    tokio::pin!(stop);
    let mut client: Option<Client> = None;
    loop {
        if client.as_ref().is_none_or(Client::is_closed) {
            client = match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
                Ok((c, conn)) => {
                    tokio::spawn(conn);
                    Some(c)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "analytics: cannot connect; retrying");
                    None
                }
            };
        }
        let mut more = false;
        if let Some(c) = client.as_mut() {
            let started = std::time::Instant::now();
            match run(c, opts).await {
                Ok(Some(report)) => {
                    on_report(&report, started.elapsed());
                    more = true;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "analytics run failed; nothing was written, retrying"),
            }
        }
        if more {
            // A backlog goes on at once (each run takes a few days of it), unless told to stop.
            tokio::select! {
                biased;
                _ = &mut stop => return,
                _ = std::future::ready(()) => continue,
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = &mut stop => return,
        }
    }
}

const INSERT_CANDLES: &str = "
    INSERT INTO candles (netuid, interval, bucket_start, first_block, last_block, blocks, open, high, low, close,
                         twap, moving_price, market_cap_tao, liquidity_tao, volume_rao, trades)
    SELECT n, $1, to_timestamp(b::float8 / 1000), fb, lb, bl, o, h, l, c, tw, mp, mc, lq, v, tr
    FROM unnest($2::int4[], $3::int8[], $4::int8[], $5::int8[], $6::int4[], $7::float8[], $8::float8[],
                $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::float8[],
                $15::int8[], $16::int4[])
         AS u(n, b, fb, lb, bl, o, h, l, c, tw, mp, mc, lq, v, tr)";

fn i32_col(df: &DataFrame, name: &str) -> Result<Vec<i32>, AnalyticsError> {
    Ok(required(i64s(df, name)?, name)?.into_iter().map(|v| v as i32).collect())
}

fn i64_col(df: &DataFrame, name: &str) -> Result<Vec<i64>, AnalyticsError> {
    required(i64s(df, name)?, name)
}

fn opt_i32_col(df: &DataFrame, name: &str) -> Result<Vec<Option<i32>>, AnalyticsError> {
    Ok(i64s(df, name)?.into_iter().map(|v| v.map(|x| x as i32)).collect())
}

fn f64_col(df: &DataFrame, name: &str) -> Result<Vec<f64>, AnalyticsError> {
    required(f64s(df, name)?, name)
}

/// Runs a Polars computation on a thread of its own: Polars blocks in place, which a Tokio
/// runtime's own threads (of either flavour) must not do.
async fn compute<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AnalyticsError> + Send + 'static,
) -> Result<T, AnalyticsError> {
    let (send, receive) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("analytics".into())
        .spawn(move || {
            let _ = send.send(f());
        })
        .map_err(|e| AnalyticsError::Data(format!("cannot start a worker thread: {e}")))?;
    receive.await.map_err(|_| AnalyticsError::Data("an analytics computation panicked".into()))?
}

async fn write_candles(
    tx: &Transaction<'_>,
    pool: &DataFrame,
    trades: &DataFrame,
    from_ms: i64,
    end_ms: i64,
) -> Result<usize, AnalyticsError> {
    tx.execute(
        "DELETE FROM candles WHERE bucket_start >= to_timestamp($1::float8 / 1000)",
        &[&(from_ms as f64)],
    )
    .await?;
    let (pool, trades) = (pool.clone(), trades.clone());
    let all = compute(move || {
        // Candles group contiguous runs; a chain whose timestamps went backwards gets sorted first.
        let pool = if sorted_by_subnet_and_time(&pool)? {
            pool
        } else {
            tracing::warn!("block timestamps are not increasing within a subnet; sorting by time");
            pool.sort(["netuid", "ts"], Default::default())?
        };
        Interval::ALL
            .into_iter()
            .map(|i| Ok((i, candles(pool.clone().lazy(), trades.clone().lazy(), i, end_ms)?.collect()?)))
            .collect::<Result<Vec<_>, AnalyticsError>>()
    })
    .await?;
    let mut written = 0;
    for (interval, c) in all {
        written += c.height();
        tx.execute(
            INSERT_CANDLES,
            &[
                &interval.as_str(),
                &i32_col(&c, "netuid")?,
                &i64_col(&c, "bucket")?,
                &i64_col(&c, "first_block")?,
                &i64_col(&c, "last_block")?,
                &i32_col(&c, "blocks")?,
                &f64_col(&c, "open")?,
                &f64_col(&c, "high")?,
                &f64_col(&c, "low")?,
                &f64_col(&c, "close")?,
                &f64_col(&c, "twap")?,
                &f64s(&c, "moving_price")?,
                &f64_col(&c, "market_cap_tao")?,
                &f64_col(&c, "liquidity_tao")?,
                &i64_col(&c, "volume_rao")?,
                &i32_col(&c, "trades")?,
            ],
        )
        .await?;
    }
    Ok(written)
}

async fn write_emissions(
    tx: &Transaction<'_>,
    pool: &DataFrame,
    day: i64,
) -> Result<DataFrame, AnalyticsError> {
    let day_i32 = day as i32;
    let base: Vec<(i32, i64, i64, i64)> = tx
        .query(
            "SELECT DISTINCT ON (netuid) netuid, cum_tao_in, cum_alpha_in, cum_alpha_out FROM emissions_daily
             WHERE day < DATE '1970-01-01' + $1::int4 ORDER BY netuid, day DESC",
            &[&day_i32],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    tx.execute("DELETE FROM emissions_daily WHERE day >= DATE '1970-01-01' + $1::int4", &[&day_i32]).await?;
    let pool = pool.clone();
    let daily = compute(move || {
        let per_block = emissions::per_block(&pool)?;
        emissions::daily_with_era(per_block.lazy(), emissions::base_frame(&base)?)
    })
    .await?;
    tx.execute(
        "INSERT INTO emissions_daily (netuid, day, first_block, last_block, blocks, tao_in, alpha_in, alpha_out,
                                      owner_alpha, miner_alpha, validator_alpha, root_alpha, tao_share,
                                      cum_tao_in, cum_alpha_in, cum_alpha_out, era)
         SELECT n, DATE '1970-01-01' + d::int4, fb, lb, bl, ti, ai, ao, ow, mi, va, ro, sh, ct, ca, co, er
         FROM unnest($1::int4[], $2::int8[], $3::int8[], $4::int8[], $5::int4[], $6::int8[], $7::int8[], $8::int8[],
                     $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::float8[], $14::int8[], $15::int8[],
                     $16::int8[], $17::text[])
              AS u(n, d, fb, lb, bl, ti, ai, ao, ow, mi, va, ro, sh, ct, ca, co, er)",
        &[
            &i32_col(&daily, "netuid")?,
            &i64_col(&daily, "day")?,
            &i64_col(&daily, "first_block")?,
            &i64_col(&daily, "last_block")?,
            &i32_col(&daily, "blocks")?,
            &i64_col(&daily, "tao_in")?,
            &i64_col(&daily, "alpha_in")?,
            &i64_col(&daily, "alpha_out")?,
            &i64_col(&daily, "owner_alpha")?,
            &i64_col(&daily, "miner_alpha")?,
            &i64_col(&daily, "validator_alpha")?,
            &i64_col(&daily, "root_alpha")?,
            &f64_col(&daily, "tao_share")?,
            &i64_col(&daily, "cum_tao_in")?,
            &i64_col(&daily, "cum_alpha_in")?,
            &i64_col(&daily, "cum_alpha_out")?,
            &required(strs(&daily, "era")?, "era")?,
        ],
    )
    .await?;
    Ok(daily)
}

async fn write_flows(
    tx: &Transaction<'_>,
    daily: &DataFrame,
    trades: &DataFrame,
    day: i64,
    opts: &AnalyticsOptions,
) -> Result<usize, AnalyticsError> {
    let day_i32 = day as i32;
    let start: HashMap<i32, (i64, f64)> = tx
        .query(
            "SELECT DISTINCT ON (netuid) netuid, last_block, ema_flow FROM flows_daily
             WHERE day < DATE '1970-01-01' + $1::int4 ORDER BY netuid, day DESC",
            &[&day_i32],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    tx.execute("DELETE FROM flows_daily WHERE day >= DATE '1970-01-01' + $1::int4", &[&day_i32]).await?;
    let days =
        daily.clone().lazy().select([col("netuid"), col("day"), col("first_block"), col("last_block")]);
    let alpha = taoscope_math::emission::flow_ema_alpha(opts.flow_smoothing);
    let trades = trades.clone();
    let f = compute(move || flows::daily(days, trades.lazy(), alpha, &start)).await?;
    tx.execute(
        "INSERT INTO flows_daily (netuid, day, first_block, last_block, tao_in, tao_out, net_flow, stakes, unstakes, ema_flow)
         SELECT n, DATE '1970-01-01' + d::int4, fb, lb, ti, tt, nf, st, us, em
         FROM unnest($1::int4[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[],
                     $8::int4[], $9::int4[], $10::float8[]) AS u(n, d, fb, lb, ti, tt, nf, st, us, em)",
        &[
            &i32_col(&f, "netuid")?,
            &i64_col(&f, "day")?,
            &i64_col(&f, "first_block")?,
            &i64_col(&f, "last_block")?,
            &i64_col(&f, "tao_in")?,
            &i64_col(&f, "tao_out")?,
            &i64_col(&f, "net_flow")?,
            &i32_col(&f, "stakes")?,
            &i32_col(&f, "unstakes")?,
            &f64_col(&f, "ema_flow")?,
        ],
    )
    .await?;
    Ok(f.height())
}

async fn write_miners(tx: &Transaction<'_>, m: &DataFrame) -> Result<usize, AnalyticsError> {
    tx.execute(
        "INSERT INTO miner_rankings (netuid, block_number, uid, hotkey, coldkey, incentive, emission_alpha, emission_tao,
                                     rank_incentive, rank_emission, rank_change, stability_cv, epochs_in_window)
         SELECT * FROM unnest($1::int4[], $2::int8[], $3::int4[], $4::text[], $5::text[], $6::float8[], $7::int8[],
                              $8::float8[], $9::int4[], $10::int4[], $11::int4[], $12::float8[], $13::int4[])",
        &[
            &i32_col(m, "netuid")?,
            &i64_col(m, "block")?,
            &i32_col(m, "uid")?,
            &required(strs(m, "hotkey")?, "hotkey")?,
            &strs(m, "coldkey")?,
            &f64_col(m, "incentive")?,
            &i64_col(m, "emission_alpha")?,
            &f64s(m, "emission_tao")?.into_iter().map(|v| v.unwrap_or(0.0)).collect::<Vec<_>>(),
            &i32_col(m, "rank_incentive")?,
            &i32_col(m, "rank_emission")?,
            &opt_i32_col(m, "rank_change")?,
            &f64s(m, "stability_cv")?,
            &i32_col(m, "epochs_in_window")?,
        ],
    )
    .await?;
    Ok(m.height())
}

async fn write_validators(tx: &Transaction<'_>, v: &DataFrame) -> Result<usize, AnalyticsError> {
    let zero_null = |name: &str| -> Result<Vec<f64>, AnalyticsError> {
        Ok(f64s(v, name)?.into_iter().map(|x| x.unwrap_or(0.0)).collect())
    };
    tx.execute(
        "INSERT INTO validator_rankings (netuid, block_number, uid, hotkey, coldkey, dividends, validator_trust,
                                         stake_alpha, stake_tao, emission_alpha, emission_tao, epoch_yield, apy,
                                         rank_dividends, rank_stake, rank_change)
         SELECT * FROM unnest($1::int4[], $2::int8[], $3::int4[], $4::text[], $5::text[], $6::float8[], $7::float8[],
                              $8::int8[], $9::float8[], $10::int8[], $11::float8[], $12::float8[], $13::float8[],
                              $14::int4[], $15::int4[], $16::int4[])",
        &[
            &i32_col(v, "netuid")?,
            &i64_col(v, "block")?,
            &i32_col(v, "uid")?,
            &required(strs(v, "hotkey")?, "hotkey")?,
            &strs(v, "coldkey")?,
            &f64_col(v, "dividends")?,
            &f64_col(v, "validator_trust")?,
            &i64_col(v, "stake_alpha")?,
            &zero_null("stake_tao")?,
            &i64_col(v, "emission_alpha")?,
            &zero_null("emission_tao")?,
            &f64s(v, "epoch_yield")?,
            &f64s(v, "apy")?,
            &i32_col(v, "rank_dividends")?,
            &i32_col(v, "rank_stake")?,
            &opt_i32_col(v, "rank_change")?,
        ],
    )
    .await?;
    Ok(v.height())
}

/// Coldkey roll-ups of the UTC days that have new epochs, recomputed whole from the ranking rows.
const ROLLUP_DAYS: &str = "
    SELECT DISTINCT (b.timestamp AT TIME ZONE 'UTC')::date FROM epochs e JOIN blocks b ON b.number = e.block_number
    WHERE e.block_number > $1 AND e.block_number <= $2 AND b.timestamp IS NOT NULL";
const ROLLUP: &str = "
    WITH days AS (SELECT unnest($1::date[]) AS day),
    rows AS (
        SELECT r.coldkey, r.netuid, r.hotkey, r.block_number, (b.timestamp AT TIME ZONE 'UTC')::date AS day,
               true AS miner, r.emission_tao, NULL::float8 AS stake_tao
        FROM miner_rankings r JOIN blocks b ON b.number = r.block_number
        WHERE r.coldkey IS NOT NULL AND (b.timestamp AT TIME ZONE 'UTC')::date IN (SELECT day FROM days)
        UNION ALL
        SELECT v.coldkey, v.netuid, v.hotkey, v.block_number, (b.timestamp AT TIME ZONE 'UTC')::date,
               false, v.emission_tao, v.stake_tao
        FROM validator_rankings v JOIN blocks b ON b.number = v.block_number
        WHERE v.coldkey IS NOT NULL AND (b.timestamp AT TIME ZONE 'UTC')::date IN (SELECT day FROM days)
    ),
    last_stake AS (
        SELECT DISTINCT ON (coldkey, day, netuid, hotkey) coldkey, day, netuid, hotkey, stake_tao
        FROM rows WHERE NOT miner ORDER BY coldkey, day, netuid, hotkey, block_number DESC
    ),
    -- Float sums in a fixed order: the same rows give the same bits however they were written.
    stake AS (SELECT coldkey, day, sum(stake_tao ORDER BY netuid, hotkey) AS stake_tao FROM last_stake GROUP BY coldkey, day)
    INSERT INTO coldkey_rollups (coldkey, day, subnets, hotkeys, miner_epochs, validator_epochs, emission_tao, stake_tao)
    SELECT r.coldkey, r.day, count(DISTINCT r.netuid), count(DISTINCT r.hotkey),
           count(*) FILTER (WHERE r.miner), count(*) FILTER (WHERE NOT r.miner),
           -- A uid both mining and validating in one epoch has one emission: count it once.
           coalesce(sum(r.emission_tao ORDER BY r.netuid, r.block_number, r.hotkey, r.miner)
                    FILTER (WHERE r.miner OR NOT EXISTS (
                        SELECT 1 FROM miner_rankings m WHERE m.netuid = r.netuid AND m.block_number = r.block_number
                                                         AND m.hotkey = r.hotkey)), 0),
           coalesce(max(s.stake_tao), 0)
    FROM rows r LEFT JOIN stake s ON s.coldkey = r.coldkey AND s.day = r.day
    GROUP BY r.coldkey, r.day";

async fn write_rollups(tx: &Transaction<'_>, done: i64, head: i64) -> Result<u64, AnalyticsError> {
    let days: Vec<chrono::NaiveDate> =
        tx.query(ROLLUP_DAYS, &[&done, &head]).await?.iter().map(|r| r.get(0)).collect();
    tx.execute("DELETE FROM coldkey_rollups WHERE day = ANY($1)", &[&days]).await?;
    Ok(tx.execute(ROLLUP, &[&days]).await?)
}

const SELECT_AUDIT_EPOCHS: &str = "
    SELECT e.netuid, e.block_number, b.spec_version, e.kappa, e.bonds_moving_average, e.activity_cutoff,
           e.max_allowed_validators, e.bonds_penalty, e.tempo, e.yuma3, e.liquid_alpha, e.alpha_low, e.alpha_high,
           e.alpha_steepness, e.stake_threshold, e.owner_hotkey
    FROM epochs e JOIN blocks b ON b.number = e.block_number
    WHERE e.block_number > $1 AND e.block_number <= $2 ORDER BY e.netuid, e.block_number";
const SELECT_AUDIT_UIDS: &str = "
    SELECT netuid, block_number, uid, hotkey, input_stake, input_last_update, input_validator_permit,
           input_registered_at, input_weights_to, input_weights, input_bonds_to, input_bonds, incentive, dividends
    FROM metagraph WHERE block_number > $1 AND block_number <= $2 ORDER BY netuid, block_number, uid";

async fn write_audits(
    tx: &Transaction<'_>,
    done: i64,
    head: i64,
    tolerance: f64,
) -> Result<(usize, usize), AnalyticsError> {
    let u16_of = |v: Option<i32>| v.map(|x| x.clamp(0, 65_535) as u16);
    let u64_of = |v: Option<i64>| v.map(|x| x.max(0) as u64);
    let mut epochs: Vec<AuditEpoch> = tx
        .query(SELECT_AUDIT_EPOCHS, &[&done, &head])
        .await?
        .iter()
        .map(|r| AuditEpoch {
            netuid: r.get::<_, i32>(0) as u16,
            block: r.get::<_, i64>(1) as u64,
            spec_version: r.get::<_, i32>(2) as u32,
            params: EpochParams {
                kappa: u16_of(r.get(3)),
                bonds_moving_average: u64_of(r.get(4)),
                activity_cutoff: u16_of(r.get(5)),
                max_allowed_validators: u16_of(r.get(6)),
                bonds_penalty: u16_of(r.get(7)),
                tempo: u16_of(r.get(8)),
                yuma3: r.get(9),
                liquid_alpha: r.get(10),
                alpha_values: u16_of(r.get(11)).zip(u16_of(r.get(12))),
                alpha_steepness: r.get::<_, Option<i32>>(13).map(|v| v as i16),
                stake_threshold: u64_of(r.get(14)),
                owner_hotkey: r.get(15),
            },
            uids: vec![],
        })
        .collect();
    let at: HashMap<(u16, u64), usize> =
        epochs.iter().enumerate().map(|(i, e)| ((e.netuid, e.block), i)).collect();
    let pairs = |to: Vec<i32>, v: Vec<i32>| -> Vec<(u16, u16)> {
        to.into_iter().zip(v).map(|(t, w)| (t.clamp(0, 65_535) as u16, w.clamp(0, 65_535) as u16)).collect()
    };
    for r in tx.query(SELECT_AUDIT_UIDS, &[&done, &head]).await? {
        let key = (r.get::<_, i32>(0) as u16, r.get::<_, i64>(1) as u64);
        let Some(&i) = at.get(&key) else { continue };
        epochs[i].uids.push(AuditUid {
            uid: r.get::<_, i32>(2).clamp(0, 65_535) as u16,
            hotkey: r.get(3),
            stake: u64_of(r.get(4)),
            last_update: u64_of(r.get(5)),
            permit: r.get(6),
            registered_at: u64_of(r.get(7)),
            weights: pairs(r.get(8), r.get(9)),
            bonds: pairs(r.get(10), r.get(11)),
            incentive: u16_of(r.get(12)),
            dividends: u16_of(r.get(13)),
        });
    }
    let insert = tx
        .prepare(
            "INSERT INTO yuma_audit (netuid, block_number, uids, validators, bonds_model, tolerance, max_incentive_dev,
                                     max_dividends_dev, max_deviation, uids_beyond, status, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .await?;
    let mut deviating = 0;
    for e in &epochs {
        let a = audit(e, tolerance);
        deviating += usize::from(a.status == "deviates");
        let beyond: Vec<i32> = a.uids_beyond.iter().map(|u| i32::from(*u)).collect();
        tx.execute(
            &insert,
            &[
                &i32::from(e.netuid),
                &(e.block as i64),
                &(a.uids as i32),
                &(a.validators as i32),
                &a.bonds_model,
                &a.tolerance,
                &a.max_incentive_dev,
                &a.max_dividends_dev,
                &a.max_deviation,
                &beyond,
                &a.status,
                &a.note,
            ],
        )
        .await?;
    }
    Ok((epochs.len(), deviating))
}
