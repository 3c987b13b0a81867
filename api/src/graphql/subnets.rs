//! Subnets: `subnets` (every live subnet's current pool, price and emission share) and
//! `subnet(netuid)`, whose fields reach into the subnet's history: candles, TWAP, emissions,
//! flows ([`markets`](super::markets)) and neurons, rankings and the Yuma audit
//! ([`neurons`](super::neurons)).
//!
//! The current state changes once per indexed block (every 12 s on finney), while dashboards ask
//! for it constantly, so it is read once and kept for [`SUBNETS_TTL`] ([`SubnetCache`]).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use tokio_postgres::Row;

use crate::error::ApiError;
use crate::graphql::markets::{self, Candle, CandleInterval, EmissionDay, FlowDay};
use crate::graphql::neurons::{self, MinerRanking, Neuron, NeuronOrder, ValidatorRanking, YumaAuditEpoch};
use crate::graphql::page::{SortOrder, page_complexity};
use crate::graphql::scalars::{BlockNumberScalar, Rao};
use crate::graphql::{gql, state, store};
use crate::store::StoreError;
use crate::store::postgres::{PgStore, number, query_err};

/// How long the subnets' current state is served from memory.
pub const SUBNETS_TTL: Duration = Duration::from_secs(1);

/// Most subnets a chain can have (netuids are `u16`, finney allows 129 including root); the
/// `subnets` list's complexity counts its selection this many times.
pub const MAX_SUBNETS: usize = 129;

/// Each subnet's newest pool row (a loose index scan over the `(netuid, block_number)` key: one
/// short descent per subnet, however long the history), its identity (`subnets`, else the
/// newest epoch's tempo and owner hotkey), and its share of the block's TAO emission. Subnets
/// whose newest row is older than the newest row of any subnet were dissolved and are left out.
const SUBNETS: &str = "
    WITH RECURSIVE ids AS (
        SELECT min(netuid) AS netuid FROM pool_state
        UNION ALL
        SELECT (SELECT min(netuid) FROM pool_state WHERE netuid > ids.netuid) FROM ids
         WHERE ids.netuid IS NOT NULL
    ), latest AS (
        SELECT p.* FROM ids
        CROSS JOIN LATERAL (SELECT * FROM pool_state q WHERE q.netuid = ids.netuid
                             ORDER BY q.block_number DESC LIMIT 1) p
    ), live AS (
        SELECT * FROM latest WHERE block_number = (SELECT max(block_number) FROM latest)
    )
    SELECT l.netuid, l.block_number, b.timestamp, l.tao, l.alpha_in, l.alpha_out,
           l.price::float8, l.price_source, l.moving_price::float8, l.tao_in_emission,
           l.alpha_in_emission, l.alpha_out_emission,
           l.tao_in_emission::float8 / NULLIF(sum(l.tao_in_emission) OVER (), 0),
           COALESCE(i.tempo, e.tempo), COALESCE(i.owner_hotkey, e.owner_hotkey), e.block_number,
           i.name, i.symbol, i.owner_coldkey, i.registered_at
      FROM live l
      LEFT JOIN blocks b ON b.number = l.block_number
      LEFT JOIN subnets i ON i.netuid = l.netuid
      LEFT JOIN LATERAL (SELECT tempo, owner_hotkey, block_number FROM epochs
                          WHERE netuid = l.netuid ORDER BY block_number DESC LIMIT 1) e ON true
     ORDER BY l.netuid";

/// Root fields of the subnets domain.
#[derive(Debug, Default)]
pub struct SubnetsQuery;

#[Object]
impl SubnetsQuery {
    /// Every live subnet's current state, by netuid (as of the newest indexed pool state; at
    /// most one second old).
    #[graphql(complexity = "MAX_SUBNETS * child_complexity")]
    async fn subnets(&self, ctx: &Context<'_>) -> Result<Vec<Subnet>> {
        let all = state(ctx).subnet_cache().get(store(ctx)).await.map_err(gql)?;
        Ok(all.as_ref().clone())
    }

    /// One subnet's current state and history; null when no such subnet is live.
    async fn subnet(&self, ctx: &Context<'_>, netuid: i32) -> Result<Option<Subnet>> {
        let netuid = check_netuid(netuid).map_err(gql)?;
        let all = state(ctx).subnet_cache().get(store(ctx)).await.map_err(gql)?;
        Ok(all.iter().find(|s| s.netuid == i32::from(netuid)).cloned())
    }
}

/// A netuid argument, checked to be a `u16`.
pub fn check_netuid(netuid: i32) -> Result<u16, ApiError> {
    u16::try_from(netuid)
        .map_err(|_| ApiError::BadInput(format!("`netuid` must be 0 to 65535, got {netuid}")))
}

/// A subnet's current state.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Subnet {
    /// Subnet id.
    pub netuid: i32,
    /// The subnet's name (`DynamicInfo.subnet_name`; null on runtimes that do not report it).
    pub name: Option<String>,
    /// The alpha token's symbol (`DynamicInfo.token_symbol`; null where not reported).
    pub symbol: Option<String>,
    /// The block this state is from.
    pub block_number: BlockNumberScalar,
    /// That block's time.
    pub timestamp: Option<DateTime<Utc>>,
    /// TAO per alpha, by the formula of the block's era (see `priceSource`).
    pub price: f64,
    /// How the price was derived: `stable`, `reserves`, `sqrt_price` or `balancer`.
    pub price_source: String,
    /// The chain's moving (EMA) price, TAO per alpha.
    pub moving_price: Option<f64>,
    /// TAO reserve of the pool (`SubnetTAO`), rao.
    pub tao_in: Rao,
    /// TAO reserve, TAO.
    pub tao_in_tao: f64,
    /// Alpha reserve of the pool (`SubnetAlphaIn`), alpha rao.
    pub alpha_in: Rao,
    /// Alpha reserve, alpha.
    pub alpha_in_alpha: f64,
    /// Alpha held outside the pool (`SubnetAlphaOut`), alpha rao.
    pub alpha_out: Rao,
    /// Alpha outstanding, alpha.
    pub alpha_out_alpha: f64,
    /// Price × (alpha in + alpha out), TAO.
    pub market_cap: f64,
    /// Pool liquidity (TAO reserve × 2), TAO.
    pub liquidity_tao: f64,
    /// TAO injected into the pool at this block (`SubnetTaoInEmission`), rao.
    pub tao_in_emission: Option<Rao>,
    /// Alpha injected into the pool at this block, alpha rao.
    pub alpha_in_emission: Option<Rao>,
    /// Alpha emitted to participants at this block, alpha rao.
    pub alpha_out_emission: Option<Rao>,
    /// This subnet's share of the block's TAO emission (0 to 1).
    pub emission_share: Option<f64>,
    /// Blocks between epochs (the newest block's, else the newest indexed epoch's).
    pub tempo: Option<i32>,
    /// The owner's coldkey (SS58; null where not reported).
    pub owner: Option<String>,
    /// The owner's hotkey (SS58): the recorded identity's, else the newest epoch's `SubnetOwnerHotkey`.
    pub owner_hotkey: Option<String>,
    /// Block at which the subnet was registered (null where not reported).
    pub registered_at: Option<BlockNumberScalar>,
    /// The newest indexed epoch's block.
    pub last_epoch_block: Option<BlockNumberScalar>,
}

#[ComplexObject]
impl Subnet {
    /// OHLC candles of the price with TAO volume and trade count, oldest first by default.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn candles(
        &self,
        ctx: &Context<'_>,
        interval: CandleInterval,
        #[graphql(desc = "Buckets starting at or after this time.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Buckets starting before this time.")] to: Option<DateTime<Utc>>,
        #[graphql(default)] order: SortOrder,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Candle>> {
        let range = markets::TimeRange { from, to };
        markets::candles(store(ctx), self.netuid, interval, range, order, first, after.as_deref())
            .await
            .map_err(gql)
    }

    /// Time-weighted average price over `[from, to)` from the 5-minute candles (each block's
    /// price holds until the next block); null when no block falls in the window.
    async fn twap(&self, ctx: &Context<'_>, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Option<f64>> {
        markets::twap(store(ctx), self.netuid, from, to).await.map_err(gql)
    }

    /// Emissions per UTC day, oldest first.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn emissions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day (inclusive).")] from: Option<NaiveDate>,
        #[graphql(desc = "Last day (inclusive).")] to: Option<NaiveDate>,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, EmissionDay>> {
        markets::emissions(store(ctx), self.netuid, markets::DayRange { from, to }, first, after.as_deref())
            .await
            .map_err(gql)
    }

    /// Net TAO flows per UTC day, oldest first.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn flows(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day (inclusive).")] from: Option<NaiveDate>,
        #[graphql(desc = "Last day (inclusive).")] to: Option<NaiveDate>,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, FlowDay>> {
        markets::flows(store(ctx), self.netuid, markets::DayRange { from, to }, first, after.as_deref())
            .await
            .map_err(gql)
    }

    /// The neurons of the newest indexed epoch (or of the epoch at block `epoch`).
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn neurons(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The epoch's block; default the newest.")] epoch: Option<BlockNumberScalar>,
        #[graphql(default)] order_by: NeuronOrder,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Neuron>> {
        neurons::neurons(store(ctx), self.netuid, epoch, order_by, first, after.as_deref()).await.map_err(gql)
    }

    /// Miners ranked by incentive in the newest analysed epoch (or the epoch at block `epoch`).
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn miner_rankings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The epoch's block; default the newest.")] epoch: Option<BlockNumberScalar>,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, MinerRanking>> {
        neurons::miner_rankings(store(ctx), self.netuid, epoch, first, after.as_deref()).await.map_err(gql)
    }

    /// Validators ranked by dividends in the newest analysed epoch (or the epoch at `epoch`).
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn validator_rankings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The epoch's block; default the newest.")] epoch: Option<BlockNumberScalar>,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ValidatorRanking>> {
        neurons::validator_rankings(store(ctx), self.netuid, epoch, first, after.as_deref())
            .await
            .map_err(gql)
    }

    /// The Yuma audit of the newest `lastEpochs` epochs (1 to 1000), newest first.
    #[graphql(complexity = "page_complexity(last_epochs, child_complexity)")]
    async fn yuma_audit(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] last_epochs: Option<i32>,
    ) -> Result<Vec<YumaAuditEpoch>> {
        neurons::yuma_audit(store(ctx), self.netuid, last_epochs.unwrap_or(10)).await.map_err(gql)
    }
}

/// The subnets' current state, read at most once per [`SUBNETS_TTL`]. When the snapshot is
/// older, the first caller reads a new one while the others are served the previous snapshot
/// (at most one read in flight, and nobody waits behind it unless there is no snapshot yet).
#[derive(Default)]
pub struct SubnetCache {
    current: RwLock<Option<(Instant, Arc<Vec<Subnet>>)>>,
    refresh: tokio::sync::Mutex<()>,
}

impl SubnetCache {
    /// The current snapshot: the cached one while fresh; else a new one read from `store` by
    /// this caller, or the previous one if another caller is already reading.
    pub async fn get(&self, store: &PgStore) -> Result<Arc<Vec<Subnet>>, StoreError> {
        let previous = match self.snapshot() {
            Some((at, subnets)) if at.elapsed() < SUBNETS_TTL => return Ok(subnets),
            previous => previous.map(|(_, subnets)| subnets),
        };
        let _refreshing = match (self.refresh.try_lock(), previous) {
            (Ok(guard), _) => guard,
            (Err(_), Some(stale)) => return Ok(stale),
            (Err(_), None) => self.refresh.lock().await,
        };
        if let Some((_, subnets)) = self.snapshot().filter(|(at, _)| at.elapsed() < SUBNETS_TTL) {
            return Ok(subnets);
        }
        let subnets = Arc::new(load(store).await?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), subnets.clone()));
        Ok(subnets)
    }

    fn snapshot(&self) -> Option<(Instant, Arc<Vec<Subnet>>)> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

async fn load(store: &PgStore) -> Result<Vec<Subnet>, StoreError> {
    let client = store.client().await?;
    let rows = client.query(SUBNETS, &[]).await.map_err(query_err("SUBNETS"))?;
    rows.iter().map(subnet).collect()
}

fn subnet(row: &Row) -> Result<Subnet, StoreError> {
    let netuid: i32 = row.get(0);
    let tao: i64 = row.get(3);
    let alpha_in: i64 = row.get(4);
    let alpha_out: i64 = row.get(5);
    let price: f64 = row.get(6);
    let optional_rao = |i: usize| row.get::<_, Option<i64>>(i).map(Rao);
    Ok(Subnet {
        netuid,
        name: row.get(16),
        symbol: row.get(17),
        block_number: BlockNumberScalar(number("pool_state.block_number", row.get(1))?),
        timestamp: row.get(2),
        price,
        price_source: row.get(7),
        moving_price: row.get(8),
        tao_in: Rao(tao),
        tao_in_tao: Rao(tao).whole(),
        alpha_in: Rao(alpha_in),
        alpha_in_alpha: Rao(alpha_in).whole(),
        alpha_out: Rao(alpha_out),
        alpha_out_alpha: Rao(alpha_out).whole(),
        market_cap: price * Rao(alpha_in.saturating_add(alpha_out)).whole(),
        liquidity_tao: 2.0 * Rao(tao).whole(),
        tao_in_emission: optional_rao(9),
        alpha_in_emission: optional_rao(10),
        alpha_out_emission: optional_rao(11),
        emission_share: row.get(12),
        tempo: row.get(13),
        owner: row.get(18),
        owner_hotkey: row.get(14),
        registered_at: row
            .get::<_, Option<i64>>(19)
            .map(|n| number("subnets.registered_at", n).map(BlockNumberScalar))
            .transpose()?,
        last_epoch_block: row
            .get::<_, Option<i64>>(15)
            .map(|n| number("epochs.block_number", n).map(BlockNumberScalar))
            .transpose()?,
    })
}
