//! `taoscope index`: follow a node's finalized blocks into PostgreSQL until stopped.

use taoscope_indexer::Indexer;

use crate::cli::IndexArgs;
use crate::progress::IndexProgress;

/// Runs the command.
pub async fn run(args: IndexArgs) -> anyhow::Result<()> {
    let db = super::open_migrated(args.db.database_url.as_deref()).await?;
    let cancel = crate::shutdown::on_signal();
    super::serve_metrics(&args.indexer.metrics_listen)?;
    let mut indexer = Indexer::connect(args.indexer.config(&args.node, &db.url)).await?;
    let id = indexer.identity();
    println!("indexing {} (genesis 0x{}) from {}", id.name, hex::encode(id.genesis_hash), args.node);
    let mut progress = IndexProgress::new();
    let started = std::time::Instant::now();
    let result = indexer.run(cancel, |p| progress.update(p)).await;
    drop(progress);
    let t = indexer.stage_times();
    tracing::info!(
        seconds = format!("{:.2}", started.elapsed().as_secs_f64()),
        fetch = format!("{:.2}", t.fetch),
        process = format!("{:.2}", t.process),
        write = format!("{:.2}", t.write),
        "indexer stopped; time per stage (the write overlaps the next batch)"
    );
    db.close().await;
    Ok(result?)
}
