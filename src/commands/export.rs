//! `taoscope export DATASET --out FILE`: one dataset as a zstd Parquet file (the same as
//! `GET /exports/{dataset}.parquet`), with a progress bar on a terminal and a one-line JSON
//! summary on stdout. The file is written beside its destination under a temporary name and
//! renamed into place on success, so a failed export leaves no partial file.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use taoscope_api::export::{Dataset, ExportFilter, ExportProgress, export_to_writer};

use crate::cli::ExportArgs;

/// Runs the command.
pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let dataset: Dataset = args.dataset.parse()?;
    let filter = ExportFilter {
        netuid: args.netuid,
        from_block: args.from_block,
        to_block: args.to_block,
        interval: args.interval.as_deref().map(str::parse).transpose()?,
    };
    filter.check(dataset)?;
    let db = super::open_migrated(args.db.database_url.as_deref()).await?;
    let pool = taoscope_api::pool(&db.url, 2)?;

    let temp = temporary_path(&args.out);
    let file = std::fs::File::create(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
    let guard = RemoveOnDrop(Some(temp.clone()));
    let sink = SyncOnFinish(BufWriter::with_capacity(1 << 20, file));

    let bar = crate::progress::interactive().then(|| {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} exported {human_pos} rows ({per_sec}) {msg}")
                .expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let progress = bar.clone();
    let on_progress = move |p: ExportProgress| {
        if let Some(bar) = &progress {
            bar.set_position(p.rows);
            bar.set_message(format!("{} written", HumanBytes(p.bytes)));
        }
    };
    let result = export_to_writer(&pool, dataset, &filter, sink, on_progress).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let stats = result.map_err(|e| export_error(dataset, e))?;
    std::fs::rename(&temp, &args.out)
        .with_context(|| format!("cannot move {} to {}", temp.display(), args.out.display()))?;
    guard.disarm();

    let rate = stats.rows_per_second();
    let summary = json!({
        "dataset": dataset.name(),
        "file": args.out.display().to_string(),
        "rows": stats.rows,
        "bytes": stats.bytes,
        "seconds": (stats.seconds * 1000.0).round() / 1000.0,
        "rows_per_s": rate.round(),
        "peak_rss_mb": crate::commands::bench::peak_rss_mb("self").map(|mb| mb.round()),
    });
    println!("{summary}");
    Ok(())
}

/// The library error as an `anyhow` error that keeps its causes (for the one-line message).
fn export_error(dataset: Dataset, e: taoscope_api::export::ExportError) -> anyhow::Error {
    let unavailable = e.is_unavailable();
    let e = anyhow::Error::new(e).context(format!("exporting {dataset}"));
    if unavailable { e.context("the database is not answering") } else { e }
}

/// `DIR/.NAME.PID.tmp` for `DIR/NAME`: same directory, so the rename is atomic.
fn temporary_path(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into());
    out.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Removes the temporary file unless the export succeeded.
struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A buffered file whose flush at the end also reaches the disk.
struct SyncOnFinish(BufWriter<std::fs::File>);

impl Write for SyncOnFinish {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()?;
        self.0.get_ref().sync_all()
    }
}
