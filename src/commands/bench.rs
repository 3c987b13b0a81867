//! `taoscope bench index`: indexing throughput on a prebuilt devnet, with the two limits
//! measured in the same run: the node side alone (the same RPC calls, no decode or write) and
//! the database side alone (the same rows `COPY`ed, no RPC). The devnet runs as a child
//! process, so `peak_rss_mb` is the indexer's own.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use futures::{SinkExt, TryStreamExt};
use serde_json::json;
use taoscope_indexer::{Indexer, IndexerConfig};
use taoscope_schema::tables::BLOCK_TABLES;
use tokio_postgres::NoTls;

use crate::cli::{BenchCmd, BenchIndexArgs};

mod analytics;
mod api;
mod audit;

/// Runs the command.
pub async fn run(args: BenchCmd) -> anyhow::Result<()> {
    match args {
        BenchCmd::Index(args) => index(args).await,
        BenchCmd::Analytics(args) => analytics::run(args).await,
        BenchCmd::Api(args) => api::run(args).await,
        BenchCmd::Audit(args) => audit::run(args),
    }
}

/// Peak resident memory of a process (`VmHWM`), in MB.
pub(crate) fn peak_rss_mb(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 =
        status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

struct DevnetChild {
    child: Child,
    url: String,
}

impl Drop for DevnetChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_devnet(args: &BenchIndexArgs, finality_lag: u32) -> anyhow::Result<DevnetChild> {
    let exe = std::env::current_exe().context("locating the taoscope binary")?;
    let prebuilt = args.blocks + finality_lag;
    let mut child = Command::new(exe)
        .args(["--log", "warn", "devnet", "--listen", "127.0.0.1:0", "--block-time", "1h"])
        .args(["--prebuilt", &prebuilt.to_string(), "--subnets", &args.subnets.to_string()])
        .args(["--seed", &args.seed.to_string(), "--finality-lag", &finality_lag.to_string()])
        .args(["--upgrade-at", &(args.blocks / 2).max(1).to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the devnet")?;
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix("devnet: ") {
                    break rest.split_whitespace().next().unwrap_or_default().to_string();
                }
            }
            _ => anyhow::bail!("the devnet exited before serving"),
        }
    };
    Ok(DevnetChild { child, url })
}

/// `base` with its database name replaced by `name`.
pub(crate) fn with_database(base: &str, name: &str) -> anyhow::Result<String> {
    let mut cfg: tokio_postgres::Config = base.parse().context("--database-url")?;
    cfg.dbname(name);
    let user = cfg.get_user().unwrap_or("postgres").to_string();
    let host = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    Ok(format!("postgres://{user}@{host}:{port}/{name}"))
}

pub(crate) async fn admin(base: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, conn) =
        tokio_postgres::connect(base, NoTls).await.with_context(|| format!("connecting to {base}"))?;
    tokio::spawn(conn);
    Ok(client)
}

async fn rows_in(url: &str) -> anyhow::Result<u64> {
    let client = admin(url).await?;
    let mut total = 0u64;
    for (t, _) in BLOCK_TABLES {
        let n: i64 = client.query_one(&format!("SELECT count(*) FROM {t}"), &[]).await?.get(0);
        total += n as u64;
    }
    Ok(total)
}

/// Rows per second PostgreSQL ingests with binary `COPY` into the same (migrated, empty,
/// indexed) tables, the rows being those the indexer wrote: each table is first read from
/// `from` into memory, then only its `COPY … FROM STDIN` into `to` is timed.
async fn copy_limit(from: &str, to: &str, last_block: u64) -> anyhow::Result<f64> {
    let source = admin(from).await?;
    let mut target = admin(to).await?;
    taoscope_schema::migrate(&mut target).await?;
    target.execute("SELECT taoscope_ensure_partitions(0, $1)", &[&(last_block as i64)]).await?;
    let mut timed = std::time::Duration::ZERO;
    let mut rows = 0u64;
    // Runtimes first: blocks reference them.
    for t in std::iter::once(&"runtime_versions").chain(BLOCK_TABLES.iter().map(|(t, _)| t)) {
        let out = source.copy_out(&format!("COPY (SELECT * FROM {t}) TO STDOUT (FORMAT binary)")).await?;
        let chunks: Vec<bytes::Bytes> = out.try_collect().await?;
        let started = Instant::now();
        let sink = target.copy_in(&format!("COPY {t} FROM STDIN (FORMAT binary)")).await?;
        futures::pin_mut!(sink);
        for chunk in chunks {
            sink.feed(chunk).await?;
        }
        let copied = sink.as_mut().finish().await?;
        let took = started.elapsed();
        tracing::info!(table = t, rows = copied, seconds = took.as_secs_f64(), "copy limit");
        rows += copied;
        timed += took;
    }
    Ok(rows as f64 / timed.as_secs_f64().max(1e-9))
}

async fn index(args: BenchIndexArgs) -> anyhow::Result<()> {
    let finality_lag = 2;
    let started = Instant::now();
    eprintln!("bench: building a devnet of {} blocks with {} subnets…", args.blocks, args.subnets);
    let devnet = start_devnet(&args, finality_lag)?;
    let devnet_build_s = started.elapsed().as_secs_f64();
    let last = u64::from(args.blocks) - 1;

    let tag = format!("{}_{}", std::process::id(), unix_seconds());
    let (db_rpc, db_index, db_copy) = (
        format!("taoscope_bench_{tag}_rpc"),
        format!("taoscope_bench_{tag}"),
        format!("taoscope_bench_{tag}_copy"),
    );
    let admin_client = admin(&args.database_url).await?;
    for name in [&db_rpc, &db_index, &db_copy] {
        admin_client.batch_execute(&format!("CREATE DATABASE {name}")).await?;
    }
    let config = |db: &str| -> anyhow::Result<IndexerConfig> {
        Ok(IndexerConfig {
            batch_size: args.batch_size.max(1),
            concurrency: args.concurrency.max(1),
            to: Some(last),
            ..IndexerConfig::new(&devnet.url, with_database(&args.database_url, db)?)
        })
    };

    let result = async {
        eprintln!("bench: RPC limit (fetch blocks and state, no decode, no write)…");
        let mut rpc = Indexer::connect(config(&db_rpc)?).await?;
        let t = Instant::now();
        let fetched = rpc.fetch_only(0, last).await?;
        let rpc_limit = fetched as f64 / t.elapsed().as_secs_f64();
        drop(rpc);

        eprintln!("bench: indexing {} blocks…", last + 1);
        let mut indexer = Indexer::connect(config(&db_index)?).await?;
        let t = Instant::now();
        let progress = indexer.catch_up(&mut |_| {}).await?;
        let index_s = t.elapsed().as_secs_f64();
        let stages = indexer.stage_times();
        drop(indexer);
        let peak_rss = peak_rss_mb("self").unwrap_or(0.0);
        let rows = rows_in(&with_database(&args.database_url, &db_index)?).await?;

        eprintln!("bench: COPY limit (the same rows, no RPC)…");
        let copy = copy_limit(
            &with_database(&args.database_url, &db_index)?,
            &with_database(&args.database_url, &db_copy)?,
            last,
        )
        .await?;
        let blocks = progress.indexed + 1;
        Ok::<_, anyhow::Error>(json!({
            "bench": "index",
            "blocks": blocks,
            "subnets": args.subnets,
            "rows": rows,
            "seconds": (index_s * 100.0).round() / 100.0,
            "blocks_per_s": (blocks as f64 / index_s).round(),
            "rows_per_s": (rows as f64 / index_s).round(),
            "peak_rss_mb": peak_rss.round(),
            "rpc_limit_blocks_per_s": rpc_limit.round(),
            "copy_limit_rows_per_s": copy.round(),
            "stage_s": {
                "fetch": (stages.fetch * 100.0).round() / 100.0,
                "process": (stages.process * 100.0).round() / 100.0,
                "write": (stages.write * 100.0).round() / 100.0,
            },
            "devnet_build_s": (devnet_build_s * 10.0).round() / 10.0,
            "devnet_peak_rss_mb": peak_rss_mb(&devnet.child.id().to_string()).unwrap_or(0.0).round(),
        }))
    }
    .await;

    if !args.keep {
        for name in [&db_rpc, &db_index, &db_copy] {
            let _ = admin_client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
    let figures = result?;
    println!("{figures}");
    Ok(())
}

/// Seconds since the epoch, for unique database names.
pub(crate) fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
