//! The two threads behind the readers: the decoder puts pieces back in block order and turns
//! rows into data frames of up to [`BATCH_ROWS`] rows; the writer encodes each as a zstd Parquet
//! row group into the sink.
//!
//! Both are plain threads, off the async runtime (Polars must not run on a current-thread
//! runtime, and this is CPU work). Channels between them are bounded; a stage that goes away
//! ends the others: a reader's send fails, the decoder's receive ends without [`Piece::End`],
//! the writer's without [`Frame::End`], and an unfinished file is never given its footer.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

use polars::prelude::{DataFrame, ParquetCompression, ParquetWriter};
use tokio::sync::Semaphore;

use super::ExportError;
use super::dataset::Dataset;
use super::decode::{Decoder, schema};
use super::fetch::Piece;

/// Rows per row group.
pub(crate) const BATCH_ROWS: usize = 131_072;
/// COPY bytes per row group at most (wide rows).
const BATCH_BYTES: usize = 64 << 20;

/// What the decoder hands the writer.
pub(crate) enum Frame {
    /// The next row group.
    Rows(DataFrame),
    /// Every row has been handed over: write the footer.
    End,
    /// The decoder failed.
    Failed(ExportError),
}

/// Progress shared with the async side.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Rows written.
    pub rows: AtomicU64,
    /// Bytes written.
    pub bytes: AtomicU64,
}

/// The decoder thread's loop: pieces in, data frames out, in block order.
pub(crate) fn decode(
    dataset: Dataset,
    first_block: u64,
    pieces: Receiver<Piece>,
    frames: SyncSender<Frame>,
    permits: Arc<Semaphore>,
) {
    let result = decode_all(dataset, first_block, &pieces, &frames, &permits);
    match result {
        Ok(true) => {
            let _ = frames.send(Frame::End);
        }
        // A reader went away: end without the footer.
        Ok(false) => {}
        Err(e) => {
            let _ = frames.send(Frame::Failed(e));
        }
    }
}

/// `Ok(true)` when every piece arrived; `Ok(false)` when the readers stopped early.
fn decode_all(
    dataset: Dataset,
    first_block: u64,
    pieces: &Receiver<Piece>,
    frames: &SyncSender<Frame>,
    permits: &Semaphore,
) -> Result<bool, ExportError> {
    // Builders sized for a whole row group: no regrowing (copying) them as rows arrive.
    let mut decoder = Decoder::new(dataset.spec(), BATCH_ROWS);
    let mut waiting: BTreeMap<u64, Piece> = BTreeMap::new();
    let mut next = first_block;
    loop {
        let Ok(piece) = pieces.recv() else { return Ok(false) };
        match piece {
            Piece::End => break,
            Piece::Rows { start, .. } if start != next => {
                waiting.insert(start, piece);
            }
            piece => {
                let mut piece = Some(piece);
                while let Some(Piece::Rows { end, data, times, last, .. }) = piece.take() {
                    decoder.push(&data, times.as_ref())?;
                    drop(data);
                    permits.add_permits(1);
                    if last {
                        next = end.saturating_add(1);
                    }
                    if decoder.rows() >= BATCH_ROWS || decoder.bytes() >= BATCH_BYTES {
                        let frame = decoder.finish()?;
                        if frames.send(Frame::Rows(frame)).is_err() {
                            return Ok(false);
                        }
                    }
                    piece = waiting.remove(&next);
                }
            }
        }
    }
    if !waiting.is_empty() {
        return Err(ExportError::Aborted("a block range was never read"));
    }
    if decoder.rows() > 0 {
        let frame = decoder.finish()?;
        if frames.send(Frame::Rows(frame)).is_err() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The writer thread's loop: data frames into a Parquet file on `sink`; the bytes written.
pub(crate) fn write<W: Write>(
    dataset: Dataset,
    frames: Receiver<Frame>,
    sink: W,
    counters: &Counters,
) -> Result<u64, ExportError> {
    // Buffered: the Parquet writer makes many small writes (page headers).
    let mut sink = BufWriter::with_capacity(1 << 20, Counting { inner: sink, dataset, counters });
    let mut writer = ParquetWriter::new(&mut sink)
        .with_compression(ParquetCompression::Zstd(None))
        .batched(&schema(dataset.spec()))
        .map_err(ExportError::Parquet)?;
    loop {
        match frames.recv() {
            Ok(Frame::Rows(frame)) => {
                writer.write_batch(&frame).map_err(ExportError::Parquet)?;
                let rows = frame.height() as u64;
                counters.rows.fetch_add(rows, Ordering::Relaxed);
                metrics::counter!("taoscope_api_export_rows_total", "dataset" => dataset.name())
                    .increment(rows);
            }
            Ok(Frame::End) => break,
            Ok(Frame::Failed(e)) => return Err(e),
            Err(_) => return Err(ExportError::Aborted("the decoder stopped")),
        }
    }
    writer.finish().map_err(ExportError::Parquet)?;
    drop(writer);
    sink.flush().map_err(ExportError::Write)?;
    Ok(counters.bytes.load(Ordering::Relaxed))
}

/// Counts what goes through to the sink (progress and the bytes metric).
struct Counting<'a, W> {
    inner: W,
    dataset: Dataset,
    counters: &'a Counters,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
        metrics::counter!("taoscope_api_export_bytes_total", "dataset" => self.dataset.name())
            .increment(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
