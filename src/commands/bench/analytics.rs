//! `taoscope bench analytics`: Polars over a Parquet snapshot against SQL over the same rows in
//! PostgreSQL (see `taoscope_analytics::bench`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use futures::SinkExt;
use serde_json::json;
use taoscope_analytics::bench;

use super::{admin, peak_rss_mb, unix_seconds, with_database};
use crate::cli::BenchAnalyticsArgs;

const POOL: &str = "pool.parquet";
const TRADES: &str = "trades.parquet";

/// Runs the benchmark (or, with the hidden `--polars-only`, its Polars side).
pub async fn run(args: BenchAnalyticsArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.polars_only {
        let dir = dir.clone();
        let (seconds, rows) = tokio::task::spawn_blocking(move || -> anyhow::Result<(f64, usize)> {
            let started = Instant::now();
            let rows = bench::polars_aggregates(&dir.join(POOL), &dir.join(TRADES))?;
            Ok((started.elapsed().as_secs_f64(), rows))
        })
        .await??;
        println!("{}", json!({"polars_s": seconds, "result_rows": rows, "peak_rss_mb": peak_rss_mb("self")}));
        return Ok(());
    }

    let tag = format!("{}_{}", std::process::id(), unix_seconds());
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("taoscope_bench_analytics_{tag}")),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let db = format!("taoscope_bench_analytics_{tag}");
    let admin_client = admin(&args.database_url).await?;
    admin_client.batch_execute(&format!("CREATE DATABASE {db}")).await?;
    let result = measure(&args, &dir, &db).await;
    if !args.keep {
        let _ = admin_client.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
        let _ = std::fs::remove_dir_all(&dir);
    }
    let figures = result?;
    println!("{figures}");
    Ok(())
}

async fn measure(args: &BenchAnalyticsArgs, dir: &Path, db: &str) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    eprintln!("bench: generating {} days of 5-minute history for {} subnets…", args.days, args.subnets);
    let (subnets, days) = (args.subnets.max(1), args.days.max(1));
    let (mut pool, mut trades) = tokio::task::spawn_blocking(move || bench::history(subnets, days)).await??;
    let rows = pool.height();
    let end_ms = pool.column("ts")?.i64()?.iter().flatten().max().unwrap_or(0) + 300_000;
    bench::write_parquet(&mut pool, &dir.join(POOL))?;
    bench::write_parquet(&mut trades, &dir.join(TRADES))?;
    let parquet_mb =
        (std::fs::metadata(dir.join(POOL))?.len() + std::fs::metadata(dir.join(TRADES))?.len()) as f64 / 1e6;
    eprintln!("bench: {rows} pool rows and {} trades; loading PostgreSQL…", trades.height());
    let client = admin(&with_database(&args.database_url, db)?).await?;
    client.batch_execute(bench::CREATE_TABLES).await?;
    for (table, df) in [("bench_pool", &pool), ("bench_trades", &trades)] {
        let text = bench::copy_text(df)?;
        let sink = client.copy_in(&format!("COPY {table} FROM STDIN")).await?;
        futures::pin_mut!(sink);
        for chunk in text.chunks(1 << 20) {
            sink.feed(bytes::Bytes::copy_from_slice(chunk)).await?;
        }
        sink.as_mut().finish().await?;
    }
    drop((pool, trades));
    for table in ["bench_pool", "bench_trades"] {
        client.batch_execute(&format!("VACUUM ANALYZE {table}")).await?;
    }
    let setup_s = started.elapsed().as_secs_f64();

    eprintln!("bench: Polars over the Parquet snapshot…");
    let exe = std::env::current_exe().context("locating the taoscope binary")?;
    let out = Command::new(exe)
        .args(["--log", "warn", "bench", "analytics", "--polars-only"])
        .arg(dir)
        .stderr(Stdio::inherit())
        .output()
        .context("running the Polars side")?;
    anyhow::ensure!(out.status.success(), "the Polars side failed");
    let polars: serde_json::Value = serde_json::from_slice(
        out.stdout.split(|b| *b == b'\n').rfind(|l| !l.is_empty()).unwrap_or_default(),
    )
    .context("reading the Polars side's figures")?;

    eprintln!("bench: the same aggregates in SQL…");
    client.batch_execute("SET work_mem = '256MB'").await?;
    let sql_started = Instant::now();
    for statement in bench::sql_aggregates(end_ms) {
        client.batch_execute(&statement).await?;
    }
    let postgres_s = sql_started.elapsed().as_secs_f64();
    let polars_s = polars["polars_s"].as_f64().unwrap_or(f64::NAN);
    Ok(json!({
        "subnets": args.subnets,
        "days": args.days,
        "setup_s": (setup_s * 10.0).round() / 10.0,
        "parquet_mb": parquet_mb.round(),
        "result_rows": polars["result_rows"],
        "speedup": (postgres_s / polars_s * 10.0).round() / 10.0,
        "polars_s": (polars_s * 1000.0).round() / 1000.0,
        "postgres_s": (postgres_s * 1000.0).round() / 1000.0,
        "rows": rows,
        "peak_rss_mb": polars["peak_rss_mb"].as_f64().map(f64::round),
    }))
}
