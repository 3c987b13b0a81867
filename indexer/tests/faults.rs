//! Through dropped connections, slow answers and garbled data (devnet fault injection), the
//! indexer retries, refetches what did not decode, and ends with exactly the database a clean
//! run writes: no block skipped, nothing recorded as undecodable.

use std::time::Duration;

use taoscope_devnet::{Devnet, DevnetConfig, FaultCounts, Faults};
use taoscope_indexer::{Indexer, IndexerConfig};
use taoscope_schema::testing::{TestDb, table_digests};

const BLOCKS: u32 = 240;

fn config(faults: Faults) -> DevnetConfig {
    DevnetConfig {
        subnets: 4,
        prebuilt: BLOCKS + 2,
        seed: 17,
        finality_lag: 2,
        upgrade_at: Some(BLOCKS / 2),
        tempo: 9,
        faults,
        ..DevnetConfig::default()
    }
}

/// Indexes the devnet through `faults`; returns the database and the faults the server injected.
async fn index(faults: Faults) -> (TestDb, FaultCounts) {
    let devnet = Devnet::new(config(faults)).unwrap();
    let server = taoscope_devnet::serve(devnet, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let db = TestDb::empty().await;
    let mut indexer = Indexer::connect(IndexerConfig {
        batch_size: 20,
        to: Some(u64::from(BLOCKS) - 1),
        ..IndexerConfig::new(server.ws_url(), db.url())
    })
    .await
    .unwrap();
    tokio::time::timeout(
        Duration::from_secs(300),
        indexer.run(tokio_util::sync::CancellationToken::new(), |_| {}),
    )
    .await
    .expect("the indexer gets through the faults")
    .expect("no fatal error");
    let injected = server.faults_injected();
    server.stop().await;
    (db, injected)
}

#[tokio::test]
async fn faults_cost_retries_not_data() {
    let (clean, none) = index(Faults::default()).await;
    assert_eq!(none, FaultCounts::default());
    let faults: Faults = "drop=0.02,slow=0.05:20ms,garbage=0.05".parse().unwrap();
    let (faulty, injected) = index(faults).await;
    eprintln!("faults injected: {injected:?}");
    // The run really met every kind of fault, many times.
    assert!(injected.drops >= 5 && injected.slows >= 20 && injected.garbles >= 20, "{injected:?}");
    let expected = table_digests(&clean.client().await).await;
    assert_eq!(expected["blocks"].0, i64::from(BLOCKS));
    assert_eq!(expected["decode_failures"].0, 0);
    assert_eq!(table_digests(&faulty.client().await).await, expected);
}
