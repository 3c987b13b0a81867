//! A subnet's participants per epoch: the metagraph snapshot (`neurons`), the analytics'
//! miner and validator rankings, and the Yuma audit.

use async_graphql::connection::Connection;
use async_graphql::{Enum, SimpleObject};
use tokio_postgres::Row;

use crate::error::ApiError;
use crate::graphql::page::PageRequest;
use crate::graphql::scalars::{BlockNumberScalar, Rao};
use crate::store::StoreError;
use crate::store::postgres::{PgStore, db_number, number, query_err};

/// A u16 proportion as the chain stores it, as a fraction of 1.
pub fn proportion(v: Option<i32>) -> Option<f64> {
    v.map(|v| f64::from(v) / 65_535.0)
}

/// How `neurons` are ordered.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NeuronOrder {
    /// By uid.
    #[default]
    Uid,
    /// Largest stake first.
    StakeDesc,
    /// Largest incentive first.
    IncentiveDesc,
    /// Largest dividends first.
    DividendsDesc,
    /// Largest emission first.
    EmissionDesc,
}

macro_rules! neuron_query {
    ($order:literal) => {
        concat!(
            "SELECT block_number, uid, hotkey, coldkey, stake, incentive, dividends, emission, consensus,
                    validator_trust, validator_permit, active, last_update, weights_to, weights
               FROM metagraph WHERE netuid = $1 AND block_number = $2
              ORDER BY ",
            $order,
            " OFFSET $3 LIMIT $4"
        )
    };
}
const NEURONS_BY_UID: &str = neuron_query!("uid");
const NEURONS_BY_STAKE: &str = neuron_query!("stake DESC NULLS LAST, uid");
const NEURONS_BY_INCENTIVE: &str = neuron_query!("incentive DESC NULLS LAST, uid");
const NEURONS_BY_DIVIDENDS: &str = neuron_query!("dividends DESC NULLS LAST, uid");
const NEURONS_BY_EMISSION: &str = neuron_query!("emission DESC NULLS LAST, uid");
const NEWEST_SNAPSHOT: &str = "SELECT max(block_number) FROM metagraph WHERE netuid = $1";

/// Each miner with its inference audits up to the epoch's block (`inference_audits`): runs,
/// items scored, and the pass rate over them.
const MINERS: &str = "
    SELECT r.block_number, r.uid, r.hotkey, r.coldkey, r.incentive, r.emission_alpha, r.emission_tao,
           r.rank_incentive, r.rank_emission, r.rank_change, r.stability_cv, r.epochs_in_window,
           a.runs, a.scored, a.passed::float8 / NULLIF(a.scored, 0)
      FROM miner_rankings r
      LEFT JOIN LATERAL (SELECT count(*)::int4 AS runs, sum(scored)::int4 AS scored, sum(passed) AS passed
                           FROM inference_audits i
                          WHERE i.netuid = r.netuid AND i.hotkey = r.hotkey
                            AND i.block_number <= r.block_number) a ON true
     WHERE r.netuid = $1 AND r.block_number = $2 AND (r.rank_incentive, r.uid) > ($3, $4)
     ORDER BY r.rank_incentive, r.uid LIMIT $5";
const NEWEST_MINERS: &str = "SELECT max(block_number) FROM miner_rankings WHERE netuid = $1";
const VALIDATORS: &str = "
    SELECT block_number, uid, hotkey, coldkey, dividends, validator_trust, stake_alpha, stake_tao,
           emission_alpha, emission_tao, epoch_yield, apy, rank_dividends, rank_stake, rank_change
      FROM validator_rankings
     WHERE netuid = $1 AND block_number = $2 AND (rank_dividends, uid) > ($3, $4)
     ORDER BY rank_dividends, uid LIMIT $5";
const NEWEST_VALIDATORS: &str = "SELECT max(block_number) FROM validator_rankings WHERE netuid = $1";
const AUDIT: &str = "
    SELECT block_number, uids, validators, bonds_model, tolerance, max_incentive_dev, max_dividends_dev,
           max_deviation, uids_beyond, status, note
      FROM yuma_audit WHERE netuid = $1 ORDER BY block_number DESC LIMIT $2";

/// The epoch asked for, or the newest one `newest` finds; `None` when there is none.
async fn epoch_or_newest(
    client: &deadpool_postgres::Client,
    netuid: i32,
    epoch: Option<BlockNumberScalar>,
    newest: &'static str,
) -> Result<Option<i64>, StoreError> {
    match epoch {
        Some(e) => Ok(Some(db_number(e.0))),
        None => Ok(client.query_one(newest, &[&netuid]).await.map_err(query_err("NEWEST_EPOCH"))?.get(0)),
    }
}

/// A page of the metagraph at an epoch. Cursors carry the epoch and the position, so paging
/// through one snapshot stays consistent while new epochs arrive.
pub async fn neurons(
    store: &PgStore,
    netuid: i32,
    epoch: Option<BlockNumberScalar>,
    order: NeuronOrder,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Connection<String, Neuron>, ApiError> {
    const CURSOR: &str = "neuron";
    let page = PageRequest::new(first, after, CURSOR, 2)?;
    let client = store.client().await?;
    let epoch = match &page.after {
        Some(k) => Some(k[0]),
        None => epoch_or_newest(&client, netuid, epoch, NEWEST_SNAPSHOT).await?,
    };
    let Some(epoch) = epoch else { return Ok(page.connection(CURSOR, Vec::new(), |_| Vec::new())) };
    let offset = page.after.as_ref().map_or(0, |k| k[1] + 1).max(0);
    let sql = match order {
        NeuronOrder::Uid => NEURONS_BY_UID,
        NeuronOrder::StakeDesc => NEURONS_BY_STAKE,
        NeuronOrder::IncentiveDesc => NEURONS_BY_INCENTIVE,
        NeuronOrder::DividendsDesc => NEURONS_BY_DIVIDENDS,
        NeuronOrder::EmissionDesc => NEURONS_BY_EMISSION,
    };
    let rows =
        client.query(sql, &[&netuid, &epoch, &offset, &page.fetch()]).await.map_err(query_err("NEURONS"))?;
    let rows = rows
        .iter()
        .zip(offset..)
        .map(|(row, position)| neuron(row, position))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page.connection(CURSOR, rows, |n| vec![n.epoch_key(), n.position]))
}

/// A page of the miner ranking at an epoch.
pub async fn miner_rankings(
    store: &PgStore,
    netuid: i32,
    epoch: Option<BlockNumberScalar>,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Connection<String, MinerRanking>, ApiError> {
    const CURSOR: &str = "miner";
    let page = PageRequest::new(first, after, CURSOR, 3)?;
    let client = store.client().await?;
    let epoch = match &page.after {
        Some(k) => Some(k[0]),
        None => epoch_or_newest(&client, netuid, epoch, NEWEST_MINERS).await?,
    };
    let Some(epoch) = epoch else { return Ok(page.connection(CURSOR, Vec::new(), |_| Vec::new())) };
    let (rank, uid) = after_rank_uid(&page);
    let rows = client
        .query(MINERS, &[&netuid, &epoch, &rank, &uid, &page.fetch()])
        .await
        .map_err(query_err("MINERS"))?;
    let rows = rows.iter().map(miner).collect::<Result<Vec<_>, _>>()?;
    Ok(page.connection(CURSOR, rows, |m| vec![epoch, i64::from(m.rank_incentive), i64::from(m.uid)]))
}

/// A page of the validator ranking at an epoch.
pub async fn validator_rankings(
    store: &PgStore,
    netuid: i32,
    epoch: Option<BlockNumberScalar>,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Connection<String, ValidatorRanking>, ApiError> {
    const CURSOR: &str = "validator";
    let page = PageRequest::new(first, after, CURSOR, 3)?;
    let client = store.client().await?;
    let epoch = match &page.after {
        Some(k) => Some(k[0]),
        None => epoch_or_newest(&client, netuid, epoch, NEWEST_VALIDATORS).await?,
    };
    let Some(epoch) = epoch else { return Ok(page.connection(CURSOR, Vec::new(), |_| Vec::new())) };
    let (rank, uid) = after_rank_uid(&page);
    let rows = client
        .query(VALIDATORS, &[&netuid, &epoch, &rank, &uid, &page.fetch()])
        .await
        .map_err(query_err("VALIDATORS"))?;
    let rows = rows.iter().map(validator).collect::<Result<Vec<_>, _>>()?;
    Ok(page.connection(CURSOR, rows, |v| vec![epoch, i64::from(v.rank_dividends), i64::from(v.uid)]))
}

fn after_rank_uid(page: &PageRequest) -> (i32, i32) {
    let part = |i: usize| i32::try_from(page.after_or(i, -1)).unwrap_or(i32::MAX);
    (part(1), part(2))
}

/// The newest `last_epochs` audited epochs, newest first.
pub async fn yuma_audit(
    store: &PgStore,
    netuid: i32,
    last_epochs: i32,
) -> Result<Vec<YumaAuditEpoch>, ApiError> {
    if !(1..=1_000).contains(&last_epochs) {
        return Err(ApiError::BadInput(format!("`lastEpochs` must be 1 to 1000, got {last_epochs}")));
    }
    let client = store.client().await?;
    let rows = client.query(AUDIT, &[&netuid, &i64::from(last_epochs)]).await.map_err(query_err("AUDIT"))?;
    Ok(rows.iter().map(audit).collect::<Result<Vec<_>, _>>()?)
}

/// One neuron (uid) in an epoch's metagraph.
#[derive(Debug, Clone, SimpleObject)]
pub struct Neuron {
    /// The epoch's block.
    pub block_number: BlockNumberScalar,
    /// Uid on the subnet.
    pub uid: i32,
    /// Hotkey, SS58.
    pub hotkey: String,
    /// The hotkey's owner, SS58.
    pub coldkey: Option<String>,
    /// Stake on this subnet (`TotalHotkeyAlpha`), alpha rao.
    pub stake: Option<Rao>,
    /// Stake, alpha.
    pub stake_alpha: Option<f64>,
    /// Incentive (0 to 1).
    pub incentive: Option<f64>,
    /// Dividends (0 to 1).
    pub dividends: Option<f64>,
    /// Emission for the epoch, alpha rao.
    pub emission: Option<Rao>,
    /// Emission, alpha.
    pub emission_alpha: Option<f64>,
    /// Consensus (0 to 1).
    pub consensus: Option<f64>,
    /// Validator trust (0 to 1).
    pub validator_trust: Option<f64>,
    /// Holds a validator permit.
    pub validator_permit: Option<bool>,
    /// Active within the activity cutoff.
    pub active: Option<bool>,
    /// Block of its last weights update.
    pub last_update: Option<i64>,
    /// Uids it set weights on.
    pub weights_to: Vec<i32>,
    /// Its weights (u16), aligned with `weightsTo`.
    pub weights: Vec<i32>,
    #[graphql(skip)]
    position: i64,
}

impl Neuron {
    fn epoch_key(&self) -> i64 {
        i64::try_from(self.block_number.0.0).unwrap_or(i64::MAX)
    }
}

/// A miner's standing in an epoch.
#[derive(Debug, Clone, SimpleObject)]
pub struct MinerRanking {
    /// The epoch's block.
    pub block_number: BlockNumberScalar,
    /// Uid.
    pub uid: i32,
    /// Hotkey, SS58.
    pub hotkey: String,
    /// Owner, SS58.
    pub coldkey: Option<String>,
    /// Incentive (0 to 1).
    pub incentive: f64,
    /// Emission, alpha rao.
    pub emission: Rao,
    /// Emission valued at the epoch's price, TAO.
    pub emission_tao: f64,
    /// Rank by incentive (1 = best).
    pub rank_incentive: i32,
    /// Rank by emission.
    pub rank_emission: i32,
    /// Previous epoch's rank minus this one (positive: moved up); null when new.
    pub rank_change: Option<i32>,
    /// Coefficient of variation of incentive over recent epochs (lower is steadier).
    pub stability_cv: Option<f64>,
    /// Epochs in that window.
    pub epochs_in_window: i32,
    /// Inference audits of this hotkey on this subnet up to the epoch's block.
    pub audit_runs: i32,
    /// Items scored in those audits.
    pub audited_items: i32,
    /// Share of those items that passed (null when none was audited).
    pub audit_pass_rate: Option<f64>,
}

/// A validator's standing in an epoch.
#[derive(Debug, Clone, SimpleObject)]
pub struct ValidatorRanking {
    /// The epoch's block.
    pub block_number: BlockNumberScalar,
    /// Uid.
    pub uid: i32,
    /// Hotkey, SS58.
    pub hotkey: String,
    /// Owner, SS58.
    pub coldkey: Option<String>,
    /// Dividends (0 to 1).
    pub dividends: f64,
    /// Validator trust (0 to 1).
    pub validator_trust: f64,
    /// Stake, alpha rao.
    pub stake: Rao,
    /// Stake valued at the epoch's price, TAO.
    pub stake_tao: f64,
    /// Emission, alpha rao.
    pub emission: Rao,
    /// Emission valued at the epoch's price, TAO.
    pub emission_tao: f64,
    /// Emission over input stake for the epoch.
    pub epoch_yield: Option<f64>,
    /// The epoch yield compounded over a year.
    pub apy: Option<f64>,
    /// Rank by dividends (1 = best).
    pub rank_dividends: i32,
    /// Rank by stake.
    pub rank_stake: i32,
    /// Previous epoch's rank minus this one; null when new.
    pub rank_change: Option<i32>,
}

/// One epoch replayed by Yuma Consensus and compared with the chain.
#[derive(Debug, Clone, SimpleObject)]
pub struct YumaAuditEpoch {
    /// The epoch's block.
    pub block_number: BlockNumberScalar,
    /// Uids in the epoch.
    pub uids: i32,
    /// Validators with permits.
    pub validators: i32,
    /// The bonds model replayed (e.g. `yuma3`).
    pub bonds_model: String,
    /// Allowed |replayed − chain| (fraction of 1).
    pub tolerance: f64,
    /// Largest incentive deviation.
    pub max_incentive_dev: Option<f64>,
    /// Largest dividends deviation.
    pub max_dividends_dev: Option<f64>,
    /// Largest of the two.
    pub max_deviation: Option<f64>,
    /// Uids beyond the tolerance.
    pub uids_beyond: Vec<i32>,
    /// `exact`, `within`, `deviates` or `skipped`.
    pub status: String,
    /// Why an epoch was skipped, or what to know about it.
    pub note: Option<String>,
}

fn epoch_block(row: &Row, table: &'static str) -> Result<BlockNumberScalar, StoreError> {
    number(table, row.get(0)).map(BlockNumberScalar)
}

fn neuron(row: &Row, position: i64) -> Result<Neuron, StoreError> {
    let stake: Option<i64> = row.get(4);
    let emission: Option<i64> = row.get(7);
    Ok(Neuron {
        block_number: epoch_block(row, "metagraph.block_number")?,
        uid: row.get(1),
        hotkey: row.get(2),
        coldkey: row.get(3),
        stake: stake.map(Rao),
        stake_alpha: stake.map(|s| Rao(s).whole()),
        incentive: proportion(row.get(5)),
        dividends: proportion(row.get(6)),
        emission: emission.map(Rao),
        emission_alpha: emission.map(|e| Rao(e).whole()),
        consensus: proportion(row.get(8)),
        validator_trust: proportion(row.get(9)),
        validator_permit: row.get(10),
        active: row.get(11),
        last_update: row.get(12),
        weights_to: row.get(13),
        weights: row.get(14),
        position,
    })
}

fn miner(row: &Row) -> Result<MinerRanking, StoreError> {
    Ok(MinerRanking {
        block_number: epoch_block(row, "miner_rankings.block_number")?,
        uid: row.get(1),
        hotkey: row.get(2),
        coldkey: row.get(3),
        incentive: row.get(4),
        emission: Rao(row.get(5)),
        emission_tao: row.get(6),
        rank_incentive: row.get(7),
        rank_emission: row.get(8),
        rank_change: row.get(9),
        stability_cv: row.get(10),
        epochs_in_window: row.get(11),
        audit_runs: row.get(12),
        audited_items: row.get::<_, Option<i32>>(13).unwrap_or(0),
        audit_pass_rate: row.get(14),
    })
}

fn validator(row: &Row) -> Result<ValidatorRanking, StoreError> {
    Ok(ValidatorRanking {
        block_number: epoch_block(row, "validator_rankings.block_number")?,
        uid: row.get(1),
        hotkey: row.get(2),
        coldkey: row.get(3),
        dividends: row.get(4),
        validator_trust: row.get(5),
        stake: Rao(row.get(6)),
        stake_tao: row.get(7),
        emission: Rao(row.get(8)),
        emission_tao: row.get(9),
        epoch_yield: row.get(10),
        apy: row.get(11),
        rank_dividends: row.get(12),
        rank_stake: row.get(13),
        rank_change: row.get(14),
    })
}

fn audit(row: &Row) -> Result<YumaAuditEpoch, StoreError> {
    Ok(YumaAuditEpoch {
        block_number: epoch_block(row, "yuma_audit.block_number")?,
        uids: row.get(1),
        validators: row.get(2),
        bonds_model: row.get(3),
        tolerance: row.get(4),
        max_incentive_dev: row.get(5),
        max_dividends_dev: row.get(6),
        max_deviation: row.get(7),
        uids_beyond: row.get(8),
        status: row.get(9),
        note: row.get(10),
    })
}
