//! `taoscope up`: PostgreSQL, the devnet (or `--node`), the indexer, the analytics loop and the API
//! on one machine until Ctrl-C; then every part stops in order and the command exits cleanly.

use std::sync::Arc;

use anyhow::Context;
use taoscope_indexer::Indexer;
use tokio_util::sync::CancellationToken;

use crate::cli::UpArgs;
use crate::database::Origin;
use crate::progress::IndexProgress;

/// Runs the command.
pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    // Fail fast on the cheap checks before building anything.
    let listener = super::bind(args.listen).await?;
    let api_addr = listener.local_addr()?;
    let db = super::open_migrated(args.db.database_url.as_deref()).await?;
    let origin = match db.origin {
        Origin::Given => "given URL",
        Origin::LocalDefault => "local server",
        Origin::Private => "private cluster",
    };
    println!("PostgreSQL: {} ({origin})", redact(&db.url));
    let cancel = crate::shutdown::on_signal();

    let (node_url, devnet) = match &args.node {
        Some(url) => (url.clone(), None),
        None => {
            let config = args.devnet.config(args.devnet_blocks);
            println!(
                "devnet: building {} blocks of history ({} subnets, seed {})…",
                args.devnet_blocks, args.devnet.subnets, args.devnet.seed
            );
            let devnet = tokio::task::spawn_blocking(move || taoscope_devnet::Devnet::new(config)).await??;
            let server = taoscope_devnet::serve(devnet.clone(), args.devnet_listen).await?;
            println!(
                "devnet: {} (a block every {})",
                server.ws_url(),
                humantime::format_duration(args.devnet.block_time)
            );
            (server.ws_url(), Some((devnet, server)))
        }
    };

    super::serve_metrics(&args.indexer.metrics_listen)?;
    let mut indexer = Indexer::connect(args.indexer.config(&node_url, &db.url)).await?;
    println!("indexing {} from {node_url}", indexer.identity().name);
    let state = super::api_state(&db.url, &args.api)?;
    println!("API: http://{api_addr}/graphql (GraphiQL in a browser); Ctrl-C stops everything");

    let tasks = CancellationToken::new();
    let producer = devnet.as_ref().map(|(d, _)| tokio::spawn(Arc::clone(d).run(tasks.clone())));
    let mut api = tokio::spawn(taoscope_api::serve(listener, state, tasks.clone().cancelled_owned()));
    // Analytics follow the indexer: a run whenever it has added blocks (a failed run is retried).
    let analytics = {
        let (url, stop) = (db.url.clone(), tasks.clone().cancelled_owned());
        tokio::spawn(async move {
            let opts = taoscope_analytics::AnalyticsOptions::default();
            taoscope_analytics::follow(&url, &opts, std::time::Duration::from_secs(10), stop, |r, took| {
                tracing::info!(
                    to_block = r.to_block,
                    candles = r.candles,
                    epochs_audited = r.epochs_audited,
                    seconds = took.as_secs_f64(),
                    "analytics run"
                );
            })
            .await
        })
    };
    let mut indexing = {
        let stop = tasks.clone();
        tokio::spawn(async move {
            let mut progress = IndexProgress::new();
            indexer.run(stop, |p| progress.update(p)).await
        })
    };

    // Run until a signal, or until a part stops on its own (which is a failure).
    let (indexed, served) = tokio::select! {
        _ = cancel.cancelled() => {
            tasks.cancel();
            (indexing.await, api.await)
        }
        r = &mut indexing => {
            tasks.cancel();
            (r, api.await)
        }
        r = &mut api => {
            tasks.cancel();
            (indexing.await, r)
        }
    };
    if let Some(p) = producer {
        p.await.context("devnet task")?;
    }
    analytics.await.context("analytics task")?;
    if let Some((_, server)) = devnet {
        server.stop().await;
    }
    db.close().await;
    indexed.context("indexer task")?.context("indexer")?;
    served.context("API task")?.context("API")?;
    if !cancel.is_cancelled() {
        anyhow::bail!("a part of taoscope stopped unexpectedly");
    }
    println!("taoscope stopped cleanly");
    Ok(())
}

/// The URL without a password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/taoscope"),
            "postgres://postgres@127.0.0.1/taoscope"
        );
        assert_eq!(
            redact("host=/var/run/postgresql dbname=taoscope"),
            "host=/var/run/postgresql dbname=taoscope"
        );
    }
}
