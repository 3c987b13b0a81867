//! The indexer against the embedded devnet and a fresh PostgreSQL database per test.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use taoscope_devnet::{Devnet, DevnetConfig, RpcServer};
use taoscope_indexer::{Indexer, IndexerConfig, IndexerError};
use taoscope_schema::testing::TestDb;

const UPGRADE_AT: u32 = 25;

fn devnet_config(seed: u64, prebuilt: u32) -> DevnetConfig {
    DevnetConfig {
        subnets: 4,
        prebuilt,
        seed,
        block_time: Duration::from_millis(100),
        finality_lag: 2,
        upgrade_at: Some(UPGRADE_AT),
        tempo: 9,
        ..DevnetConfig::default()
    }
}

async fn devnet(seed: u64, prebuilt: u32) -> (Arc<Devnet>, RpcServer) {
    let d = Devnet::new(devnet_config(seed, prebuilt)).unwrap();
    let s = taoscope_devnet::serve(d.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    (d, s)
}

fn config(server: &RpcServer, db: &TestDb) -> IndexerConfig {
    IndexerConfig { batch_size: 16, ..IndexerConfig::new(server.ws_url(), db.url()) }
}

#[tokio::test]
async fn indexes_the_devnet_exactly() {
    let (devnet, server) = devnet(7, 60).await;
    let db = TestDb::empty().await;
    let mut indexer = Indexer::connect(config(&server, &db)).await.unwrap();
    let mut reports = vec![];
    let progress = indexer.catch_up(&mut |p| reports.push(p)).await.unwrap();
    assert_eq!(progress.indexed, 58, "finalized = best 60 - lag 2");
    assert_eq!(reports.len(), 4, "59 blocks in batches of 16");

    let client = db.client().await;
    let rows = client
        .query("SELECT number, hash, parent_hash, spec_version, event_count, extrinsic_count, extract(epoch from timestamp)::bigint FROM blocks ORDER BY number", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 59);
    // What the devnet itself holds, copied out so no lock is held across awaits.
    let expected: Vec<_> = {
        let chain = devnet.chain();
        (0..=58).map(|n| chain.block(n).unwrap()).collect()
    };
    let mut prev_hash = vec![0u8; 32];
    for r in &rows {
        let n: i64 = r.get(0);
        let block = &expected[n as usize];
        assert_eq!(r.get::<_, Vec<u8>>(1), block.hash.to_vec(), "hash of {n}");
        assert_eq!(r.get::<_, Vec<u8>>(2), prev_hash, "parent of {n}");
        prev_hash = block.hash.to_vec();
        let spec: i32 = r.get(3);
        assert_eq!(spec, if n <= UPGRADE_AT as i64 { 233 } else { 343 }, "executing runtime of {n}");
        assert_eq!(r.get::<_, i32>(4) as usize, block.event_count, "events of {n}");
        assert_eq!(r.get::<_, i32>(5) as usize, block.extrinsics.len(), "extrinsics of {n}");
        if n > 0 {
            let ts: i64 = r.get(6);
            assert_eq!(ts * 1000, taoscope_devnet::sim::GENESIS_TIMESTAMP_MS as i64 + n * 12_000);
        }
    }

    let runtimes: Vec<(i32, i32, String, i16)> = client
        .query("SELECT spec_version, first_block::int, spec_name, metadata_version FROM runtime_versions ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let name = || "node-subtensor".to_string();
    assert_eq!(runtimes, vec![(233, 0, name(), 15), (343, UPGRADE_AT as i32, name(), 15)]);

    // Stake events: 5 fields before the upgrade (the upgrade block included), 6 after.
    let stake: Vec<(i64, Value)> = client
        .query(
            "SELECT block_number, data FROM events WHERE pallet = 'SubtensorModule' AND name = 'StakeAdded'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(
        stake.iter().any(|(n, _)| *n <= UPGRADE_AT as i64)
            && stake.iter().any(|(n, _)| *n > UPGRADE_AT as i64)
    );
    for (n, data) in &stake {
        let fields = data.as_array().unwrap();
        assert_eq!(fields.len(), if *n <= UPGRADE_AT as i64 { 5 } else { 6 }, "block {n}: {data}");
        let coldkey = fields[0].as_str().unwrap();
        assert!(coldkey.starts_with('5') && coldkey.len() == 48, "SS58: {coldkey}");
        assert!(fields[2].as_u64().unwrap() > 0, "tao as a number");
    }

    // Every extrinsic decoded, with its outcome; signed ones have a signer.
    let xs = client
        .query("SELECT pallet, call, signer, success FROM extrinsics ORDER BY block_number, index", &[])
        .await
        .unwrap();
    let mut by_call: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for r in &xs {
        let pallet: Option<String> = r.get(0);
        let call: Option<String> = r.get(1);
        let signer: Option<String> = r.get(2);
        let success: Option<bool> = r.get(3);
        let name = format!("{}.{}", pallet.unwrap(), call.unwrap());
        assert_eq!(signer.is_none(), name == "Timestamp.set", "{name}");
        let e = by_call.entry(name).or_default();
        if success.expect("outcome known") { e.0 += 1 } else { e.1 += 1 }
    }
    assert_eq!(by_call["Timestamp.set"], (58, 0), "every block but genesis");
    assert_eq!(by_call["Sudo.sudo"], (1, 0), "the upgrade");
    assert_eq!(by_call["SubtensorModule.register_network"], (4, 0));
    assert!(by_call["SubtensorModule.set_weights"].0 > 0);
    assert!(
        by_call.get("SubtensorModule.remove_stake").is_some_and(|c| c.1 > 0),
        "some unstakes fail: {by_call:?}"
    );

    // The event totals match the chain's.
    let total: i64 = client.query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0);
    assert_eq!(total as usize, expected.iter().map(|b| b.event_count).sum::<usize>());
    let head: i64 = client.query_one("SELECT finalized_number FROM chain_head", &[]).await.unwrap().get(0);
    assert_eq!(head, 58);
    server.stop().await;
}

#[tokio::test]
async fn resumes_where_it_stopped_without_gaps_or_duplicates() {
    let (devnet, server) = devnet(7, 30).await;
    let db = TestDb::empty().await;
    {
        let mut indexer = Indexer::connect(config(&server, &db)).await.unwrap();
        assert_eq!(indexer.catch_up(&mut |_| {}).await.unwrap().indexed, 28);
    }
    for _ in 0..20 {
        devnet.produce();
    }
    let mut indexer = Indexer::connect(config(&server, &db)).await.unwrap();
    assert_eq!(indexer.catch_up(&mut |_| {}).await.unwrap().indexed, 48);
    let client = db.client().await;
    let row = client
        .query_one("SELECT count(*), count(DISTINCT number), min(number), max(number) FROM blocks", &[])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, i64>(1), row.get::<_, i64>(2), row.get::<_, i64>(3)),
        (49, 49, 0, 48)
    );
    server.stop().await;
}

#[tokio::test]
async fn follows_live_blocks_until_cancelled() {
    let (devnet, server) = devnet(7, 5).await;
    let cancel = tokio_util::sync::CancellationToken::new();
    let producer = tokio::spawn(devnet.clone().run(cancel.clone()));
    let db = TestDb::empty().await;
    let mut indexer =
        Indexer::connect(IndexerConfig { poll_interval: Duration::from_millis(50), ..config(&server, &db) })
            .await
            .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let stop = cancel.clone();
    let run = tokio::spawn(async move {
        indexer
            .run(stop, move |p| {
                let _ = tx.send(p.indexed);
            })
            .await
    });
    let reached = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(n) = rx.recv().await {
            if n >= 12 {
                return n;
            }
        }
        0
    })
    .await
    .expect("indexer keeps up with live blocks");
    assert!(reached >= 12);
    cancel.cancel();
    run.await.unwrap().unwrap();
    producer.await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn refuses_a_database_of_another_chain() {
    let (_a, server_a) = devnet(7, 5).await;
    let (_b, server_b) = devnet(8, 5).await;
    let db = TestDb::empty().await;
    Indexer::connect(config(&server_a, &db)).await.unwrap().catch_up(&mut |_| {}).await.unwrap();
    let err = Indexer::connect(config(&server_b, &db)).await.err().expect("wrong chain");
    assert!(matches!(err, IndexerError::WrongChain { .. }), "{err}");
    assert!(err.to_string().contains("use another database"));
}

#[tokio::test]
async fn only_one_indexer_writes_a_database() {
    let (_d, server) = devnet(7, 5).await;
    let db = TestDb::empty().await;
    let _first = Indexer::connect(config(&server, &db)).await.unwrap();
    let err = Indexer::connect(config(&server, &db)).await.err().expect("second writer refused");
    assert!(matches!(err, IndexerError::AlreadyRunning), "{err}");
}

#[tokio::test]
async fn a_url_that_is_not_a_node_is_a_clear_error() {
    // A closed port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let err = taoscope_indexer::node::Node::connect(&format!("ws://{closed}")).await.err().unwrap();
    assert!(matches!(err, IndexerError::Connect { .. }), "{err}");
    // A port that speaks HTTP but not WebSocket JSON-RPC.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").await;
        }
    });
    let err = taoscope_indexer::node::Node::connect(&format!("http://{addr}")).await.err().unwrap();
    assert!(err.to_string().contains("Is it a Substrate node"), "{err}");
    // Not a URL scheme we speak.
    let err = taoscope_indexer::node::Node::connect("ftp://example.org").await.err().unwrap();
    assert!(err.to_string().contains("must start with ws://"), "{err}");
}
