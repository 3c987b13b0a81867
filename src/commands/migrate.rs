//! `taoscope migrate`: bring the schema up to date and exit.

use crate::cli::DatabaseArgs;

/// Runs the command.
pub async fn run(args: DatabaseArgs) -> anyhow::Result<()> {
    let db = super::open_migrated(args.database_url.as_deref()).await?;
    println!("database is up to date (schema version {})", taoscope_schema::MIGRATIONS.len());
    db.close().await;
    Ok(())
}
