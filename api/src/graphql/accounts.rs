//! Accounts: the stake ledger (`stakeEvents`), a coldkey's positions and history (`account`),
//! and a hotkey's registrations, neurons and emissions (`hotkey`).

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use crate::error::ApiError;
use crate::graphql::chain::{block_range, ss58};
use crate::graphql::neurons::proportion;
use crate::graphql::page::{PageRequest, SortOrder, page_complexity};
use crate::graphql::scalars::{BlockNumberScalar, Rao};
use crate::graphql::subnets::check_netuid;
use crate::graphql::{gql, state, store};
use crate::store::StoreError;
use crate::store::postgres::{PgStore, number, query_err};

macro_rules! stake_query {
    ($cmp:literal, $order:literal) => {
        concat!(
            "SELECT s.block_number, s.event_index, s.extrinsic_index, b.timestamp, s.direction, s.coldkey,
                    s.hotkey, s.netuid, s.tao, s.alpha, s.fee, s.fee_token, s.movement
               FROM stake_ledger s LEFT JOIN blocks b ON b.number = s.block_number
              WHERE s.block_number BETWEEN $1 AND $2
                AND ($3::integer IS NULL OR s.netuid = $3)
                AND ($4::text IS NULL OR s.coldkey = $4)
                AND ($5::text IS NULL OR s.hotkey = $5)
                AND (s.block_number, s.event_index) ",
            $cmp,
            " ($6, $7)
              ORDER BY s.block_number ",
            $order,
            ", s.event_index ",
            $order,
            " LIMIT $8"
        )
    };
}
const STAKE_EVENTS_ASC: &str = stake_query!(">", "ASC");
const STAKE_EVENTS_DESC: &str = stake_query!("<", "DESC");

/// A coldkey's net alpha per (hotkey, subnet) from the ledger: alpha staked minus alpha
/// unstaked (an unstake's alpha fee left the position too).
const POSITIONS: &str = "
    SELECT hotkey, netuid,
           sum(CASE WHEN direction = 'add' THEN COALESCE(alpha, 0)
                    ELSE -(COALESCE(alpha, 0) + CASE WHEN fee_token = 'alpha' THEN fee ELSE 0 END) END)::bigint,
           max(block_number)
      FROM stake_ledger
     WHERE coldkey = $1 AND netuid IS NOT NULL
     GROUP BY hotkey, netuid
    HAVING sum(CASE WHEN direction = 'add' THEN COALESCE(alpha, 0)
                    ELSE -(COALESCE(alpha, 0) + CASE WHEN fee_token = 'alpha' THEN fee ELSE 0 END) END) > 0
     ORDER BY netuid, hotkey";

const REGISTRATIONS: &str = "
    SELECT r.netuid, r.uid, r.block_number, b.timestamp, r.replaced, r.replaced_hotkey
      FROM registrations r LEFT JOIN blocks b ON b.number = r.block_number
     WHERE r.hotkey = $1 ORDER BY r.block_number, r.event_index LIMIT 1000";

/// The hotkey's newest metagraph row on each subnet.
const HOTKEY_NEURONS: &str = "
    SELECT DISTINCT ON (netuid) netuid, block_number, uid, coldkey, stake, incentive, dividends, emission,
           validator_permit
      FROM metagraph WHERE hotkey = $1 ORDER BY netuid, block_number DESC";

macro_rules! hotkey_emission_query {
    ($cmp:literal, $order:literal) => {
        concat!(
            "SELECT m.block_number, m.netuid, m.uid, m.emission, m.incentive, m.dividends, b.timestamp
               FROM metagraph m LEFT JOIN blocks b ON b.number = m.block_number
              WHERE m.hotkey = $1 AND m.block_number BETWEEN $2 AND $3
                AND ($4::integer IS NULL OR m.netuid = $4)
                AND (m.block_number, m.netuid) ",
            $cmp,
            " ($5, $6)
              ORDER BY m.block_number ",
            $order,
            ", m.netuid ",
            $order,
            " LIMIT $7"
        )
    };
}
const HOTKEY_EMISSIONS_ASC: &str = hotkey_emission_query!(">", "ASC");
const HOTKEY_EMISSIONS_DESC: &str = hotkey_emission_query!("<", "DESC");

/// Root fields of the accounts domain.
#[derive(Debug, Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// Stake ledger rows (`StakeAdded` / `StakeRemoved`; moves, transfers and swaps appear as a
    /// remove and an add marked with `movement`), oldest first by default.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn stake_events(
        &self,
        ctx: &Context<'_>,
        netuid: Option<i32>,
        #[graphql(desc = "Coldkey, SS58.")] coldkey: Option<String>,
        #[graphql(desc = "Hotkey, SS58.")] hotkey: Option<String>,
        from_block: Option<BlockNumberScalar>,
        to_block: Option<BlockNumberScalar>,
        #[graphql(default)] order: SortOrder,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, StakeEvent>> {
        let filter = StakeFilter::new(netuid, coldkey.as_deref(), hotkey.as_deref(), from_block, to_block)
            .map_err(gql)?;
        stake_events(store(ctx), &filter, order, first, after.as_deref()).await.map_err(gql)
    }

    /// A coldkey: its stake positions and stake history.
    async fn account(&self, #[graphql(desc = "Coldkey, SS58.")] coldkey: String) -> Result<Account> {
        Ok(Account { coldkey: ss58(&coldkey, "coldkey").map_err(gql)? })
    }

    /// A hotkey: its registrations, neurons, emissions and stake history.
    async fn hotkey(&self, #[graphql(desc = "Hotkey, SS58.")] ss58: String) -> Result<Hotkey> {
        Ok(Hotkey { ss58: crate::graphql::chain::ss58(&ss58, "ss58").map_err(gql)? })
    }
}

/// Which ledger rows.
#[derive(Debug, Clone, Default)]
pub struct StakeFilter {
    netuid: Option<i32>,
    coldkey: Option<String>,
    hotkey: Option<String>,
    from: Option<BlockNumberScalar>,
    to: Option<BlockNumberScalar>,
}

impl StakeFilter {
    /// Validates the arguments.
    pub fn new(
        netuid: Option<i32>,
        coldkey: Option<&str>,
        hotkey: Option<&str>,
        from: Option<BlockNumberScalar>,
        to: Option<BlockNumberScalar>,
    ) -> Result<Self, ApiError> {
        Ok(StakeFilter {
            netuid: netuid.map(check_netuid).transpose()?.map(i32::from),
            coldkey: coldkey.map(|c| ss58(c, "coldkey")).transpose()?,
            hotkey: hotkey.map(|h| ss58(h, "hotkey")).transpose()?,
            from,
            to,
        })
    }
}

/// A page of stake events.
pub async fn stake_events(
    store: &PgStore,
    filter: &StakeFilter,
    order: SortOrder,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Connection<String, StakeEvent>, ApiError> {
    const CURSOR: &str = "stake";
    let page = PageRequest::new(first, after, CURSOR, 2)?;
    let (from, to) = block_range(store, filter.from.map(|b| b.0), filter.to.map(|b| b.0), false).await?;
    let (sql, start) = if order.desc() { (STAKE_EVENTS_DESC, i64::MAX) } else { (STAKE_EVENTS_ASC, -1) };
    let after_block = page.after_or(0, start);
    let after_index =
        i32::try_from(page.after_or(1, start)).unwrap_or(if order.desc() { i32::MAX } else { -1 });
    let client = store.client().await?;
    let rows = client
        .query(
            sql,
            &[
                &from,
                &to,
                &filter.netuid,
                &filter.coldkey,
                &filter.hotkey,
                &after_block,
                &after_index,
                &page.fetch(),
            ],
        )
        .await
        .map_err(query_err("STAKE_EVENTS"))?;
    let rows = rows.iter().map(stake_event).collect::<Result<Vec<_>, _>>()?;
    Ok(page.connection(CURSOR, rows, |e| vec![e.block_key(), i64::from(e.event_index)]))
}

/// One stake ledger row.
#[derive(Debug, Clone, SimpleObject)]
pub struct StakeEvent {
    /// Block height.
    pub block_number: BlockNumberScalar,
    /// Position in the block's events.
    pub event_index: i32,
    /// The extrinsic that staked.
    pub extrinsic_index: Option<i32>,
    /// The block's time.
    pub timestamp: Option<DateTime<Utc>>,
    /// `add` or `remove`.
    pub direction: String,
    /// Coldkey, SS58 (null in pre-dTAO events).
    pub coldkey: Option<String>,
    /// Hotkey, SS58.
    pub hotkey: String,
    /// Subnet (null before dTAO).
    pub netuid: Option<i32>,
    /// TAO in (add, gross) or paid out (remove), rao.
    pub tao: Rao,
    /// TAO, TAO.
    pub tao_tao: f64,
    /// Alpha received (add) or sold into the pool (remove), alpha rao.
    pub alpha: Option<Rao>,
    /// Alpha, alpha.
    pub alpha_alpha: Option<f64>,
    /// Fee, in `feeToken` rao.
    pub fee: Rao,
    /// `tao` or `alpha`; null before fees were reported.
    pub fee_token: Option<String>,
    /// `moved`, `transferred` or `swapped` when part of a movement.
    pub movement: Option<String>,
}

impl StakeEvent {
    fn block_key(&self) -> i64 {
        i64::try_from(self.block_number.0.0).unwrap_or(i64::MAX)
    }
}

/// A coldkey.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Account {
    /// The coldkey, SS58.
    pub coldkey: String,
}

#[ComplexObject]
impl Account {
    /// Net stake per (hotkey, subnet) from the stake ledger — alpha staked minus alpha
    /// unstaked, valued at the current price. Emissions earned on a position are not in the
    /// ledger and so not included.
    async fn stakes(&self, ctx: &Context<'_>) -> Result<Vec<StakePosition>> {
        let store = store(ctx);
        let subnets = state(ctx).subnet_cache().get(store).await.map_err(gql)?;
        let client = store.client().await.map_err(gql)?;
        let rows =
            client.query(POSITIONS, &[&self.coldkey]).await.map_err(|e| gql(query_err("POSITIONS")(e)))?;
        rows.iter()
            .map(|row| {
                let netuid: i32 = row.get(1);
                let alpha: i64 = row.get(2);
                let price = subnets.iter().find(|s| s.netuid == netuid).map(|s| s.price);
                let value = price.map(|p| (Rao(alpha).whole() * p * 1e9).round() as i64);
                Ok(StakePosition {
                    hotkey: row.get(0),
                    netuid,
                    alpha: Rao(alpha),
                    alpha_alpha: Rao(alpha).whole(),
                    tao_value: value.map(Rao),
                    tao_value_tao: value.map(|v| Rao(v).whole()),
                    last_change_block: BlockNumberScalar(
                        number("stake_ledger.block_number", row.get(3)).map_err(gql)?,
                    ),
                })
            })
            .collect()
    }

    /// This coldkey's stake events, oldest first by default.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn stake_events(
        &self,
        ctx: &Context<'_>,
        netuid: Option<i32>,
        from_block: Option<BlockNumberScalar>,
        to_block: Option<BlockNumberScalar>,
        #[graphql(default)] order: SortOrder,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, StakeEvent>> {
        let filter =
            StakeFilter::new(netuid, Some(&self.coldkey), None, from_block, to_block).map_err(gql)?;
        stake_events(store(ctx), &filter, order, first, after.as_deref()).await.map_err(gql)
    }
}

/// A stake position.
#[derive(Debug, Clone, SimpleObject)]
pub struct StakePosition {
    /// Hotkey staked to, SS58.
    pub hotkey: String,
    /// Subnet.
    pub netuid: i32,
    /// Net alpha staked, alpha rao.
    pub alpha: Rao,
    /// Net alpha staked, alpha.
    pub alpha_alpha: f64,
    /// The alpha valued at the subnet's current price, rao (null for a dissolved subnet).
    pub tao_value: Option<Rao>,
    /// The same in TAO.
    pub tao_value_tao: Option<f64>,
    /// The position's last ledger change.
    pub last_change_block: BlockNumberScalar,
}

/// A hotkey.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Hotkey {
    /// The hotkey, SS58.
    pub ss58: String,
}

#[ComplexObject]
impl Hotkey {
    /// Its registrations (`NeuronRegistered`), oldest first (at most 1,000).
    async fn registrations(&self, ctx: &Context<'_>) -> Result<Vec<Registration>> {
        let client = store(ctx).client().await.map_err(gql)?;
        let rows = client
            .query(REGISTRATIONS, &[&self.ss58])
            .await
            .map_err(|e| gql(query_err("REGISTRATIONS")(e)))?;
        rows.iter()
            .map(|row| {
                Ok(Registration {
                    netuid: row.get(0),
                    uid: row.get(1),
                    block_number: BlockNumberScalar(
                        number("registrations.block_number", row.get(2)).map_err(gql)?,
                    ),
                    timestamp: row.get(3),
                    replaced: row.get(4),
                    replaced_hotkey: row.get(5),
                })
            })
            .collect()
    }

    /// Its newest indexed neuron on each subnet.
    async fn neurons(&self, ctx: &Context<'_>) -> Result<Vec<HotkeyNeuron>> {
        let client = store(ctx).client().await.map_err(gql)?;
        let rows = client
            .query(HOTKEY_NEURONS, &[&self.ss58])
            .await
            .map_err(|e| gql(query_err("HOTKEY_NEURONS")(e)))?;
        rows.iter().map(|row| hotkey_neuron(row).map_err(gql)).collect()
    }

    /// Its emission per epoch (every subnet, or `netuid`), oldest first by default.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn emissions(
        &self,
        ctx: &Context<'_>,
        netuid: Option<i32>,
        from_block: Option<BlockNumberScalar>,
        to_block: Option<BlockNumberScalar>,
        #[graphql(default)] order: SortOrder,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, EpochEmission>> {
        const CURSOR: &str = "hotkey_emission";
        let store = store(ctx);
        let netuid = netuid.map(check_netuid).transpose().map_err(gql)?.map(i32::from);
        let page = PageRequest::new(first, after.as_deref(), CURSOR, 2).map_err(gql)?;
        let (from, to) =
            block_range(store, from_block.map(|b| b.0), to_block.map(|b| b.0), false).await.map_err(gql)?;
        let (sql, start) =
            if order.desc() { (HOTKEY_EMISSIONS_DESC, i64::MAX) } else { (HOTKEY_EMISSIONS_ASC, -1) };
        let after_block = page.after_or(0, start);
        let after_netuid =
            i32::try_from(page.after_or(1, start)).unwrap_or(if order.desc() { i32::MAX } else { -1 });
        let client = store.client().await.map_err(gql)?;
        let rows = client
            .query(sql, &[&self.ss58, &from, &to, &netuid, &after_block, &after_netuid, &page.fetch()])
            .await
            .map_err(|e| gql(query_err("HOTKEY_EMISSIONS")(e)))?;
        let rows = rows.iter().map(epoch_emission).collect::<Result<Vec<_>, _>>().map_err(gql)?;
        Ok(page.connection(CURSOR, rows, |e| {
            vec![i64::try_from(e.block_number.0.0).unwrap_or(i64::MAX), i64::from(e.netuid)]
        }))
    }

    /// Stake events to this hotkey, oldest first by default.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn stake_events(
        &self,
        ctx: &Context<'_>,
        netuid: Option<i32>,
        from_block: Option<BlockNumberScalar>,
        to_block: Option<BlockNumberScalar>,
        #[graphql(default)] order: SortOrder,
        #[graphql(desc = "Page size, from 0 to 1000 (default 100).")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, StakeEvent>> {
        let filter = StakeFilter::new(netuid, None, Some(&self.ss58), from_block, to_block).map_err(gql)?;
        stake_events(store(ctx), &filter, order, first, after.as_deref()).await.map_err(gql)
    }
}

/// A `NeuronRegistered` event.
#[derive(Debug, Clone, SimpleObject)]
pub struct Registration {
    /// Subnet.
    pub netuid: i32,
    /// Uid given.
    pub uid: i32,
    /// Block.
    pub block_number: BlockNumberScalar,
    /// The block's time.
    pub timestamp: Option<DateTime<Utc>>,
    /// Whether it took over a pruned neuron's uid.
    pub replaced: Option<bool>,
    /// The pruned neuron's hotkey.
    pub replaced_hotkey: Option<String>,
}

/// A hotkey's newest neuron on one subnet.
#[derive(Debug, Clone, SimpleObject)]
pub struct HotkeyNeuron {
    /// Subnet.
    pub netuid: i32,
    /// The epoch's block.
    pub block_number: BlockNumberScalar,
    /// Uid.
    pub uid: i32,
    /// Owner, SS58.
    pub coldkey: Option<String>,
    /// Stake, alpha rao.
    pub stake: Option<Rao>,
    /// Incentive (0 to 1).
    pub incentive: Option<f64>,
    /// Dividends (0 to 1).
    pub dividends: Option<f64>,
    /// Emission for the epoch, alpha rao.
    pub emission: Option<Rao>,
    /// Holds a validator permit.
    pub validator_permit: Option<bool>,
}

/// A hotkey's emission in one epoch.
#[derive(Debug, Clone, SimpleObject)]
pub struct EpochEmission {
    /// The epoch's block.
    pub block_number: BlockNumberScalar,
    /// The block's time.
    pub timestamp: Option<DateTime<Utc>>,
    /// Subnet.
    pub netuid: i32,
    /// Uid.
    pub uid: i32,
    /// Emission, alpha rao.
    pub emission: Option<Rao>,
    /// Emission, alpha.
    pub emission_alpha: Option<f64>,
    /// Incentive (0 to 1).
    pub incentive: Option<f64>,
    /// Dividends (0 to 1).
    pub dividends: Option<f64>,
}

fn stake_event(row: &Row) -> Result<StakeEvent, StoreError> {
    let tao: i64 = row.get(8);
    let alpha: Option<i64> = row.get(9);
    Ok(StakeEvent {
        block_number: BlockNumberScalar(number("stake_ledger.block_number", row.get(0))?),
        event_index: row.get(1),
        extrinsic_index: row.get(2),
        timestamp: row.get(3),
        direction: row.get(4),
        coldkey: row.get(5),
        hotkey: row.get(6),
        netuid: row.get(7),
        tao: Rao(tao),
        tao_tao: Rao(tao).whole(),
        alpha: alpha.map(Rao),
        alpha_alpha: alpha.map(|a| Rao(a).whole()),
        fee: Rao(row.get(10)),
        fee_token: row.get(11),
        movement: row.get(12),
    })
}

fn hotkey_neuron(row: &Row) -> Result<HotkeyNeuron, StoreError> {
    Ok(HotkeyNeuron {
        netuid: row.get(0),
        block_number: BlockNumberScalar(number("metagraph.block_number", row.get(1))?),
        uid: row.get(2),
        coldkey: row.get(3),
        stake: row.get::<_, Option<i64>>(4).map(Rao),
        incentive: proportion(row.get(5)),
        dividends: proportion(row.get(6)),
        emission: row.get::<_, Option<i64>>(7).map(Rao),
        validator_permit: row.get(8),
    })
}

fn epoch_emission(row: &Row) -> Result<EpochEmission, StoreError> {
    let emission: Option<i64> = row.get(3);
    Ok(EpochEmission {
        block_number: BlockNumberScalar(number("metagraph.block_number", row.get(0))?),
        netuid: row.get(1),
        uid: row.get(2),
        emission: emission.map(Rao),
        emission_alpha: emission.map(|e| Rao(e).whole()),
        incentive: proportion(row.get(4)),
        dividends: proportion(row.get(5)),
        timestamp: row.get(6),
    })
}
