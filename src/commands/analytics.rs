//! `taoscope analytics`: incremental analytics runs over the indexed database.

use anyhow::Context as _;
use taoscope_analytics::{AnalyticsOptions, RunReport};

use crate::cli::AnalyticsArgs;

fn print(report: &RunReport, took: std::time::Duration) {
    let mut json = serde_json::to_value(report).unwrap_or_default();
    json["seconds"] = serde_json::json!((took.as_secs_f64() * 1000.0).round() / 1000.0);
    println!("{json}");
}

/// Runs the command: once, or with `--follow` until Ctrl-C.
pub async fn run(args: AnalyticsArgs) -> anyhow::Result<()> {
    let db = super::open_migrated(args.db.database_url.as_deref()).await?;
    let opts = AnalyticsOptions {
        up_to: args.up_to,
        tolerance: args.tolerance,
        stability_window: args.stability_window,
        max_days: args.max_days,
        ..AnalyticsOptions::default()
    };
    if args.follow {
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        taoscope_analytics::follow(&db.url, &opts, args.interval, stop, print).await;
    } else {
        let (mut client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .context("connecting to the database")?;
        tokio::spawn(conn);
        // Run after run (each covers a few days) until up to date.
        let mut ran = false;
        loop {
            let started = std::time::Instant::now();
            match taoscope_analytics::run(&mut client, &opts).await? {
                Some(report) => print(&report, started.elapsed()),
                None => break,
            }
            ran = true;
        }
        if !ran {
            println!("{{\"up_to_date\": true}}");
        }
    }
    db.close().await;
    Ok(())
}
