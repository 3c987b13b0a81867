//! `taoscope analytics`: incremental analytics runs over the indexed database.

use anyhow::Context as _;
use taoscope_analytics::AnalyticsOptions;

use crate::cli::AnalyticsArgs;

/// Runs the command: once, or with `--follow` until Ctrl-C.
pub async fn run(args: AnalyticsArgs) -> anyhow::Result<()> {
    let db = super::open_migrated(args.db.database_url.as_deref()).await?;
    let (mut client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .context("connecting to the database")?;
    tokio::spawn(conn);
    let opts = AnalyticsOptions {
        up_to: args.up_to,
        tolerance: args.tolerance,
        stability_window: args.stability_window,
        ..AnalyticsOptions::default()
    };
    loop {
        let started = std::time::Instant::now();
        match taoscope_analytics::run(&mut client, &opts).await? {
            Some(report) => {
                let mut json = serde_json::to_value(&report)?;
                json["seconds"] =
                    serde_json::json!((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
                println!("{json}");
            }
            None if !args.follow => println!("{{\"up_to_date\": true}}"),
            None => {}
        }
        if !args.follow {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(args.interval) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    db.close().await;
    Ok(())
}
