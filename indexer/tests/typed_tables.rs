//! The typed tables against the devnet's own truth: its storage at each block and the events
//! it emitted.

use std::sync::Arc;

use parity_scale_codec::Decode;
use taoscope_devnet::runtime::storage::items;
use taoscope_devnet::{Devnet, DevnetConfig};
use taoscope_indexer::{Indexer, IndexerConfig};
use taoscope_schema::testing::TestDb;

const UPGRADE_AT: u32 = 30;
const TEMPO: u16 = 9;
const SUBNETS: u16 = 3;
const BLOCKS: u32 = 80;

async fn indexed() -> (Arc<Devnet>, TestDb) {
    indexed_with(taoscope_indexer::PoolSource::Auto).await
}

async fn indexed_with(pool_source: taoscope_indexer::PoolSource) -> (Arc<Devnet>, TestDb) {
    let devnet = Devnet::new(DevnetConfig {
        subnets: SUBNETS,
        prebuilt: BLOCKS,
        seed: 5,
        finality_lag: 2,
        upgrade_at: Some(UPGRADE_AT),
        tempo: TEMPO,
        max_uids: 16,
        trades_per_block: 8,
        ..DevnetConfig::default()
    })
    .unwrap();
    let server = taoscope_devnet::serve(devnet.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let db = TestDb::empty().await;
    let mut indexer = Indexer::connect(IndexerConfig {
        batch_size: 25,
        pool_source,
        ..IndexerConfig::new(server.ws_url(), db.url())
    })
    .await
    .unwrap();
    assert_eq!(indexer.catch_up(&mut |_| {}).await.unwrap().indexed, u64::from(BLOCKS - 2));
    server.stop().await;
    (devnet, db)
}

fn u64_at(devnet: &Devnet, key: &[u8], block: u32) -> u64 {
    devnet.chain().storage(key, block).map(|v| u64::decode(&mut &v[..]).unwrap()).unwrap_or(0)
}

#[tokio::test]
async fn typed_tables_equal_the_devnets_storage_and_events() {
    let (devnet, db) = indexed().await;
    let c = db.client().await;
    let one = |sql: &'static str| {
        let c = &c;
        async move { c.query_one(sql, &[]).await.unwrap() }
    };

    // Nothing failed to decode.
    assert_eq!(one("SELECT count(*) FROM decode_failures").await.get::<_, i64>(0), 0);

    // The ledger holds exactly the StakeAdded/StakeRemoved events, with the era's fee fields.
    let r = one("SELECT count(*), count(*) FILTER (WHERE fee_token IS NULL AND block_number <= 30),
                        count(*) FILTER (WHERE block_number > 30 AND fee_token = CASE direction WHEN 'add' THEN 'tao' ELSE 'alpha' END)
                 FROM stake_ledger").await;
    let events = one("SELECT count(*), count(*) FILTER (WHERE block_number <= 30) FROM events
                      WHERE pallet = 'SubtensorModule' AND name IN ('StakeAdded', 'StakeRemoved')")
    .await;
    let (ledger, early, late): (i64, i64, i64) = (r.get(0), r.get(1), r.get(2));
    assert_eq!(ledger, events.get::<_, i64>(0));
    assert_eq!(early, events.get::<_, i64>(1), "no fee before the upgrade");
    assert_eq!(early + late, ledger, "fee token by direction after it");
    assert!(ledger > 300, "{ledger} ledger rows");

    // Every movement annotates one removal and one addition; nothing is linked twice.
    let r = one("SELECT count(*), count(removed_event_index), count(added_event_index) FROM stake_movements")
        .await;
    let moves: i64 = r.get(0);
    assert!(moves > 0);
    assert_eq!((r.get::<_, i64>(1), r.get::<_, i64>(2)), (moves, moves));
    let linked: i64 = one("SELECT count(*) FROM stake_ledger WHERE movement IS NOT NULL").await.get(0);
    assert_eq!(linked, 2 * moves);

    // Weights and registrations, with uid replacements named.
    let ws: i64 = one("SELECT count(*) FROM events WHERE name = 'WeightsSet'").await.get(0);
    assert_eq!(one("SELECT count(*) FROM weights_set").await.get::<_, i64>(0), ws);
    let r = one("SELECT count(*), count(*) FILTER (WHERE replaced), count(*) FILTER (WHERE replaced AND replaced_hotkey IS NOT NULL),
                        count(*) FILTER (WHERE replaced IS NULL) FROM registrations").await;
    assert_eq!(
        r.get::<_, i64>(0),
        one("SELECT count(*) FROM events WHERE name = 'NeuronRegistered'").await.get::<_, i64>(0)
    );
    assert!(r.get::<_, i64>(1) > 0, "uids were replaced");
    assert_eq!(r.get::<_, i64>(1), r.get::<_, i64>(2));
    assert_eq!(r.get::<_, i64>(3), 0);

    // Fees: every fee-paying extrinsic has its TransactionFeePaid amount.
    let r = one(
        "SELECT count(*) FILTER (WHERE signer IS NOT NULL AND call <> 'sudo'), count(fee) FROM extrinsics",
    )
    .await;
    assert_eq!(r.get::<_, i64>(0), r.get::<_, i64>(1));

    // Pool state: every subnet at every block after registration, equal to storage, priced by era.
    let rows = c
        .query(
            "SELECT block_number, netuid, tao, alpha_in, alpha_out, price::float8, price_source,
                       tao_in_emission, (sqrt_price IS NOT NULL) FROM pool_state ORDER BY 1, 2",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        (BLOCKS as usize - 1) * (SUBNETS as usize + 1) - SUBNETS as usize,
        "root every block, subnets from block 1"
    );
    for r in &rows {
        let (n, netuid): (i64, i32) = (r.get(0), r.get(1));
        let (block, netuid16) = (n as u32, netuid as u16);
        let tao = u64_at(&devnet, &items::SUBNET_TAO.key(&netuid16), block);
        let alpha_in = u64_at(&devnet, &items::SUBNET_ALPHA_IN.key(&netuid16), block);
        assert_eq!(r.get::<_, i64>(2) as u64, tao, "SubnetTAO {netuid} at {n}");
        assert_eq!(r.get::<_, i64>(3) as u64, alpha_in);
        assert_eq!(
            r.get::<_, i64>(4) as u64,
            u64_at(&devnet, &items::SUBNET_ALPHA_OUT.key(&netuid16), block)
        );
        assert_eq!(
            r.get::<_, Option<i64>>(7).unwrap_or(0) as u64,
            u64_at(&devnet, &items::SUBNET_TAO_IN_EMISSION.key(&netuid16), block)
        );
        let (price, source, has_sqrt): (f64, String, bool) = (r.get(5), r.get(6), r.get(8));
        match (netuid, n <= i64::from(UPGRADE_AT)) {
            (0, _) => assert_eq!((source.as_str(), price), ("stable", 1.0)),
            (_, true) => {
                assert_eq!(source, "reserves", "before the Swap pallet");
                assert!((price - tao as f64 / alpha_in as f64).abs() < 1e-12 * price.max(1.0));
            }
            (_, false) => {
                assert_eq!((source.as_str(), has_sqrt), ("sqrt_price", true), "v3 era at {n}");
                assert!(
                    (price / (tao as f64 / alpha_in as f64) - 1.0).abs() < 1e-9,
                    "sqrt² ≈ reserves ratio: {price}"
                );
            }
        }
    }

    // Epochs on finney's schedule, with each uid's row equal to the devnet's vectors.
    let epochs = c.query("SELECT block_number, netuid, uids FROM epochs ORDER BY 1, 2", &[]).await.unwrap();
    assert!(epochs.len() >= 15, "{} epochs", epochs.len());
    for e in &epochs {
        let (n, netuid, uids): (i64, i32, i32) = (e.get(0), e.get(1), e.get(2));
        assert_eq!((n + i64::from(netuid) + 1) % (i64::from(TEMPO) + 1), 0, "epoch schedule");
        let incentive: Vec<u16> = devnet
            .chain()
            .storage(&items::INCENTIVE.key(&(netuid as u16)), n as u32)
            .map(|v| Vec::<u16>::decode(&mut &v[..]).unwrap())
            .unwrap();
        assert_eq!(incentive.len(), uids as usize);
        let rows = c
            .query("SELECT uid, incentive, hotkey, coldkey, stake FROM metagraph WHERE block_number = $1 AND netuid = $2 ORDER BY uid", &[&n, &netuid])
            .await
            .unwrap();
        assert_eq!(rows.len(), uids as usize);
        for r in &rows {
            assert_eq!(r.get::<_, i32>(1) as u16, incentive[r.get::<_, i32>(0) as usize]);
            assert!(r.get::<_, String>(2).starts_with('5') && r.get::<_, Option<String>>(3).is_some());
        }
    }
    let with_weights: i64 = one("SELECT count(*) FROM metagraph WHERE cardinality(weights) > 0").await.get(0);
    assert!(with_weights > 0, "validators' weights rows are captured");
}

#[tokio::test]
async fn from_to_index_a_window_and_refuse_a_gap() {
    let devnet = Devnet::new(DevnetConfig {
        subnets: 2,
        prebuilt: 40,
        seed: 9,
        tempo: 9,
        upgrade_at: None,
        ..DevnetConfig::default()
    })
    .unwrap();
    let server = taoscope_devnet::serve(devnet, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let db = TestDb::empty().await;
    let config =
        IndexerConfig { from: Some(10), to: Some(20), ..IndexerConfig::new(server.ws_url(), db.url()) };
    let mut indexer = Indexer::connect(config.clone()).await.unwrap();
    indexer.run(tokio_util::sync::CancellationToken::new(), |_| {}).await.unwrap();
    drop(indexer);
    let r = db
        .client()
        .await
        .query_one("SELECT min(number), max(number), count(*) FROM blocks", &[])
        .await
        .unwrap();
    assert_eq!((r.get::<_, i64>(0), r.get::<_, i64>(1), r.get::<_, i64>(2)), (10, 20, 11));
    let err = Indexer::connect(IndexerConfig { from: Some(30), to: None, ..config })
        .await
        .unwrap()
        .catch_up(&mut |_| {})
        .await;
    assert!(matches!(err, Err(taoscope_indexer::IndexerError::Gap { indexed: 20, from: 30 })), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn the_runtime_api_and_storage_give_the_same_state() {
    let (_, api) = indexed_with(taoscope_indexer::PoolSource::Auto).await;
    let (_, storage) = indexed_with(taoscope_indexer::PoolSource::Storage).await;
    for table in ["pool_state", "epochs", "metagraph"] {
        let sql = format!(
            "SELECT count(*), md5(string_agg(to_jsonb(t)::text, '|' ORDER BY to_jsonb(t)::text)) FROM {table} t"
        );
        let a = api.client().await.query_one(&sql, &[]).await.unwrap();
        let b = storage.client().await.query_one(&sql, &[]).await.unwrap();
        assert!(a.get::<_, i64>(0) > 0, "{table} is filled");
        assert_eq!(
            (a.get::<_, i64>(0), a.get::<_, String>(1)),
            (b.get::<_, i64>(0), b.get::<_, String>(1)),
            "{table}"
        );
    }
}
