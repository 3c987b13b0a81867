//! `--unfinalized`: the indexer follows the best head and, when the devnet forks, rolls back to
//! the common ancestor and ends with exactly what a fresh index of the new chain holds.

use std::sync::Arc;

use taoscope_devnet::{Devnet, DevnetConfig};
use taoscope_indexer::{Indexer, IndexerConfig};
use taoscope_schema::testing::{TestDb, table_digests};

fn config() -> DevnetConfig {
    DevnetConfig {
        subnets: 3,
        prebuilt: 40,
        seed: 21,
        finality_lag: 8,
        upgrade_at: Some(20),
        tempo: 9,
        ..DevnetConfig::default()
    }
}

async fn index_best(url: &str, db: &TestDb) -> u64 {
    let mut ix = Indexer::connect(IndexerConfig {
        unfinalized: true,
        batch_size: 10,
        ..IndexerConfig::new(url, db.url())
    })
    .await
    .unwrap();
    ix.catch_up(&mut |_| {}).await.unwrap().indexed
}

async fn hashes(db: &TestDb) -> Vec<(i64, Vec<u8>)> {
    let c = db.client().await;
    c.query("SELECT number, hash FROM blocks ORDER BY number", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn a_fork_is_rolled_back_to_the_common_ancestor() {
    let devnet: Arc<Devnet> = Devnet::new(config()).unwrap();
    let server = taoscope_devnet::serve(devnet.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let db = TestDb::empty().await;
    assert_eq!(index_best(&server.ws_url(), &db).await, 40, "the best head, not the finalized one");
    let before = hashes(&db).await;
    // Analytics that had got to block 40 (and a job that had only got to 20).
    db.client()
        .await
        .batch_execute(
            "INSERT INTO analytics_progress (job, block_number) VALUES ('analytics', 40), ('other', 20)",
        )
        .await
        .unwrap();

    // Blocks 38..=40 are replaced by a new branch 38..=41.
    devnet.fork(3).unwrap();
    assert_eq!(index_best(&server.ws_url(), &db).await, 41);
    let marks: Vec<(String, i64)> = db
        .client()
        .await
        .query("SELECT job, block_number FROM analytics_progress ORDER BY job", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        marks,
        [("analytics".to_string(), 37), ("other".to_string(), 20)],
        "analytics rewound to the ancestor"
    );
    let after = hashes(&db).await;
    assert_eq!(after[..38], before[..38], "the common ancestors stay");
    assert!(
        after[38..41].iter().zip(&before[38..41]).all(|(a, b)| a.1 != b.1),
        "the abandoned branch is gone"
    );
    let canonical: Vec<Vec<u8>> = {
        let chain = devnet.chain();
        after.iter().map(|(n, _)| chain.block(*n as u32).unwrap().hash.to_vec()).collect()
    };
    for ((n, hash), expected) in after.iter().zip(&canonical) {
        assert_eq!(hash, expected, "block {n} is canonical");
    }

    // Exactly what a fresh index of the new chain holds, in every table.
    let fresh = TestDb::empty().await;
    assert_eq!(index_best(&server.ws_url(), &fresh).await, 41);
    assert_eq!(table_digests(&db.client().await).await, table_digests(&fresh.client().await).await);
    server.stop().await;
}

#[tokio::test]
async fn a_fork_deeper_than_finality_is_refused_by_the_devnet() {
    let devnet = Devnet::new(config()).unwrap();
    // Best 40, finalized 32: replacing 9 blocks would replace the finalized block 32.
    assert!(devnet.fork(9).is_err(), "finalized blocks never fork");
    assert!(devnet.fork(8).is_ok());
}
