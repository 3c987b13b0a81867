//! Crash safety: the indexer killed with SIGKILL at random moments, or its database restarted
//! under it, ends with exactly the database an uninterrupted run writes: same rows in every
//! table, no gap, no duplicate.

use std::sync::Arc;
use std::time::Duration;

use taoscope_devnet::{Devnet, DevnetConfig, RpcServer};
use taoscope_schema::testing::{TestDb, table_digests};

use crate::support::{PrivatePg, run, taoscope};

const BLOCKS: u32 = 900;

async fn devnet() -> (Arc<Devnet>, RpcServer) {
    let d = Devnet::new(DevnetConfig {
        subnets: 6,
        prebuilt: BLOCKS + 2,
        seed: 3,
        finality_lag: 2,
        upgrade_at: Some(BLOCKS / 2),
        tempo: 19,
        ..DevnetConfig::default()
    })
    .unwrap();
    let s = taoscope_devnet::serve(d.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    (d, s)
}

fn index_cmd(node: &str, db: &str) -> std::process::Command {
    let mut c = taoscope();
    c.args(["index", "--node", node, "--database-url", db, "--metrics-listen", "off"]).args([
        "--to",
        &(BLOCKS - 1).to_string(),
        "--batch-size",
        "25",
    ]);
    c
}

async fn reference(node: &str) -> (TestDb, std::collections::BTreeMap<String, (i64, String)>) {
    let db = TestDb::empty().await;
    let url = db.url().to_string();
    let node = node.to_string();
    let out = tokio::task::spawn_blocking(move || run(index_cmd(&node, &url))).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let digests = table_digests(&db.client().await).await;
    (db, digests)
}

/// The checkpoint, or -1 before the first one (or before the schema exists).
async fn indexed_height(client: &tokio_postgres::Client) -> i64 {
    match client.query_opt("SELECT block_number FROM indexer_progress WHERE stage = 'blocks'", &[]).await {
        Ok(row) => row.map_or(-1, |r| r.get(0)),
        Err(_) => -1,
    }
}

#[tokio::test]
async fn sigkill_at_random_moments_loses_nothing() {
    let (_devnet, server) = devnet().await;
    let node = server.ws_url();
    let (_ref_db, expected) = reference(&node).await;
    assert_eq!(expected["blocks"].0, i64::from(BLOCKS));

    let db = TestDb::empty().await;
    let client = db.client().await;
    // A fixed pseudo-random schedule of kill delays (xorshift), so failures reproduce.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut kills_mid_backfill = 0;
    let mut kills = 0;
    while kills_mid_backfill < 10 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delay = Duration::from_millis(150 + x % 900);
        let before = indexed_height(&client).await;
        let mut child = index_cmd(&node, db.url())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(delay).await;
        if child.try_wait().unwrap().is_some() {
            break; // finished before the kill
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        let after = indexed_height(&client).await;
        if after > before && after < i64::from(BLOCKS) - 1 {
            kills_mid_backfill += 1;
        }
        assert!(kills < 60, "the backfill should progress between kills");
    }
    assert!(kills_mid_backfill >= 10, "{kills_mid_backfill} kills landed mid-backfill");
    // Finish, then compare everything with the uninterrupted run.
    let url = db.url().to_string();
    let n = node.clone();
    let out = tokio::task::spawn_blocking(move || run(index_cmd(&n, &url))).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = table_digests(&client).await;
    assert_eq!(got, expected, "after {kills} kills");
    let gaps: i64 = client
        .query_one("SELECT count(*) FROM generate_series(0, $1::bigint) n WHERE NOT EXISTS (SELECT 1 FROM blocks WHERE number = n)", &[&(i64::from(BLOCKS) - 1)])
        .await
        .unwrap()
        .get(0);
    assert_eq!(gaps, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_database_restart_mid_run_is_survived() {
    let Some(pg) = PrivatePg::start() else {
        assert!(std::env::var_os("CI").is_none(), "CI machines have PostgreSQL installed");
        eprintln!("skipping: no PostgreSQL server binaries");
        return;
    };
    let (_devnet, server) = devnet().await;
    let node = server.ws_url();
    let (_ref_db, expected) = reference(&node).await;

    let url = pg.url("taoscope");
    let child = index_cmd(&node, &url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Let it get going, then cut every connection.
    let (client, conn) = loop {
        if let Ok(c) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::spawn(conn);
    while indexed_height(&client).await < 100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(client);
    let restart_at = tokio::task::spawn_blocking(move || {
        pg.restart();
        pg
    })
    .await
    .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the indexer finished after the restart: {stderr}");
    let (client, conn) =
        tokio_postgres::connect(&restart_at.url("taoscope"), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    assert_eq!(table_digests(&client).await, expected);
    server.stop().await;
}
