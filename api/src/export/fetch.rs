//! The PostgreSQL side of an export: read-only repeatable-read sessions sharing one snapshot,
//! the block range to cover, and the workers that `COPY` rows out.
//!
//! Large tables are read in block ranges by up to [`MAX_WORKERS`] connections at once (one
//! backend alone cannot feed the writer fast enough). Each range is read in storage order,
//! which for these append-only tables is key order, and checked as it arrives; a range found
//! out of order is read again with `ORDER BY`, and one with more rows than expected is split.
//! The width of the next range follows the density of the last one. A semaphore bounds how
//! many ranges are read ahead of the one the writer waits for, so memory stays bounded.
//!
//! A session dropped before it finished (the client went away, an error) cancels its running
//! statement and closes its connection rather than returning it to the pool mid-transaction.

use std::collections::VecDeque;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Object, Pool, Timeouts};
use futures::StreamExt;
use tokio::sync::Semaphore;
use tokio_postgres::{CancelToken, NoTls};

use super::copy::CopyReader;
use super::dataset::{Order, Spec};
use super::decode::BlockTimes;
use super::{ExportError, ExportFilter};

/// Connections one export reads with at most.
pub(crate) const MAX_WORKERS: usize = 2;
/// Rows a block range aims at.
const TARGET_ROWS: usize = 65_536;
/// COPY bytes a block range aims at (wide rows: events' JSON, metagraph arrays).
const TARGET_BYTES: usize = 16 << 20;
/// A range with more rows than this is split rather than read.
const MAX_ROWS: usize = 4 * TARGET_ROWS;
/// Ranges never span more blocks than this.
const MAX_WIDTH: u64 = 1 << 22;
/// COPY bytes per piece handed on while streaming one statement.
const PIECE_BYTES: usize = 4 << 20;
/// Blocks per partition of the partitioned tables (`taoscope_ensure_partitions`).
const PARTITION_WIDTH: i64 = 100_000;
/// How long to wait for a second pooled connection before reading with one.
const SECOND_CONNECTION_WAIT: Duration = Duration::from_millis(200);

/// Session settings inside the export's transaction: exports outlive the API's 30 s statement
/// timeout; JIT compilation costs more than it saves on these short scans; a range re-read with
/// `ORDER BY` sorts in memory; no parallel workers (a `Gather` interleaves its workers' rows, so
/// a range would come out of storage order and be read twice, and the export already reads
/// with several connections).
const TRANSACTION_SETTINGS: &str = "SET LOCAL statement_timeout = '1h'; SET LOCAL jit = off; \
     SET LOCAL work_mem = '64MB'; SET LOCAL max_parallel_workers_per_gather = 0";
const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
const EXPORT_SNAPSHOT: &str = "SELECT pg_export_snapshot()";
/// The partitions `<table>_p<N>` of a partitioned table: the lowest and highest `N`.
const PARTITION_RANGE: &str = "
    SELECT min(substring(c.relname from '_p(\\d+)$')::bigint),
           max(substring(c.relname from '_p(\\d+)$')::bigint)
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = to_regclass($1)";
const BLOCK_TIMES_RANGE: &str =
    "SELECT number, timestamp FROM blocks WHERE number >= $1 AND number <= $2 ORDER BY number";
const BLOCK_TIMES_LIST: &str = "SELECT number, timestamp FROM blocks WHERE number = ANY($1) ORDER BY number";

/// One pooled connection holding the export's transaction.
pub(crate) struct Session {
    client: Option<Object>,
    cancel: CancelToken,
    /// A statement may be running.
    busy: bool,
}

impl Session {
    /// Opens the transaction on a pooled connection (importing `snapshot` when given).
    async fn begin(client: Object, snapshot: Option<&str>) -> Result<Session, ExportError> {
        let cancel = client.cancel_token();
        let mut session = Session { client: Some(client), cancel, busy: true };
        let sql = match snapshot {
            Some(id) => format!("{BEGIN}; SET TRANSACTION SNAPSHOT '{id}'; {TRANSACTION_SETTINGS}"),
            None => format!("{BEGIN}; {TRANSACTION_SETTINGS}"),
        };
        session.client()?.batch_execute(&sql).await.map_err(db("BEGIN"))?;
        session.busy = false;
        Ok(session)
    }

    fn client(&self) -> Result<&Object, ExportError> {
        self.client.as_ref().ok_or(ExportError::Aborted("the session is closed"))
    }

    /// Ends the transaction and returns the connection to the pool.
    async fn finish(mut self) -> Result<(), ExportError> {
        self.busy = true;
        self.client()?.batch_execute("COMMIT").await.map_err(db("COMMIT"))?;
        self.busy = false;
        // Back to the pool: the transaction is over.
        drop(self.client.take());
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        // Mid-transaction (or mid-statement): never back to the pool. Detached and dropped, the
        // connection closes once the server has answered; cancelling makes that prompt.
        drop(Object::take(client));
        if self.busy
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let cancel = self.cancel.clone();
            runtime.spawn(async move {
                if let Err(e) = cancel.cancel_query(NoTls).await {
                    tracing::debug!(error = %e, "cancelling an abandoned export statement");
                }
            });
        }
    }
}

/// The sessions of one export, opened before the response starts (so that a database that is
/// down is a 503, not a broken body).
pub(crate) struct Sessions {
    sessions: Vec<Session>,
    /// The blocks to cover, for chunked datasets; `None` when there is nothing to read.
    pub range: Option<(u64, u64)>,
}

impl Sessions {
    /// Opens the transaction(s), checks the dataset's column types and finds the block range.
    pub async fn open(
        pool: &Pool,
        spec: &'static Spec,
        filter: &ExportFilter,
    ) -> Result<Sessions, ExportError> {
        let client = pool.get().await.map_err(ExportError::Pool)?;
        let first = Session::begin(client, None).await?;
        check_types(&first, spec).await?;
        let mut sessions = vec![first];
        let range = match spec.order {
            Order::Chunked { .. } => block_range(&sessions[0], spec, filter).await?,
            Order::Sql(_) => None,
        };
        let wide = range.is_some_and(|(lo, hi)| hi > lo);
        if wide && pool.status().max_size > 1 {
            // A second reader on the same snapshot; without one, read with one.
            let snapshot: String = sessions[0]
                .client()?
                .query_one(EXPORT_SNAPSHOT, &[])
                .await
                .map_err(db("EXPORT_SNAPSHOT"))?
                .get(0);
            let valid = !snapshot.is_empty() && snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            let timeouts = Timeouts { wait: Some(SECOND_CONNECTION_WAIT), ..pool.timeouts() };
            for _ in 1..MAX_WORKERS {
                if !valid {
                    break;
                }
                let Ok(client) = pool.timeout_get(&timeouts).await else { break };
                match Session::begin(client, Some(&snapshot)).await {
                    Ok(s) => sessions.push(s),
                    Err(e) => {
                        tracing::debug!(error = %e, "exporting with one connection");
                        break;
                    }
                }
            }
        }
        Ok(Sessions { sessions, range })
    }

    /// Reads every row, in order, into `out`; then ends the transactions.
    pub async fn read(
        self,
        spec: &'static Spec,
        filter: &ExportFilter,
        out: Sender<Piece>,
        permits: Arc<Semaphore>,
    ) -> Result<(), ExportError> {
        let Sessions { mut sessions, range } = self;
        match spec.order {
            Order::Sql(_) => {
                let session = &mut sessions[0];
                stream_all(session, spec, filter, &out, &permits).await?;
            }
            Order::Chunked { rows_per_block, .. } => {
                if let Some((lo, hi)) = range {
                    let initial = ((TARGET_ROWS as f64 / rows_per_block / 4.0) as u64).clamp(1, MAX_WIDTH);
                    let planner = Mutex::new(Planner::new(lo, hi, initial));
                    let workers =
                        sessions.iter_mut().map(|s| chunk_worker(s, spec, filter, &planner, &out, &permits));
                    futures::future::try_join_all(workers).await?;
                }
            }
        }
        out.send(Piece::End).map_err(|_| ExportError::Aborted("the decoder stopped"))?;
        for session in sessions {
            session.finish().await?;
        }
        Ok(())
    }
}

/// What the readers hand to the decoder.
pub(crate) enum Piece {
    /// Whole rows of the range `start..=end` (chunked), or the next rows of the one statement.
    Rows {
        /// First block of the range (0 when streaming one statement).
        start: u64,
        /// Last block of the range (`u64::MAX` when streaming one statement).
        end: u64,
        /// The rows, as cut by the [`CopyReader`].
        data: Bytes,
        /// The timestamps of the rows' blocks, for datasets with a block-time column.
        times: Option<BlockTimes>,
        /// The range's last piece.
        last: bool,
    },
    /// Every row has been read.
    End,
}

/// The dataset's selected columns must have the types the decoder expects.
async fn check_types(session: &Session, spec: &Spec) -> Result<(), ExportError> {
    let statement = session.client()?.prepare(&spec.probe_sql()).await.map_err(db("PROBE"))?;
    let expected = spec.columns.iter().filter_map(|c| c.kind.pg_type().map(|t| (c.name, t)));
    let found = statement.columns();
    if found.len() != spec.selected() {
        return Err(ExportError::Schema {
            column: "*",
            expected: "the dataset's columns".into(),
            found: found.len().to_string(),
        });
    }
    for ((name, ty), column) in expected.zip(found) {
        if *column.type_() != ty {
            return Err(ExportError::Schema {
                column: name,
                expected: ty.name().to_string(),
                found: column.type_().name().to_string(),
            });
        }
    }
    Ok(())
}

/// The blocks a chunked dataset's rows can be in, narrowed by the filter.
async fn block_range(
    session: &Session,
    spec: &Spec,
    filter: &ExportFilter,
) -> Result<Option<(u64, u64)>, ExportError> {
    let client = session.client()?;
    let (lo, hi): (Option<i64>, Option<i64>) = match spec.partitioned {
        Some(table) => {
            let row = client.query_one(PARTITION_RANGE, &[&table]).await.map_err(db("PARTITION_RANGE"))?;
            let (first, last): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
            (first.map(|p| p * PARTITION_WIDTH), last.map(|p| (p + 1) * PARTITION_WIDTH - 1))
        }
        None => {
            // Through the primary key: `min`/`max` of the leading column are index lookups.
            let column = spec.block_sql();
            let sql = format!("SELECT min({column}), max({column}) FROM {}", spec.from);
            let row = client.query_one(&sql, &[]).await.map_err(db("BLOCK_RANGE"))?;
            (row.get(0), row.get(1))
        }
    };
    let (Some(lo), Some(hi)) = (lo, hi) else { return Ok(None) };
    let lo = u64::try_from(lo.max(0)).unwrap_or(0).max(filter.from_block.unwrap_or(0));
    let hi = u64::try_from(hi.max(0)).unwrap_or(0).min(filter.to_block.unwrap_or(u64::MAX));
    Ok((lo <= hi).then_some((lo, hi)))
}

/// Hands out block ranges in order, sized by the density seen so far.
struct Planner {
    next: u64,
    hi: u64,
    done: bool,
    width: u64,
    /// Ranges to read before advancing (second halves of split ranges).
    queue: VecDeque<(u64, u64)>,
}

impl Planner {
    fn new(lo: u64, hi: u64, width: u64) -> Planner {
        Planner { next: lo, hi, done: false, width: width.max(1), queue: VecDeque::new() }
    }

    fn next_range(&mut self) -> Option<(u64, u64)> {
        if let Some(r) = self.queue.pop_front() {
            return Some(r);
        }
        if self.done {
            return None;
        }
        let start = self.next;
        let end = start.saturating_add(self.width - 1).min(self.hi);
        if end == self.hi {
            self.done = true;
        } else {
            self.next = end + 1;
        }
        Some((start, end))
    }

    /// A range of `blocks` blocks held `rows` rows in `bytes` COPY bytes.
    fn observe(&mut self, blocks: u64, rows: usize, bytes: usize) {
        let width = if rows == 0 {
            self.width.saturating_mul(4)
        } else {
            let by_rows = TARGET_ROWS as f64 / rows as f64;
            let by_bytes = TARGET_BYTES as f64 / bytes.max(1) as f64;
            let ideal = (blocks as f64 * by_rows.min(by_bytes)) as u64;
            ideal.clamp(self.width / 4, self.width.saturating_mul(4))
        };
        self.width = width.clamp(1, MAX_WIDTH);
    }

    /// `range` had too many rows: its second half goes first in line, and ranges shrink.
    fn split(&mut self, (start, end): (u64, u64)) -> (u64, u64) {
        let mid = start + (end - start) / 2;
        self.queue.push_front((mid + 1, end));
        self.width = ((end - start + 1) / 4).max(1);
        (start, mid)
    }
}

fn lock(planner: &Mutex<Planner>) -> std::sync::MutexGuard<'_, Planner> {
    planner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads ranges until there are none left.
async fn chunk_worker(
    session: &mut Session,
    spec: &'static Spec,
    filter: &ExportFilter,
    planner: &Mutex<Planner>,
    out: &Sender<Piece>,
    permits: &Semaphore,
) -> Result<(), ExportError> {
    let Order::Chunked { key, .. } = spec.order else { return Ok(()) };
    loop {
        // One permit per range read ahead; the decoder returns it when it has taken the rows.
        permits.acquire().await.map_err(|_| ExportError::Aborted("the decoder stopped"))?.forget();
        let Some(mut range) = lock(planner).next_range() else {
            permits.add_permits(1);
            return Ok(());
        };
        let reader = loop {
            let single = range.0 == range.1;
            // One block is never split: it is read whole, sorted.
            let limit = (!single).then_some(MAX_ROWS + 1);
            let sql = spec.copy_sql(filter, Some(range), single, limit);
            let reader = copy_all(session, &sql, spec.selected(), key).await?;
            if reader.total_rows() > MAX_ROWS && !single {
                range = lock(planner).split(range);
                continue;
            }
            if reader.sorted() {
                break reader;
            }
            let sql = spec.copy_sql(filter, Some(range), true, None);
            let reader = copy_all(session, &sql, spec.selected(), key).await?;
            if !reader.sorted() {
                return Err(ExportError::Corrupt { reason: "rows repeat a key".into() });
            }
            break reader;
        };
        lock(planner).observe(range.1 - range.0 + 1, reader.total_rows(), reader.pending_bytes());
        let times = if spec.block_times() && reader.total_rows() > 0 {
            Some(block_times(session, &reader.blocks()).await?)
        } else {
            None
        };
        let mut reader = reader;
        let (data, _) = reader.take_rows();
        let piece = Piece::Rows { start: range.0, end: range.1, data, times, last: true };
        out.send(piece).map_err(|_| ExportError::Aborted("the decoder stopped"))?;
    }
}

/// Runs one `COPY` to the end, keeping every row.
async fn copy_all(
    session: &mut Session,
    sql: &str,
    columns: usize,
    key: &[usize],
) -> Result<CopyReader, ExportError> {
    session.busy = true;
    let stream = session.client()?.copy_out(sql).await.map_err(db("COPY"))?;
    futures::pin_mut!(stream);
    let mut reader = CopyReader::new(columns, key);
    while let Some(data) = stream.next().await {
        reader.push(&data.map_err(db("COPY"))?)?;
    }
    reader.finish()?;
    session.busy = false;
    Ok(reader)
}

/// Streams the one sorted statement of an [`Order::Sql`] dataset in pieces.
async fn stream_all(
    session: &mut Session,
    spec: &'static Spec,
    filter: &ExportFilter,
    out: &Sender<Piece>,
    permits: &Semaphore,
) -> Result<(), ExportError> {
    let sql = spec.copy_sql(filter, None, true, None);
    session.busy = true;
    let stream = session.client()?.copy_out(&sql).await.map_err(db("COPY"))?;
    futures::pin_mut!(stream);
    let mut reader = CopyReader::new(spec.selected(), &[]);
    let send = |reader: &mut CopyReader, last: bool| {
        let (data, _) = reader.take_rows();
        let piece = Piece::Rows { start: 0, end: u64::MAX, data, times: None, last };
        out.send(piece).map_err(|_| ExportError::Aborted("the decoder stopped"))
    };
    while let Some(data) = stream.next().await {
        reader.push(&data.map_err(db("COPY"))?)?;
        if reader.pending_bytes() >= PIECE_BYTES {
            // Waiting here leaves the socket unread: PostgreSQL waits too.
            permits.acquire().await.map_err(|_| ExportError::Aborted("the decoder stopped"))?.forget();
            send(&mut reader, false)?;
        }
    }
    reader.finish()?;
    session.busy = false;
    permits.acquire().await.map_err(|_| ExportError::Aborted("the decoder stopped"))?.forget();
    send(&mut reader, true)
}

/// The timestamps of `blocks` (ascending, distinct).
async fn block_times(session: &Session, blocks: &[i64]) -> Result<BlockTimes, ExportError> {
    let client = session.client()?;
    let (Some(&first), Some(&last)) = (blocks.first(), blocks.last()) else {
        return Ok(BlockTimes::default());
    };
    // A dense set reads the range; a sparse one looks its blocks up.
    let rows = if (blocks.len() as i64) * 4 > last - first {
        client.query(BLOCK_TIMES_RANGE, &[&first, &last]).await.map_err(db("BLOCK_TIMES_RANGE"))?
    } else {
        client.query(BLOCK_TIMES_LIST, &[&blocks]).await.map_err(db("BLOCK_TIMES_LIST"))?
    };
    let times = rows
        .iter()
        .map(|row| {
            let time: Option<DateTime<Utc>> = row.get(1);
            (row.get::<_, i64>(0), time.map(|t| t.timestamp_micros()))
        })
        .collect();
    Ok(BlockTimes::new(times))
}

fn db(step: &'static str) -> impl FnOnce(tokio_postgres::Error) -> ExportError {
    move |source| ExportError::Database { step, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_planner_covers_the_range_once_in_order() {
        let mut p = Planner::new(10, 1000, 7);
        let mut covered = Vec::new();
        let mut split_once = false;
        while let Some(mut r) = p.next_range() {
            if !split_once && r.1 > r.0 + 4 && r.0 > 100 {
                r = p.split(r);
                split_once = true;
            }
            covered.push(r);
            p.observe(r.1 - r.0 + 1, 0, 0);
        }
        assert!(split_once);
        assert_eq!(covered[0].0, 10);
        for w in covered.windows(2) {
            assert_eq!(w[1].0, w[0].1 + 1, "{covered:?}");
        }
        assert_eq!(covered.last().unwrap().1, 1000);
    }

    #[test]
    fn ranges_follow_the_density() {
        let mut p = Planner::new(0, u64::MAX - 1, 100);
        p.observe(100, TARGET_ROWS * 2, 1000);
        assert_eq!(p.width, 50);
        p.observe(50, 1, 10);
        assert_eq!(p.width, 200, "growth is capped at 4x");
        p.observe(200, 0, 0);
        assert_eq!(p.width, 800);
        let mut end = Planner::new(5, 5, 1000);
        assert_eq!(end.next_range(), Some((5, 5)));
        assert_eq!(end.next_range(), None);
    }
}
