//! What the user sees while indexing: a progress bar with rate and ETA on a terminal, log lines
//! otherwise; and a log writer that keeps the two from overwriting each other.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use taoscope_indexer::Progress;

static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// The terminal's progress bars (hidden when stderr is not a terminal).
fn bars() -> &'static MultiProgress {
    BARS.get_or_init(|| {
        if std::io::stderr().is_terminal() {
            MultiProgress::new()
        } else {
            MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
        }
    })
}

/// Whether progress is drawn as a bar.
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
}

/// A log writer that pauses the bars while a line is written.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        bars().suspend(|| std::io::stderr().write_all(buf))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Indexing progress, as a bar or as periodic log lines.
pub struct IndexProgress {
    bar: Option<ProgressBar>,
    last_log: Option<(Instant, u64)>,
}

impl IndexProgress {
    /// Starts showing progress.
    pub fn new() -> IndexProgress {
        let bar = interactive().then(|| {
            let bar = bars().add(ProgressBar::new(0));
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} indexed {pos}/{len} blocks [{bar:30}] {per_sec:>12} ETA {eta:>4} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        IndexProgress { bar, last_log: None }
    }

    /// Reports a new position.
    pub fn update(&mut self, p: Progress) {
        if let Some(bar) = &self.bar {
            bar.set_length(p.finalized);
            bar.set_position(p.indexed);
            bar.set_message(if p.indexed >= p.finalized {
                "following the finalized head"
            } else {
                "catching up"
            });
            return;
        }
        // Without a terminal: a line at most every 10 s, or every 1000 blocks while catching up.
        let due = match self.last_log {
            None => true,
            Some((at, n)) => at.elapsed() >= Duration::from_secs(10) || p.indexed >= n + 1000,
        };
        if due {
            tracing::info!(
                indexed = p.indexed,
                finalized = p.finalized,
                blocks_per_sec = format!("{:.1}", p.rate),
                "indexing"
            );
            self.last_log = Some((Instant::now(), p.indexed));
        }
    }
}

impl Drop for IndexProgress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
