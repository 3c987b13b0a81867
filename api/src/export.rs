//! Parquet exports of the indexed tables: `GET /exports/{dataset}.parquet` ([`handler`]) and
//! `taoscope export` ([`export_to_writer`]).
//!
//! Rows stream out of PostgreSQL by binary `COPY` inside one read-only repeatable-read
//! snapshot, are decoded into Polars columns in batches and written as zstd-compressed Parquet
//! row groups, so memory stays bounded whatever the table's size:
//!
//! ```text
//! PostgreSQL ─COPY─▶ readers (async, ≤ 2 connections) ─▶ decoder thread ─▶ writer thread ─▶ sink
//! ```
//!
//! Columns are typed: timestamps as `Timestamp(µs, UTC)`, block numbers and rao amounts as
//! `Int64`, netuids, uids and counts as `Int32`, text as UTF-8, flags as booleans. Every rao
//! amount `x` comes twice: `x_rao` (`Int64`, exact) and `x` (`Float64`, whole TAO or alpha);
//! `numeric` values (prices, fixed-point, u128 volume) become the nearest `Float64`. Datasets
//! keyed by block carry the block's `timestamp`.
//!
//! Filters: `netuid` (datasets with a subnet), `from_block` / `to_block` (inclusive; the daily
//! and candle tables keep rows whose `first_block..=last_block` overlaps the range) and, for
//! `candles`, `interval` (`5m`, `1h`, `4h`, `1d`; every interval when absent).
//!
//! Row order is deterministic: the block-keyed tables (`blocks`, `events`, `stake_events`,
//! `pool_state`, `neurons`) by block number, then their key within the block (`index`,
//! `event_index`, `netuid`, `netuid, uid`), which is the order they are stored in and so reads
//! several times faster than the primary key's order for `pool_state` and `neurons`; the
//! analytics tables by their primary key (`netuid` first).

mod copy;
mod dataset;
mod decode;
mod fetch;
mod http;
mod writer;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use deadpool_postgres::Pool;
use tokio::sync::Semaphore;
use tokio_postgres::error::SqlState;

pub use self::dataset::{Dataset, Interval};
pub use self::http::{PARQUET_CONTENT_TYPE, handler};

use self::fetch::{MAX_WORKERS, Sessions};
use self::writer::Counters;
use crate::error::error_chain;

/// How often [`export_to_writer`] reports progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Which rows of a dataset to export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportFilter {
    /// Only this subnet (datasets with a `netuid`).
    pub netuid: Option<u16>,
    /// Only blocks from this one on (inclusive).
    pub from_block: Option<u64>,
    /// Only blocks up to this one (inclusive).
    pub to_block: Option<u64>,
    /// Only this candle interval (`candles`; every interval when `None`).
    pub interval: Option<Interval>,
}

impl ExportFilter {
    /// The query-string parameters the filter understands.
    pub const PARAMETERS: [&'static str; 4] = ["netuid", "from_block", "to_block", "interval"];

    /// Parses query-string pairs; unknown and repeated parameters are refused.
    pub fn from_query_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, ExportError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut filter = ExportFilter::default();
        let mut seen = Vec::new();
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref());
            let Some(&known) = Self::PARAMETERS.iter().find(|p| **p == key) else {
                return Err(ExportError::BadInput(format!(
                    "unknown parameter `{key}`; expected {}",
                    Self::PARAMETERS.join(", ")
                )));
            };
            if seen.contains(&known) {
                return Err(ExportError::BadInput(format!("`{known}` is given more than once")));
            }
            seen.push(known);
            match known {
                "netuid" => {
                    filter.netuid = Some(value.parse().map_err(|_| {
                        ExportError::BadInput(format!(
                            "`netuid` must be an integer from 0 to 65535, not {value:?}"
                        ))
                    })?);
                }
                "from_block" => filter.from_block = Some(block_number("from_block", value)?),
                "to_block" => filter.to_block = Some(block_number("to_block", value)?),
                _ => filter.interval = Some(value.parse()?),
            }
        }
        Ok(filter)
    }

    /// Checks that the filter applies to `dataset` and selects something.
    pub fn check(&self, dataset: Dataset) -> Result<(), ExportError> {
        if self.netuid.is_some() && !dataset.has_netuid() {
            return Err(ExportError::BadInput(format!(
                "the {dataset} dataset has no netuid; `netuid` does not apply"
            )));
        }
        if self.interval.is_some() && dataset != Dataset::Candles {
            return Err(ExportError::BadInput(format!(
                "`interval` applies to the candles dataset only, not {dataset}"
            )));
        }
        for (name, value) in [("from_block", self.from_block), ("to_block", self.to_block)] {
            if value.is_some_and(|v| i64::try_from(v).is_err()) {
                return Err(ExportError::BadInput(format!("`{name}` must be below 2^63")));
            }
        }
        if let (Some(from), Some(to)) = (self.from_block, self.to_block)
            && from > to
        {
            return Err(ExportError::BadInput(format!(
                "`from_block` ({from}) is greater than `to_block` ({to})"
            )));
        }
        Ok(())
    }
}

fn block_number(name: &str, value: &str) -> Result<u64, ExportError> {
    value
        .parse::<u64>()
        .ok()
        .filter(|v| i64::try_from(*v).is_ok())
        .ok_or_else(|| ExportError::BadInput(format!("`{name}` must be a block number, not {value:?}")))
}

/// Where an export has got to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportProgress {
    /// Rows written so far.
    pub rows: u64,
    /// Parquet bytes written so far.
    pub bytes: u64,
    /// Time since the export started.
    pub elapsed: Duration,
}

/// What a finished export wrote.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportStats {
    /// The dataset.
    pub dataset: Dataset,
    /// Rows written.
    pub rows: u64,
    /// Parquet bytes written.
    pub bytes: u64,
    /// Wall-clock seconds, from opening the database to the file's last byte.
    pub seconds: f64,
}

impl ExportStats {
    /// Rows per second.
    pub fn rows_per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.rows as f64 / self.seconds } else { 0.0 }
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The request is wrong (unknown dataset, bad filter); the message says how.
    #[error("{0}")]
    BadInput(String),
    /// No pooled connection could be had (the database is down or saturated).
    #[error("no database connection")]
    Pool(#[source] deadpool_postgres::PoolError),
    /// A statement failed.
    #[error("export query {step} failed")]
    Database {
        /// Which statement.
        step: &'static str,
        /// The cause.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A selected column does not have the type the export expects (the schema moved on).
    #[error("column {column} is {found}, expected {expected}")]
    Schema {
        /// The Parquet column.
        column: &'static str,
        /// The PostgreSQL type expected.
        expected: String,
        /// The PostgreSQL type found.
        found: String,
    },
    /// The `COPY` stream is not what was asked for.
    #[error("unexpected COPY data: {reason}")]
    Corrupt {
        /// What was wrong.
        reason: String,
    },
    /// Polars could not build or encode a batch.
    #[error("parquet encoding failed")]
    Parquet(#[source] polars::prelude::PolarsError),
    /// The sink refused bytes (disk full, client gone).
    #[error("writing the export failed")]
    Write(#[source] std::io::Error),
    /// A stage of the pipeline stopped before the end.
    #[error("export stopped: {0}")]
    Aborted(&'static str),
}

impl ExportError {
    /// Whether the database could not be reached (retrying later may work).
    pub fn is_unavailable(&self) -> bool {
        match self {
            ExportError::Pool(_) => true,
            ExportError::Database { source, .. } => {
                source.is_closed()
                    || source.code().is_some_and(|c| {
                        c.code().starts_with("08")
                            || *c == SqlState::ADMIN_SHUTDOWN
                            || *c == SqlState::CRASH_SHUTDOWN
                            || *c == SqlState::CANNOT_CONNECT_NOW
                    })
            }
            _ => false,
        }
    }

    /// The stable code clients switch on: `BAD_USER_INPUT`, `UNAVAILABLE` or `INTERNAL`.
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::BadInput(_) => "BAD_USER_INPUT",
            e if e.is_unavailable() => "UNAVAILABLE",
            _ => "INTERNAL",
        }
    }

    /// The HTTP status of the error, before the body has started.
    pub fn status(&self) -> StatusCode {
        match self {
            ExportError::BadInput(_) => StatusCode::BAD_REQUEST,
            e if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client may see (never SQL or database details).
    pub fn public_message(&self) -> String {
        match self {
            ExportError::BadInput(message) => message.clone(),
            e if e.is_unavailable() => "database unavailable".to_string(),
            _ => "internal server error".to_string(),
        }
    }
}

impl IntoResponse for ExportError {
    fn into_response(self) -> Response {
        match &self {
            ExportError::BadInput(_) => {}
            e if e.is_unavailable() => tracing::warn!(error = %error_chain(e), "export unavailable"),
            e => tracing::error!(error = %error_chain(e), "export failed"),
        }
        let code = self.code();
        let body = serde_json::json!({
            "status": code.to_lowercase(),
            "code": code,
            "reason": self.public_message(),
        });
        (self.status(), Json(body)).into_response()
    }
}

/// An export whose database side is open (connections, snapshot, block range) and whose rows
/// have not been read yet: errors so far can still be a status code.
pub struct Export {
    dataset: Dataset,
    filter: ExportFilter,
    sessions: Sessions,
    started: Instant,
}

impl Export {
    /// Checks the filter, opens the snapshot and finds what to read.
    pub async fn start(pool: &Pool, dataset: Dataset, filter: &ExportFilter) -> Result<Export, ExportError> {
        let started = Instant::now();
        filter.check(dataset)?;
        let sessions = Sessions::open(pool, dataset.spec(), filter).await?;
        Ok(Export { dataset, filter: *filter, sessions, started })
    }

    /// The dataset being exported.
    pub fn dataset(&self) -> Dataset {
        self.dataset
    }

    /// Reads every row and writes the Parquet file to `sink`, reporting progress every quarter
    /// second. Dropping the future stops the export: the readers' statements are cancelled and
    /// the threads end without writing the file's footer.
    pub async fn run<W>(
        self,
        sink: W,
        mut on_progress: impl FnMut(ExportProgress) + Send,
    ) -> Result<ExportStats, ExportError>
    where
        W: Write + Send + 'static,
    {
        let Export { dataset, filter, sessions, started } = self;
        let first_block = sessions.range.map_or(0, |(lo, _)| lo);
        let counters = Arc::new(Counters::default());
        let permits = Arc::new(Semaphore::new(MAX_WORKERS + 2));
        let (piece_tx, piece_rx) = std::sync::mpsc::channel();
        let (frame_tx, frame_rx) = std::sync::mpsc::sync_channel(1);
        let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();

        let decoder_permits = permits.clone();
        spawn_thread("taoscope-export-decode", move || {
            writer::decode(dataset, first_block, piece_rx, frame_tx, decoder_permits);
        })?;
        let writer_counters = counters.clone();
        spawn_thread("taoscope-export-write", move || {
            let _ = done_tx.send(writer::write(dataset, frame_rx, sink, &writer_counters));
        })?;

        let progress = |counters: &Counters| ExportProgress {
            rows: counters.rows.load(Ordering::Relaxed),
            bytes: counters.bytes.load(Ordering::Relaxed),
            elapsed: started.elapsed(),
        };
        let read = sessions.read(dataset.spec(), &filter, piece_tx, permits);
        tokio::pin!(read);
        let mut read_result = None;
        let mut written = None;
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let written = loop {
            if let (Some(read_result), Some(bytes)) = (&read_result, written) {
                match read_result {
                    Ok(()) => break bytes,
                    Err(_) => return Err(ExportError::Aborted("the readers stopped")),
                }
            }
            tokio::select! {
                result = &mut read, if read_result.is_none() => match result {
                    Ok(()) => read_result = Some(Ok(())),
                    // The decoder or writer stopped; its own error says more.
                    Err(ExportError::Aborted(why)) => read_result = Some(Err(why)),
                    Err(e) => return Err(e),
                },
                done = &mut done_rx, if written.is_none() => {
                    written = Some(done.map_err(|_| ExportError::Aborted("the writer stopped"))??);
                }
                _ = tick.tick() => on_progress(progress(&counters)),
            }
        };
        let stats = ExportStats {
            dataset,
            rows: counters.rows.load(Ordering::Relaxed),
            bytes: written,
            seconds: started.elapsed().as_secs_f64(),
        };
        on_progress(progress(&counters));
        Ok(stats)
    }
}

fn spawn_thread(name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), ExportError> {
    std::thread::Builder::new().name(name.to_string()).spawn(f).map(drop).map_err(ExportError::Write)
}

/// Exports `dataset`'s rows matching `filter` as one Parquet file written to `sink`, calling
/// `on_progress` as it goes; returns what was written.
///
/// ```no_run
/// # async fn run(pool: deadpool_postgres::Pool) -> Result<(), taoscope_api::export::ExportError> {
/// use taoscope_api::export::{Dataset, ExportFilter, export_to_writer};
/// let file = std::fs::File::create("pool_state.parquet").map_err(taoscope_api::export::ExportError::Write)?;
/// let filter = ExportFilter { netuid: Some(1), ..ExportFilter::default() };
/// let stats = export_to_writer(&pool, Dataset::PoolState, &filter, file, |_| {}).await?;
/// println!("{} rows", stats.rows);
/// # Ok(())
/// # }
/// ```
pub async fn export_to_writer<W>(
    pool: &Pool,
    dataset: Dataset,
    filter: &ExportFilter,
    sink: W,
    on_progress: impl FnMut(ExportProgress) + Send,
) -> Result<ExportStats, ExportError>
where
    W: Write + Send + 'static,
{
    Export::start(pool, dataset, filter).await?.run(sink, on_progress).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_parse_strictly() {
        let f = ExportFilter::from_query_pairs([("netuid", "3"), ("from_block", "10"), ("interval", "4h")])
            .unwrap();
        assert_eq!(
            f,
            ExportFilter {
                netuid: Some(3),
                from_block: Some(10),
                to_block: None,
                interval: Some(Interval::FourHours)
            }
        );
        for bad in [
            vec![("netuid", "x")],
            vec![("netuid", "70000")],
            vec![("from_block", "-1")],
            vec![("to_block", "9223372036854775808")],
            vec![("interval", "2h")],
            vec![("netuid", "1"), ("netuid", "2")],
            vec![("to", "5")],
        ] {
            assert!(
                matches!(ExportFilter::from_query_pairs(bad.clone()), Err(ExportError::BadInput(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn filters_must_apply_to_the_dataset() {
        let netuid = ExportFilter { netuid: Some(1), ..ExportFilter::default() };
        assert!(netuid.check(Dataset::Blocks).is_err());
        assert!(netuid.check(Dataset::Events).is_err());
        assert!(netuid.check(Dataset::PoolState).is_ok());
        let interval = ExportFilter { interval: Some(Interval::OneDay), ..ExportFilter::default() };
        assert!(interval.check(Dataset::Candles).is_ok());
        assert!(interval.check(Dataset::PoolState).is_err());
        let backwards = ExportFilter { from_block: Some(5), to_block: Some(4), ..ExportFilter::default() };
        assert!(backwards.check(Dataset::Blocks).is_err());
        let e = backwards.check(Dataset::Blocks).unwrap_err();
        assert_eq!((e.code(), e.status()), ("BAD_USER_INPUT", StatusCode::BAD_REQUEST));
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = ExportError::Corrupt { reason: "SELECT secret FROM t".into() };
        assert_eq!(e.public_message(), "internal server error");
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
