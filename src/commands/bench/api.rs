//! `taoscope bench api`: the API under load. Seeds a database with synthetic pool history and
//! hourly candles, serves the API in this process, and drives it from a second process (this
//! binary with the hidden `--load`) over keep-alive HTTP/1.1 connections, so the load
//! generator's CPU is not the server's; then exports the whole `pool_state` as Parquet with
//! `taoscope export` in a child process, whose peak RSS is the export's own.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{admin, unix_seconds, with_database};
use crate::cli::BenchApiArgs;

/// The `subnets` query the benchmark drives.
const SUBNETS_QUERY: &str = "{ subnets { netuid name symbol price movingPrice taoIn alphaIn alphaOut \
                             marketCap emissionShare tempo owner } }";
/// An owner hotkey for the seeded epochs.
const OWNER: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

/// Runs the benchmark, or the load generator when `--load` is given.
pub async fn run(args: BenchApiArgs) -> anyhow::Result<()> {
    if let Some(addr) = args.load {
        let figures = load(addr, &args.kind, args.connections, Duration::from_secs(args.seconds)).await?;
        println!("{figures}");
        return Ok(());
    }
    let admin_client = admin(&args.database_url).await?;
    let (db, created) = match &args.reuse {
        Some(name) => (name.clone(), false),
        None => {
            let name = format!("taoscope_bench_api_{}_{}", std::process::id(), unix_seconds());
            admin_client.batch_execute(&format!("CREATE DATABASE {name}")).await?;
            (name, true)
        }
    };
    let result = measure(&args, &db, created).await;
    if created && !args.keep {
        let _ = admin_client.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
    } else {
        eprintln!("bench: database {db} kept");
    }
    println!("{}", result?);
    Ok(())
}

async fn measure(args: &BenchApiArgs, db: &str, seed_it: bool) -> anyhow::Result<Value> {
    let url = with_database(&args.database_url, db)?;
    let seed_s = if seed_it {
        let started = Instant::now();
        seed(&url, args.subnets.max(1), args.blocks.max(1)).await?;
        started.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let pool_rows: i64 = admin(&url).await?.query_one("SELECT count(*) FROM pool_state", &[]).await?.get(0);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = taoscope_api::ApiState::connect(&url, 16, taoscope_api::ApiConfig::default())?;
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(taoscope_api::serve(listener, state, stop.clone().cancelled_owned()));

    let mut figures = json!({
        "subnets": args.subnets,
        "blocks": args.blocks,
        "connections": args.connections,
        "seed_s": (seed_s * 10.0).round() / 10.0,
    });
    for kind in ["healthz", "subnets", "subnets_uncached", "candles"] {
        eprintln!("bench: {kind} × {} connections for {} s…", args.connections, args.seconds);
        let out = load_child(addr, kind, args)?;
        figures[format!("{kind}_rps")] = out["rps"].clone();
        figures[format!("{kind}_p50_ms")] = out["p50_ms"].clone();
        figures[format!("{kind}_p99_ms")] = out["p99_ms"].clone();
        figures[format!("{kind}_errors")] = out["errors"].clone();
        if kind == "candles" {
            figures["candles_rows_per_response"] = out["rows_per_response"].clone();
        }
    }
    stop.cancel();
    server.await??;
    let ratio =
        figures["subnets_rps"].as_f64().unwrap_or(0.0) / figures["healthz_rps"].as_f64().unwrap_or(1.0);
    figures["subnets_vs_healthz"] = json!((ratio * 1000.0).round() / 1000.0);

    eprintln!("bench: exporting {pool_rows} pool_state rows as Parquet…");
    let file = std::env::temp_dir().join(format!("taoscope_bench_export_{}.parquet", std::process::id()));
    let exe = std::env::current_exe().context("locating the taoscope binary")?;
    let out = Command::new(exe)
        .args(["--log", "warn", "export", "pool_state", "--database-url", &url, "--out"])
        .arg(&file)
        .stderr(Stdio::inherit())
        .output()
        .context("running taoscope export")?;
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&file);
    anyhow::ensure!(out.status.success(), "taoscope export failed");
    let summary = last_json(&out.stdout).context("reading the export's summary")?;
    let rows = summary["rows"].as_f64().unwrap_or(0.0);
    let seconds = summary["seconds"].as_f64().unwrap_or(f64::NAN);
    figures["export_rows"] = summary["rows"].clone();
    figures["export_mb"] = json!((size as f64 / 1e6).round());
    figures["export_s"] = json!((seconds * 100.0).round() / 100.0);
    figures["export_rows_per_s"] = json!((rows / seconds).round());
    figures["export_peak_rss_mb"] = summary["peak_rss_mb"].clone();
    Ok(figures)
}

fn last_json(stdout: &[u8]) -> Option<Value> {
    let line = stdout.split(|b| *b == b'\n').rfind(|l| !l.is_empty())?;
    serde_json::from_slice(line).ok()
}

fn load_child(addr: SocketAddr, kind: &str, args: &BenchApiArgs) -> anyhow::Result<Value> {
    let exe = std::env::current_exe().context("locating the taoscope binary")?;
    let out = Command::new(exe)
        .args(["--log", "warn", "bench", "api", "--kind", kind])
        .args(["--load", &addr.to_string(), "--connections", &args.connections.to_string()])
        .args(["--seconds", &args.seconds.to_string(), "--subnets", &args.subnets.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .context("running the load generator")?;
    anyhow::ensure!(out.status.success(), "the load generator failed");
    last_json(&out.stdout).context("reading the load generator's figures")
}

/// Fills a migrated database: `blocks` 12 s apart, every subnet's pool at every block (a
/// smooth deterministic price path, stored block by block as the indexer writes it), one epoch
/// per subnet, and hourly and daily candles.
async fn seed(url: &str, subnets: u16, blocks: u32) -> anyhow::Result<()> {
    let mut client = admin(url).await?;
    taoscope_schema::migrate(&mut client).await?;
    let (subnets, blocks) = (i32::from(subnets), i64::from(blocks));
    eprintln!("bench: seeding {blocks} blocks × {subnets} subnets…");
    client.batch_execute("SET synchronous_commit = off; SET maintenance_work_mem = '512MB'").await?;
    client.execute("SELECT taoscope_ensure_partitions(0, $1)", &[&blocks]).await?;
    client
        .batch_execute(
            "INSERT INTO chain (genesis_hash, chain_name, ss58_format, token_decimals, token_symbol)
                 VALUES (sha256('bench'), 'Taoscope bench', 42, 9, 'TAO');
             INSERT INTO runtime_versions (spec_version, spec_name, impl_version, transaction_version,
                                           metadata_version, metadata, first_block)
                 VALUES (343, 'node-subtensor', 1, 1, 15, '\\x00', 0);",
        )
        .await?;
    client
        .execute(
            "INSERT INTO blocks (number, hash, parent_hash, state_root, extrinsics_root, timestamp, spec_version,
                                 event_count, extrinsic_count)
             SELECT n, sha256(int8send(n)), sha256(int8send(n - 1)), '\\x00', '\\x00',
                    CASE WHEN n > 0 THEN timestamptz '2025-06-01 00:00:00+00' + n * interval '12 seconds' END,
                    343, 12, 3
               FROM generate_series(0, $1::bigint) n",
            &[&blocks],
        )
        .await?;
    client
        .execute(
            "INSERT INTO pool_state (block_number, netuid, tao, alpha_in, alpha_out, price, price_source,
                                     moving_price, tao_in_emission, alpha_in_emission, alpha_out_emission, volume)
             SELECT n, s, t, a, 3000000000000 + n * 1000000, t::numeric / a, 'reserves',
                    (t::numeric / a) * 0.98, 1000000 * s, 500000000, 1000000000, n * 7000000
               FROM generate_series(1, $1::integer) s
              CROSS JOIN generate_series(1, $2::bigint) n
              CROSS JOIN LATERAL (SELECT (100000000000000 + s * 1000000000000
                                          + round(20000000000000 * sin(n / 2000.0 + s)))::bigint AS t,
                                         (1000000000000000 + round(100000000000000 * cos(n / 3000.0 + s)))::bigint AS a) v
              ORDER BY n, s",
            &[&subnets, &blocks],
        )
        .await?;
    eprintln!("bench: candles…");
    for (interval, unit) in [("1h", "hour"), ("1d", "day")] {
        client
            .execute(
                "INSERT INTO candles (netuid, interval, bucket_start, first_block, last_block, blocks, open, high, low,
                                      close, twap, moving_price, market_cap_tao, liquidity_tao, volume_rao, trades)
                 SELECT p.netuid, $1, date_trunc($2, b.timestamp AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                        min(p.block_number), max(p.block_number), count(*),
                        (array_agg(p.price::float8 ORDER BY p.block_number))[1], max(p.price::float8),
                        min(p.price::float8), (array_agg(p.price::float8 ORDER BY p.block_number DESC))[1],
                        avg(p.price::float8), (array_agg(p.moving_price::float8 ORDER BY p.block_number DESC))[1],
                        (array_agg(p.price::float8 * (p.alpha_in + p.alpha_out) / 1e9 ORDER BY p.block_number DESC))[1],
                        (array_agg(2 * p.tao / 1e9 ORDER BY p.block_number DESC))[1], count(*) * 1000000000, count(*)
                   FROM pool_state p JOIN blocks b ON b.number = p.block_number
                  GROUP BY 1, 2, 3",
                &[&interval, &unit],
            )
            .await?;
    }
    client
        .execute(
            "INSERT INTO epochs (block_number, netuid, uids, tempo, owner_hotkey)
             SELECT $1::bigint, s, 256, 360, $2 FROM generate_series(1, $3::integer) s",
            &[&blocks, &OWNER, &subnets],
        )
        .await?;
    client
        .execute(
            "INSERT INTO subnets (netuid, name, symbol, owner_coldkey, owner_hotkey, tempo, registered_at, updated_block)
             SELECT s, 'subnet ' || s, 'SN' || s, $2, $2, 360, 0, $1::bigint FROM generate_series(1, $3::integer) s",
            &[&blocks, &OWNER, &subnets],
        )
        .await?;
    client.batch_execute("VACUUM ANALYZE").await?;
    Ok(())
}

/// The load generator: `connections` keep-alive connections, each sending requests of `kind`
/// back to back for `duration` after one second of warm-up; prints rps and latency quantiles.
async fn load(addr: SocketAddr, kind: &str, connections: usize, duration: Duration) -> anyhow::Result<Value> {
    let requests: Vec<Vec<u8>> = match kind {
        "healthz" => vec![format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes()],
        "subnets" => vec![graphql_request(addr, SUBNETS_QUERY)],
        // Distinct texts (a trailing comment), more than the response cache keeps: every
        // request is parsed, validated and executed against the snapshot.
        "subnets_uncached" => {
            (0..4096).map(|i| graphql_request(addr, &format!("{SUBNETS_QUERY} # {i}"))).collect()
        }
        "candles" => (1..=64)
            .map(|n| {
                let q = format!(
                    "{{ subnet(netuid: {n}) {{ candles(interval: H1, first: 500) {{ edges {{ node {{ \
                     start open high low close volumeTao trades }} }} }} }} }}"
                );
                graphql_request(addr, &q)
            })
            .collect(),
        other => anyhow::bail!("unknown load kind {other:?}"),
    };
    let requests = Arc::new(requests);
    let warmup = Instant::now() + Duration::from_secs(1);
    let deadline = warmup + duration;
    let mut tasks = Vec::with_capacity(connections);
    for i in 0..connections {
        let requests = requests.clone();
        tasks.push(tokio::spawn(async move { connection(addr, &requests, i, warmup, deadline).await }));
    }
    let mut latencies = Vec::new();
    let (mut errors, mut body_bytes, mut rows) = (0u64, 0u64, 0u64);
    for task in tasks {
        let stats = task.await??;
        latencies.extend(stats.latencies_us);
        errors += stats.errors;
        body_bytes += stats.body_bytes;
        rows += stats.rows;
    }
    latencies.sort_unstable();
    let quantile = |q: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        (f64::from(latencies[i]) / 10.0).round() / 100.0
    };
    let n = latencies.len() as f64;
    Ok(json!({
        "kind": kind,
        "requests": latencies.len(),
        "rps": (n / duration.as_secs_f64()).round(),
        "p50_ms": quantile(0.50),
        "p99_ms": quantile(0.99),
        "errors": errors,
        "mean_body_bytes": if n > 0.0 { (body_bytes as f64 / n).round() } else { 0.0 },
        "rows_per_response": if n > 0.0 { (rows as f64 / n).round() } else { 0.0 },
    }))
}

fn graphql_request(addr: SocketAddr, query: &str) -> Vec<u8> {
    let body = json!({ "query": query }).to_string();
    format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[derive(Default)]
struct ConnectionStats {
    latencies_us: Vec<u32>,
    errors: u64,
    body_bytes: u64,
    rows: u64,
}

/// One keep-alive connection sending requests in turn (starting at request `offset`).
async fn connection(
    addr: SocketAddr,
    requests: &[Vec<u8>],
    offset: usize,
    warmup: Instant,
    deadline: Instant,
) -> anyhow::Result<ConnectionStats> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut stats = ConnectionStats::default();
    let mut buffer = Vec::with_capacity(64 * 1024);
    let mut k = offset;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let request = &requests[k % requests.len()];
        k += 1;
        let started = Instant::now();
        stream.write_all(request).await?;
        let (status_ok, body) = read_response(&mut stream, &mut buffer).await?;
        let elapsed = started.elapsed();
        if started < warmup {
            continue;
        }
        // A GraphQL error is a failed request too.
        let failed = !status_ok || find(body, b"\"errors\"");
        if failed {
            stats.errors += 1;
        }
        stats.rows += count(body, b"\"start\"");
        stats.body_bytes += body.len() as u64;
        stats.latencies_us.push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
    }
    Ok(stats)
}

/// Reads one HTTP/1.1 response with a `content-length` body into `buffer`; returns whether
/// the status was 200 and the body.
async fn read_response<'b>(
    stream: &mut TcpStream,
    buffer: &'b mut Vec<u8>,
) -> anyhow::Result<(bool, &'b [u8])> {
    buffer.clear();
    let header_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        read_more(stream, buffer).await?;
    };
    let head = std::str::from_utf8(&buffer[..header_end]).context("response head")?;
    let status_ok = head.starts_with("HTTP/1.1 200");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
        })
        .context("a response without content-length")?;
    while buffer.len() < header_end + length {
        read_more(stream, buffer).await?;
    }
    Ok((status_ok, &buffer[header_end..header_end + length]))
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    anyhow::ensure!(n > 0, "the server closed the connection");
    buffer.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> u64 {
    haystack.windows(needle.len()).filter(|w| *w == needle).count() as u64
}
