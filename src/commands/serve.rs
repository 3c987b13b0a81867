//! `taoscope serve`: the GraphQL API over an indexed database.

use crate::cli::ServeArgs;

/// Runs the command.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let listener = super::bind(args.listen).await?;
    let db = super::open_migrated(args.db.database_url.as_deref()).await?;
    let cancel = crate::shutdown::on_signal();
    let state = super::api_state(&db.url, &args.api)?;
    println!("API: http://{}/graphql", listener.local_addr()?);
    taoscope_api::serve(listener, state, cancel.cancelled_owned()).await?;
    db.close().await;
    Ok(())
}
