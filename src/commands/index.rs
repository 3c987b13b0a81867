//! `taoscope index`: follow a node's finalized blocks into PostgreSQL until stopped.

use taoscope_indexer::{Indexer, IndexerConfig};

use crate::cli::IndexArgs;
use crate::progress::IndexProgress;

/// Runs the command.
pub async fn run(args: IndexArgs) -> anyhow::Result<()> {
    let db = super::open_migrated(args.db.database_url.as_deref()).await?;
    let cancel = crate::shutdown::on_signal();
    let config = IndexerConfig {
        batch_size: args.batch_size.max(1),
        concurrency: args.concurrency.max(1),
        ..IndexerConfig::new(&args.node, &db.url)
    };
    let mut indexer = Indexer::connect(config).await?;
    let id = indexer.identity();
    println!("indexing {} (genesis 0x{}) from {}", id.name, hex::encode(id.genesis_hash), args.node);
    let mut progress = IndexProgress::new();
    let result = indexer.run(cancel, |p| progress.update(p)).await;
    drop(progress);
    db.close().await;
    Ok(result?)
}
