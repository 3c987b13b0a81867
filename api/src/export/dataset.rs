//! The closed set of exportable datasets: for each, the table it reads, its columns (the SQL
//! expression, the Parquet name and how the value is converted), how filters apply, and the
//! order rows come out in. All SQL identifiers come from these constants.
//!
//! `COPY` cannot take bind parameters, so the statements built here embed their filter values
//! as literals: only integers (`u16`, `u64` checked to fit `bigint`) and the `&'static str` of
//! an [`Interval`] ever reach the SQL text.

use std::fmt;
use std::str::FromStr;

use tokio_postgres::types::Type;

use super::{ExportError, ExportFilter};

/// A dataset `GET /exports/{dataset}.parquet` and `taoscope export` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dataset {
    /// `blocks`: one row per block (hashes as `0x` hex).
    Blocks,
    /// `events`: every decoded event, its fields as JSON text.
    Events,
    /// `stake_ledger`: one row per StakeAdded / StakeRemoved.
    StakeEvents,
    /// `pool_state`: every subnet's pool at each indexed block.
    PoolState,
    /// `candles`: OHLCV of the pool price per interval bucket.
    Candles,
    /// `emissions_daily`: emissions per subnet per UTC day.
    Emissions,
    /// `flows_daily`: net TAO flow per subnet per UTC day.
    Flows,
    /// `metagraph`: the per-epoch neuron snapshot.
    Neurons,
    /// `miner_rankings`: miners per subnet per epoch.
    MinerRankings,
    /// `validator_rankings`: validators per subnet per epoch.
    ValidatorRankings,
    /// `yuma_audit`: each epoch replayed and compared with the chain.
    YumaAudit,
    /// `inference_audits`: each inference audit run against the reference model.
    InferenceAudits,
}

impl Dataset {
    /// Every dataset, in documentation order.
    pub const ALL: [Dataset; 12] = [
        Dataset::Blocks,
        Dataset::Events,
        Dataset::StakeEvents,
        Dataset::PoolState,
        Dataset::Candles,
        Dataset::Emissions,
        Dataset::Flows,
        Dataset::Neurons,
        Dataset::MinerRankings,
        Dataset::ValidatorRankings,
        Dataset::YumaAudit,
        Dataset::InferenceAudits,
    ];

    /// The name used in URLs, on the command line and in metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Blocks => "blocks",
            Dataset::Events => "events",
            Dataset::StakeEvents => "stake_events",
            Dataset::PoolState => "pool_state",
            Dataset::Candles => "candles",
            Dataset::Emissions => "emissions",
            Dataset::Flows => "flows",
            Dataset::Neurons => "neurons",
            Dataset::MinerRankings => "miner_rankings",
            Dataset::ValidatorRankings => "validator_rankings",
            Dataset::YumaAudit => "yuma_audit",
            Dataset::InferenceAudits => "inference_audits",
        }
    }

    /// Whether rows carry a subnet, so that `netuid` filters them.
    pub fn has_netuid(self) -> bool {
        self.spec().netuid.is_some()
    }

    /// The Parquet column names, in file order.
    pub fn column_names(self) -> Vec<&'static str> {
        self.spec().columns.iter().flat_map(Column::output_names).collect()
    }

    pub(crate) fn spec(self) -> &'static Spec {
        match self {
            Dataset::Blocks => &BLOCKS,
            Dataset::Events => &EVENTS,
            Dataset::StakeEvents => &STAKE_EVENTS,
            Dataset::PoolState => &POOL_STATE,
            Dataset::Candles => &CANDLES,
            Dataset::Emissions => &EMISSIONS,
            Dataset::Flows => &FLOWS,
            Dataset::Neurons => &NEURONS,
            Dataset::MinerRankings => &MINER_RANKINGS,
            Dataset::ValidatorRankings => &VALIDATOR_RANKINGS,
            Dataset::YumaAudit => &YUMA_AUDIT,
            Dataset::InferenceAudits => &INFERENCE_AUDITS,
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dataset {
    type Err = ExportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dataset::ALL.into_iter().find(|d| d.name() == s).ok_or_else(|| {
            let known: Vec<&str> = Dataset::ALL.iter().map(|d| d.name()).collect();
            ExportError::BadInput(format!("unknown dataset {s:?}; expected one of {}", known.join(", ")))
        })
    }
}

/// A candle interval (the `interval` filter of the `candles` dataset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// Five minutes.
    FiveMinutes,
    /// One hour.
    OneHour,
    /// Four hours.
    FourHours,
    /// One UTC day.
    OneDay,
}

impl Interval {
    /// Every interval the analytics compute.
    pub const ALL: [Interval; 4] =
        [Interval::FiveMinutes, Interval::OneHour, Interval::FourHours, Interval::OneDay];

    /// The spelling used in `candles.interval` and in the filter: `5m`, `1h`, `4h`, `1d`.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::FiveMinutes => "5m",
            Interval::OneHour => "1h",
            Interval::FourHours => "4h",
            Interval::OneDay => "1d",
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Interval {
    type Err = ExportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Interval::ALL.into_iter().find(|i| i.as_str() == s).ok_or_else(|| {
            ExportError::BadInput(format!("`interval` must be one of 5m, 1h, 4h, 1d, not {s:?}"))
        })
    }
}

/// Which token a rao amount counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// TAO (1e9 rao).
    Tao,
    /// A subnet's alpha (1e9 of its smallest unit).
    Alpha,
    /// The token named by another column (stake_ledger.fee_token).
    Token,
}

/// How one selected value becomes Parquet column(s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `bigint` → Int64.
    Int64,
    /// `integer` → Int32.
    Int32,
    /// `double precision` → Float64.
    Float64,
    /// `numeric` → Float64 (nearest double, as `numeric::float8` would give).
    Numeric,
    /// `boolean` → Boolean.
    Bool,
    /// `text` → String.
    Text,
    /// `bytea` → String, `0x`-prefixed lowercase hex.
    Hex,
    /// `timestamptz` → Datetime(µs, UTC).
    Timestamp,
    /// `date` → Date.
    Date,
    /// `integer[]` → List(Int32).
    Int32List,
    /// `bigint` rao → Int64 `raw` and Float64 in whole tokens under the column's name.
    Rao { raw: &'static str, unit: Unit },
    /// `numeric` rao (u128) → Float64 `raw` (rao) and Float64 in whole tokens.
    NumericRao { raw: &'static str, unit: Unit },
    /// `double precision` rao → Float64 `raw` (rao) and Float64 in whole tokens.
    FloatRao { raw: &'static str, unit: Unit },
    /// Not selected: the block's timestamp, looked up by the row's block number (see
    /// [`Spec::block_times`]).
    BlockTime,
}

impl Kind {
    /// The PostgreSQL type the selected expression must have (`None`: not selected).
    pub(crate) fn pg_type(self) -> Option<Type> {
        Some(match self {
            Kind::Int64 | Kind::Rao { .. } => Type::INT8,
            Kind::Int32 => Type::INT4,
            Kind::Float64 | Kind::FloatRao { .. } => Type::FLOAT8,
            Kind::Numeric | Kind::NumericRao { .. } => Type::NUMERIC,
            Kind::Bool => Type::BOOL,
            Kind::Text => Type::TEXT,
            Kind::Hex => Type::BYTEA,
            Kind::Timestamp => Type::TIMESTAMPTZ,
            Kind::Date => Type::DATE,
            Kind::Int32List => Type::INT4_ARRAY,
            Kind::BlockTime => return None,
        })
    }
}

/// One column of a dataset.
#[derive(Debug)]
pub(crate) struct Column {
    /// The Parquet name (for amounts: the whole-token column; the rao column is `Kind`'s `raw`).
    pub name: &'static str,
    /// The selected SQL expression (empty for [`Kind::BlockTime`]).
    pub sql: &'static str,
    /// The conversion.
    pub kind: Kind,
}

impl Column {
    /// The Parquet columns this one writes, in order.
    pub fn output_names(&self) -> Vec<&'static str> {
        match self.kind {
            Kind::Rao { raw, .. } | Kind::NumericRao { raw, .. } | Kind::FloatRao { raw, .. } => {
                vec![raw, self.name]
            }
            _ => vec![self.name],
        }
    }
}

const fn col(name: &'static str, sql: &'static str, kind: Kind) -> Column {
    Column { name, sql, kind }
}

const fn rao(name: &'static str, raw: &'static str, sql: &'static str, unit: Unit) -> Column {
    Column { name, sql, kind: Kind::Rao { raw, unit } }
}

/// How `from_block` / `to_block` select rows.
#[derive(Debug)]
pub(crate) enum BlockFilter {
    /// The row's block is in the range.
    Point(&'static str),
    /// The row covers blocks `first..=last`; it is kept when any of them is in the range.
    Overlap { first: &'static str, last: &'static str },
}

/// The order rows are written in, and how they are read.
#[derive(Debug)]
pub(crate) enum Order {
    /// Read in block ranges (several at once, on a shared snapshot), rows ordered by `key`
    /// (selected column indices, the block number first). A range is read in storage order and
    /// checked; only a range found out of order is read again with `ORDER BY`.
    Chunked { key: &'static [usize], order_by: &'static str, rows_per_block: f64 },
    /// One statement with this `ORDER BY`, streamed.
    Sql(&'static str),
}

/// Everything the export needs to know about one dataset.
#[derive(Debug)]
pub(crate) struct Spec {
    /// The `FROM` clause; the dataset's table is aliased `t`.
    pub from: &'static str,
    /// The columns, in Parquet order.
    pub columns: &'static [Column],
    /// How block filters apply.
    pub blocks: BlockFilter,
    /// The netuid column, when rows have one.
    pub netuid: Option<&'static str>,
    /// The candle interval column (`candles` only).
    pub interval: Option<&'static str>,
    /// The row order.
    pub order: Order,
    /// For chunked datasets: the table whose partitions bound the block range (`None`: the
    /// table is not partitioned; its own block column bounds it through its primary key).
    pub partitioned: Option<&'static str>,
}

impl Spec {
    /// The selected SQL expressions, comma-separated.
    pub fn select_list(&self) -> String {
        let exprs: Vec<&str> =
            self.columns.iter().filter(|c| c.kind.pg_type().is_some()).map(|c| c.sql).collect();
        exprs.join(", ")
    }

    /// How many values each COPY row has.
    pub fn selected(&self) -> usize {
        self.columns.iter().filter(|c| c.kind.pg_type().is_some()).count()
    }

    /// Whether a column is filled from block timestamps looked up after the rows.
    pub fn block_times(&self) -> bool {
        self.columns.iter().any(|c| c.kind == Kind::BlockTime)
    }

    /// The block column of a chunked dataset (the first key column).
    pub fn block_sql(&self) -> &'static str {
        match self.blocks {
            BlockFilter::Point(column) => column,
            BlockFilter::Overlap { first, .. } => first,
        }
    }

    /// The `WHERE` conditions for `filter` (validated), plus `extra`.
    pub fn conditions(&self, filter: &ExportFilter, extra: Option<(u64, u64)>) -> String {
        let mut out: Vec<String> = vec!["true".to_string()];
        if let (Some(column), Some(netuid)) = (self.netuid, filter.netuid) {
            out.push(format!("{column} = {netuid}"));
        }
        if let (Some(column), Some(interval)) = (self.interval, filter.interval) {
            out.push(format!("{column} = '{}'", interval.as_str()));
        }
        match self.blocks {
            BlockFilter::Point(column) => {
                if let Some(from) = filter.from_block {
                    out.push(format!("{column} >= {from}"));
                }
                if let Some(to) = filter.to_block {
                    out.push(format!("{column} <= {to}"));
                }
            }
            BlockFilter::Overlap { first, last } => {
                if let Some(from) = filter.from_block {
                    out.push(format!("{last} >= {from}"));
                }
                if let Some(to) = filter.to_block {
                    out.push(format!("{first} <= {to}"));
                }
            }
        }
        if let Some((from, to)) = extra {
            let column = self.block_sql();
            out.push(format!("{column} >= {from} AND {column} <= {to}"));
        }
        out.join(" AND ")
    }

    /// `SELECT … LIMIT 0`, prepared to check the column types.
    pub fn probe_sql(&self) -> String {
        format!("SELECT {} FROM {} LIMIT 0", self.select_list(), self.from)
    }

    /// The `COPY` of the rows in `range` (or all of them), optionally sorted and limited.
    pub fn copy_sql(
        &self,
        filter: &ExportFilter,
        range: Option<(u64, u64)>,
        sorted: bool,
        limit: Option<usize>,
    ) -> String {
        let mut sql = format!(
            "SELECT {} FROM {} WHERE {}",
            self.select_list(),
            self.from,
            self.conditions(filter, range)
        );
        let order_by = match self.order {
            Order::Chunked { order_by, .. } => sorted.then_some(order_by),
            Order::Sql(order_by) => Some(order_by),
        };
        if let Some(order_by) = order_by {
            sql.push_str(" ORDER BY ");
            sql.push_str(order_by);
        }
        if let Some(limit) = limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        format!("COPY ({sql}) TO STDOUT (FORMAT binary)")
    }
}

const BLOCKS: Spec = Spec {
    from: "blocks t",
    columns: &[
        col("number", "t.number", Kind::Int64),
        col("hash", "t.hash", Kind::Hex),
        col("parent_hash", "t.parent_hash", Kind::Hex),
        col("timestamp", "t.timestamp", Kind::Timestamp),
        col("spec_version", "t.spec_version", Kind::Int32),
        col("event_count", "t.event_count", Kind::Int32),
        col("extrinsic_count", "t.extrinsic_count", Kind::Int32),
    ],
    blocks: BlockFilter::Point("t.number"),
    netuid: None,
    interval: None,
    order: Order::Chunked { key: &[0], order_by: "t.number", rows_per_block: 1.0 },
    partitioned: None,
};

const EVENTS: Spec = Spec {
    from: "events t",
    columns: &[
        col("block_number", "t.block_number", Kind::Int64),
        col("timestamp", "", Kind::BlockTime),
        col("index", "t.index", Kind::Int32),
        col("phase", "t.phase", Kind::Text),
        col("extrinsic_index", "t.extrinsic_index", Kind::Int32),
        col("pallet", "t.pallet", Kind::Text),
        col("name", "t.name", Kind::Text),
        col("data", "t.data::text", Kind::Text),
    ],
    blocks: BlockFilter::Point("t.block_number"),
    netuid: None,
    interval: None,
    order: Order::Chunked { key: &[0, 1], order_by: "t.block_number, t.index", rows_per_block: 40.0 },
    partitioned: Some("events"),
};

const STAKE_EVENTS: Spec = Spec {
    from: "stake_ledger t",
    columns: &[
        col("block_number", "t.block_number", Kind::Int64),
        col("timestamp", "", Kind::BlockTime),
        col("event_index", "t.event_index", Kind::Int32),
        col("extrinsic_index", "t.extrinsic_index", Kind::Int32),
        col("direction", "t.direction", Kind::Text),
        col("coldkey", "t.coldkey", Kind::Text),
        col("hotkey", "t.hotkey", Kind::Text),
        col("netuid", "t.netuid", Kind::Int32),
        rao("tao", "tao_rao", "t.tao", Unit::Tao),
        rao("alpha", "alpha_rao", "t.alpha", Unit::Alpha),
        rao("fee", "fee_rao", "t.fee", Unit::Token),
        col("fee_token", "t.fee_token", Kind::Text),
        col("movement", "t.movement", Kind::Text),
        col("movement_event_index", "t.movement_event_index", Kind::Int32),
    ],
    blocks: BlockFilter::Point("t.block_number"),
    netuid: Some("t.netuid"),
    interval: None,
    order: Order::Chunked { key: &[0, 1], order_by: "t.block_number, t.event_index", rows_per_block: 2.0 },
    partitioned: Some("stake_ledger"),
};

const POOL_STATE: Spec = Spec {
    from: "pool_state t",
    columns: &[
        col("block_number", "t.block_number", Kind::Int64),
        col("timestamp", "", Kind::BlockTime),
        col("netuid", "t.netuid", Kind::Int32),
        rao("tao", "tao_rao", "t.tao", Unit::Tao),
        rao("alpha_in", "alpha_in_rao", "t.alpha_in", Unit::Alpha),
        rao("alpha_out", "alpha_out_rao", "t.alpha_out", Unit::Alpha),
        col("price", "t.price", Kind::Numeric),
        col("price_source", "t.price_source", Kind::Text),
        col("moving_price", "t.moving_price", Kind::Numeric),
        col("sqrt_price", "t.sqrt_price", Kind::Numeric),
        col("balancer_quote", "t.balancer_quote", Kind::Numeric),
        rao("tao_in_emission", "tao_in_emission_rao", "t.tao_in_emission", Unit::Tao),
        rao("alpha_in_emission", "alpha_in_emission_rao", "t.alpha_in_emission", Unit::Alpha),
        rao("alpha_out_emission", "alpha_out_emission_rao", "t.alpha_out_emission", Unit::Alpha),
        col("volume", "t.volume", Kind::NumericRao { raw: "volume_rao", unit: Unit::Tao }),
    ],
    blocks: BlockFilter::Point("t.block_number"),
    netuid: Some("t.netuid"),
    interval: None,
    order: Order::Chunked { key: &[0, 1], order_by: "t.block_number, t.netuid", rows_per_block: 128.0 },
    partitioned: Some("pool_state"),
};

const CANDLES: Spec = Spec {
    from: "candles t",
    columns: &[
        col("netuid", "t.netuid", Kind::Int32),
        col("interval", "t.interval", Kind::Text),
        col("bucket_start", "t.bucket_start", Kind::Timestamp),
        col("first_block", "t.first_block", Kind::Int64),
        col("last_block", "t.last_block", Kind::Int64),
        col("blocks", "t.blocks", Kind::Int32),
        col("open", "t.open", Kind::Float64),
        col("high", "t.high", Kind::Float64),
        col("low", "t.low", Kind::Float64),
        col("close", "t.close", Kind::Float64),
        col("twap", "t.twap", Kind::Float64),
        col("moving_price", "t.moving_price", Kind::Float64),
        col("market_cap_tao", "t.market_cap_tao", Kind::Float64),
        col("liquidity_tao", "t.liquidity_tao", Kind::Float64),
        rao("volume", "volume_rao", "t.volume_rao", Unit::Tao),
        col("trades", "t.trades", Kind::Int32),
    ],
    blocks: BlockFilter::Overlap { first: "t.first_block", last: "t.last_block" },
    netuid: Some("t.netuid"),
    interval: Some("t.interval"),
    order: Order::Sql("t.netuid, t.interval, t.bucket_start"),
    partitioned: None,
};

const EMISSIONS: Spec = Spec {
    from: "emissions_daily t",
    columns: &[
        col("netuid", "t.netuid", Kind::Int32),
        col("day", "t.day", Kind::Date),
        col("first_block", "t.first_block", Kind::Int64),
        col("last_block", "t.last_block", Kind::Int64),
        col("blocks", "t.blocks", Kind::Int32),
        rao("tao_in", "tao_in_rao", "t.tao_in", Unit::Tao),
        rao("alpha_in", "alpha_in_rao", "t.alpha_in", Unit::Alpha),
        rao("alpha_out", "alpha_out_rao", "t.alpha_out", Unit::Alpha),
        rao("owner_alpha", "owner_alpha_rao", "t.owner_alpha", Unit::Alpha),
        rao("miner_alpha", "miner_alpha_rao", "t.miner_alpha", Unit::Alpha),
        rao("validator_alpha", "validator_alpha_rao", "t.validator_alpha", Unit::Alpha),
        rao("root_alpha", "root_alpha_rao", "t.root_alpha", Unit::Alpha),
        col("tao_share", "t.tao_share", Kind::Float64),
        rao("cum_tao_in", "cum_tao_in_rao", "t.cum_tao_in", Unit::Tao),
        rao("cum_alpha_in", "cum_alpha_in_rao", "t.cum_alpha_in", Unit::Alpha),
        rao("cum_alpha_out", "cum_alpha_out_rao", "t.cum_alpha_out", Unit::Alpha),
        col("era", "t.era", Kind::Text),
    ],
    blocks: BlockFilter::Overlap { first: "t.first_block", last: "t.last_block" },
    netuid: Some("t.netuid"),
    interval: None,
    order: Order::Sql("t.netuid, t.day"),
    partitioned: None,
};

const FLOWS: Spec = Spec {
    from: "flows_daily t",
    columns: &[
        col("netuid", "t.netuid", Kind::Int32),
        col("day", "t.day", Kind::Date),
        col("first_block", "t.first_block", Kind::Int64),
        col("last_block", "t.last_block", Kind::Int64),
        rao("tao_in", "tao_in_rao", "t.tao_in", Unit::Tao),
        rao("tao_out", "tao_out_rao", "t.tao_out", Unit::Tao),
        rao("net_flow", "net_flow_rao", "t.net_flow", Unit::Tao),
        col("stakes", "t.stakes", Kind::Int32),
        col("unstakes", "t.unstakes", Kind::Int32),
        col("ema_flow", "t.ema_flow", Kind::FloatRao { raw: "ema_flow_rao", unit: Unit::Tao }),
    ],
    blocks: BlockFilter::Overlap { first: "t.first_block", last: "t.last_block" },
    netuid: Some("t.netuid"),
    interval: None,
    order: Order::Sql("t.netuid, t.day"),
    partitioned: None,
};

const NEURONS: Spec = Spec {
    from: "metagraph t",
    columns: &[
        col("block_number", "t.block_number", Kind::Int64),
        col("timestamp", "", Kind::BlockTime),
        col("netuid", "t.netuid", Kind::Int32),
        col("uid", "t.uid", Kind::Int32),
        col("hotkey", "t.hotkey", Kind::Text),
        col("coldkey", "t.coldkey", Kind::Text),
        rao("stake", "stake_rao", "t.stake", Unit::Alpha),
        col("incentive", "t.incentive", Kind::Int32),
        col("dividends", "t.dividends", Kind::Int32),
        rao("emission", "emission_rao", "t.emission", Unit::Alpha),
        col("consensus", "t.consensus", Kind::Int32),
        col("validator_trust", "t.validator_trust", Kind::Int32),
        col("validator_permit", "t.validator_permit", Kind::Bool),
        col("active", "t.active", Kind::Bool),
        col("last_update", "t.last_update", Kind::Int64),
        col("weights_to", "t.weights_to", Kind::Int32List),
        col("weights", "t.weights", Kind::Int32List),
        col("bonds_to", "t.bonds_to", Kind::Int32List),
        col("bonds", "t.bonds", Kind::Int32List),
        col("input_hotkey", "t.input_hotkey", Kind::Text),
        rao("input_stake", "input_stake_rao", "t.input_stake", Unit::Alpha),
        col("input_last_update", "t.input_last_update", Kind::Int64),
        col("input_validator_permit", "t.input_validator_permit", Kind::Bool),
        col("input_registered_at", "t.input_registered_at", Kind::Int64),
    ],
    blocks: BlockFilter::Point("t.block_number"),
    netuid: Some("t.netuid"),
    interval: None,
    order: Order::Chunked {
        key: &[0, 1, 2],
        order_by: "t.block_number, t.netuid, t.uid",
        rows_per_block: 64.0,
    },
    partitioned: Some("metagraph"),
};

const MINER_RANKINGS: Spec = Spec {
    from: "miner_rankings t LEFT JOIN blocks b ON b.number = t.block_number",
    columns: &[
        col("netuid", "t.netuid", Kind::Int32),
        col("block_number", "t.block_number", Kind::Int64),
        col("timestamp", "b.timestamp", Kind::Timestamp),
        col("uid", "t.uid", Kind::Int32),
        col("hotkey", "t.hotkey", Kind::Text),
        col("coldkey", "t.coldkey", Kind::Text),
        col("incentive", "t.incentive", Kind::Float64),
        rao("emission_alpha", "emission_alpha_rao", "t.emission_alpha", Unit::Alpha),
        col("emission_tao", "t.emission_tao", Kind::Float64),
        col("rank_incentive", "t.rank_incentive", Kind::Int32),
        col("rank_emission", "t.rank_emission", Kind::Int32),
        col("rank_change", "t.rank_change", Kind::Int32),
        col("stability_cv", "t.stability_cv", Kind::Float64),
        col("epochs_in_window", "t.epochs_in_window", Kind::Int32),
    ],
    blocks: BlockFilter::Point("t.block_number"),
    netuid: Some("t.netuid"),
    interval: None,
    order: Order::Sql("t.netuid, t.block_number, t.uid"),
    partitioned: None,
};

const INFERENCE_AUDITS: Spec = Spec {
    from: "inference_audits t",
    columns: &[
        col("id", "t.id", Kind::Int64),
        col("audited_at", "t.audited_at", Kind::Timestamp),
        col("block_number", "t.block_number", Kind::Int64),
        col("netuid", "t.netuid", Kind::Int32),
        col("hotkey", "t.hotkey", Kind::Text),
        col("uid", "t.uid", Kind::Int32),
        col("kind", "t.kind", Kind::Text),
        col("model", "t.model", Kind::Text),
        col("model_hash", "t.model_hash", Kind::Text),
        col("threshold", "t.threshold", Kind::Float64),
        col("items", "t.items", Kind::Int32),
        col("scored", "t.scored", Kind::Int32),
        col("passed", "t.passed", Kind::Int32),
        col("errors", "t.errors", Kind::Int32),
        col("pass_rate", "t.pass_rate", Kind::Float64),
        col("mean_similarity", "t.mean_similarity", Kind::Float64),
        col("min_similarity", "t.min_similarity", Kind::Float64),
    ],
    blocks: BlockFilter::Point("t.block_number"),
    netuid: Some("t.netuid"),
    interval: None,
    order: Order::Sql("t.id"),
    partitioned: None,
};

const VALIDATOR_RANKINGS: Spec = Spec {
    from: "validator_rankings t LEFT JOIN blocks b ON b.number = t.block_number",
    columns: &[
        col("netuid", "t.netuid", Kind::Int32),
        col("block_number", "t.block_number", Kind::Int64),
        col("timestamp", "b.timestamp", Kind::Timestamp),
        col("uid", "t.uid", Kind::Int32),
        col("hotkey", "t.hotkey", Kind::Text),
        col("coldkey", "t.coldkey", Kind::Text),
        col("dividends", "t.dividends", Kind::Float64),
        col("validator_trust", "t.validator_trust", Kind::Float64),
        rao("stake_alpha", "stake_alpha_rao", "t.stake_alpha", Unit::Alpha),
        col("stake_tao", "t.stake_tao", Kind::Float64),
        rao("emission_alpha", "emission_alpha_rao", "t.emission_alpha", Unit::Alpha),
        col("emission_tao", "t.emission_tao", Kind::Float64),
        col("epoch_yield", "t.epoch_yield", Kind::Float64),
        col("apy", "t.apy", Kind::Float64),
        col("rank_dividends", "t.rank_dividends", Kind::Int32),
        col("rank_stake", "t.rank_stake", Kind::Int32),
        col("rank_change", "t.rank_change", Kind::Int32),
    ],
    blocks: BlockFilter::Point("t.block_number"),
    netuid: Some("t.netuid"),
    interval: None,
    order: Order::Sql("t.netuid, t.block_number, t.uid"),
    partitioned: None,
};

const YUMA_AUDIT: Spec = Spec {
    from: "yuma_audit t LEFT JOIN blocks b ON b.number = t.block_number",
    columns: &[
        col("netuid", "t.netuid", Kind::Int32),
        col("block_number", "t.block_number", Kind::Int64),
        col("timestamp", "b.timestamp", Kind::Timestamp),
        col("uids", "t.uids", Kind::Int32),
        col("validators", "t.validators", Kind::Int32),
        col("bonds_model", "t.bonds_model", Kind::Text),
        col("tolerance", "t.tolerance", Kind::Float64),
        col("max_incentive_dev", "t.max_incentive_dev", Kind::Float64),
        col("max_dividends_dev", "t.max_dividends_dev", Kind::Float64),
        col("max_deviation", "t.max_deviation", Kind::Float64),
        col("uids_beyond", "t.uids_beyond", Kind::Int32List),
        col("status", "t.status", Kind::Text),
        col("note", "t.note", Kind::Text),
    ],
    blocks: BlockFilter::Point("t.block_number"),
    netuid: Some("t.netuid"),
    interval: None,
    order: Order::Sql("t.netuid, t.block_number"),
    partitioned: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Dataset::ALL {
            assert_eq!(d.name().parse::<Dataset>().unwrap(), d);
        }
        for i in Interval::ALL {
            assert_eq!(i.as_str().parse::<Interval>().unwrap(), i);
        }
        assert!(
            matches!("nope".parse::<Dataset>(), Err(ExportError::BadInput(m)) if m.contains("pool_state"))
        );
        assert!("2h".parse::<Interval>().is_err());
    }

    #[test]
    fn chunk_keys_lead_with_the_block_column_and_are_integers() {
        for d in Dataset::ALL {
            let spec = d.spec();
            let selected: Vec<&Column> = spec.columns.iter().filter(|c| c.kind.pg_type().is_some()).collect();
            if let Order::Chunked { key, .. } = spec.order {
                assert_eq!(selected[key[0]].sql, spec.block_sql(), "{d}");
                for &k in key {
                    assert!(matches!(selected[k].kind, Kind::Int64 | Kind::Int32), "{d}");
                }
            }
            let mut names = d.column_names();
            let n = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), n, "{d}: duplicate column names");
            if spec.block_times() {
                assert!(matches!(spec.order, Order::Chunked { .. }), "{d}");
            }
        }
    }

    #[test]
    fn filters_become_conditions() {
        let filter = ExportFilter {
            netuid: Some(3),
            from_block: Some(10),
            to_block: Some(20),
            interval: Some(Interval::OneHour),
        };
        let c = CANDLES.conditions(&filter, None);
        assert_eq!(
            c,
            "true AND t.netuid = 3 AND t.interval = '1h' AND t.last_block >= 10 AND t.first_block <= 20"
        );
        let sql = POOL_STATE.copy_sql(&ExportFilter::default(), Some((5, 9)), false, Some(11));
        assert!(sql.ends_with(
            "WHERE true AND t.block_number >= 5 AND t.block_number <= 9 LIMIT 11) TO STDOUT (FORMAT binary)"
        ));
        let sorted = POOL_STATE.copy_sql(&ExportFilter::default(), Some((5, 9)), true, None);
        assert!(sorted.contains("ORDER BY t.block_number, t.netuid)"), "{sorted}");
    }
}
