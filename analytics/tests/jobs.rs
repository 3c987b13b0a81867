//! The analytics jobs over a real indexed devnet: candles, emissions and flows against SQL over
//! the indexed tables, rankings against the metagraph, the Yuma audit exact, and incremental
//! runs equal to a full recompute.

use taoscope_analytics::{AnalyticsOptions, run};
use taoscope_devnet::{Devnet, DevnetConfig};
use taoscope_indexer::{Indexer, IndexerConfig};
use taoscope_schema::testing::{TestDb, analytics_digests};
use tokio_postgres::Client;

const BLOCKS: u32 = 260;

/// Indexes the same deterministic devnet into a new database, with block times stretched to 20
/// minutes so that the blocks span four UTC days (days, day boundaries and running totals get
/// exercised without indexing 7,200 blocks a day).
async fn indexed() -> TestDb {
    let devnet = Devnet::new(DevnetConfig {
        subnets: 3,
        prebuilt: BLOCKS,
        seed: 11,
        finality_lag: 0,
        upgrade_at: Some(90),
        tempo: 9,
        max_uids: 12,
        trades_per_block: 8,
        ..DevnetConfig::default()
    })
    .unwrap();
    let server = taoscope_devnet::serve(devnet, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let db = TestDb::empty().await;
    let mut indexer =
        Indexer::connect(IndexerConfig { batch_size: 50, ..IndexerConfig::new(server.ws_url(), db.url()) })
            .await
            .unwrap();
    indexer.catch_up(&mut |_| {}).await.unwrap();
    server.stop().await;
    let c = db.client().await;
    c.execute(
        "UPDATE blocks SET timestamp = timestamptz '2025-02-13 00:00:00+00' + number * interval '20 minutes'
         WHERE timestamp IS NOT NULL",
        &[],
    )
    .await
    .unwrap();
    db
}

async fn scalar_i64(c: &Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn analytics_match_the_indexed_tables_and_incremental_runs_equal_a_full_one() {
    let full = indexed().await;
    let mut c = full.client().await;
    // One run over everything.
    let everything = AnalyticsOptions { max_days: 365, ..AnalyticsOptions::default() };
    let report = run(&mut c, &everything).await.unwrap().expect("work to do");
    assert_eq!((report.from_block, report.to_block), (1, u64::from(BLOCKS)), "{report:?}");
    assert!(report.epochs_audited > 40, "{report:?}");
    assert!(run(&mut c, &everything).await.unwrap().is_none(), "nothing new: no work");

    // Candles: 5-minute buckets hold one block each here; the daily ones equal SQL over pool_state.
    let mismatched = scalar_i64(
        &c,
        "WITH p AS (
             SELECT p.netuid, date_trunc('day', b.timestamp AT TIME ZONE 'UTC') AS d, p.block_number, p.price::float8 AS price
             FROM pool_state p JOIN blocks b ON b.number = p.block_number WHERE b.timestamp IS NOT NULL),
         agg AS (
             SELECT netuid, d, min(block_number) fb, max(block_number) lb, count(*) n, max(price) hi, min(price) lo,
                    (array_agg(price ORDER BY block_number))[1] AS o, (array_agg(price ORDER BY block_number DESC))[1] AS cl
             FROM p GROUP BY netuid, d)
         SELECT count(*) FROM agg a FULL JOIN (SELECT * FROM candles WHERE interval = '1d') k
             ON k.netuid = a.netuid AND (k.bucket_start AT TIME ZONE 'UTC') = a.d
         WHERE k.netuid IS NULL OR a.netuid IS NULL OR k.first_block <> a.fb OR k.last_block <> a.lb OR k.blocks <> a.n
            OR k.open <> a.o OR k.close <> a.cl OR k.high <> a.hi OR k.low <> a.lo
            OR k.twap < a.lo - 1e-12 OR k.twap > a.hi + 1e-12",
    )
    .await;
    assert_eq!(mismatched, 0, "daily candles differ from SQL over pool_state");
    let days = scalar_i64(&c, "SELECT count(DISTINCT bucket_start) FROM candles WHERE interval = '1d'").await;
    assert_eq!(days, 4);
    // Volume and trades: the ledger's pool trades (movements inside one subnet are no trade).
    let volume_off = scalar_i64(
        &c,
        "WITH t AS (
             SELECT l.netuid, sum(l.tao) v, count(*) n FROM stake_ledger l
             LEFT JOIN stake_movements m ON m.block_number = l.block_number AND m.event_index = l.movement_event_index
             WHERE l.netuid IS NOT NULL AND NOT coalesce(m.origin_netuid = m.destination_netuid, false)
             GROUP BY l.netuid)
         SELECT count(*) FROM t FULL JOIN (SELECT netuid, sum(volume_rao) v, sum(trades) n FROM candles
                                           WHERE interval = '4h' GROUP BY netuid) k USING (netuid)
         WHERE coalesce(t.v, 0) <> coalesce(k.v, 0) OR coalesce(t.n, 0) <> coalesce(k.n, 0)",
    )
    .await;
    assert_eq!(volume_off, 0, "candle volume differs from the ledger");
    let trades = scalar_i64(&c, "SELECT sum(trades)::int8 FROM candles WHERE interval = '1h'").await;
    assert!(trades > 500, "{trades} trades");

    // Emissions: the recorded values summed; the split adds up to alpha out (truncation ≤ 2 rao
    // per block); shares sum to 1 per day; running totals end at the grand totals.
    let r = c
        .query_one(
            "SELECT (SELECT sum(coalesce(tao_in_emission, 0)) FROM pool_state)::int8,
                    (SELECT sum(tao_in) FROM emissions_daily)::int8,
                    (SELECT sum(coalesce(alpha_out_emission, 0)) FROM pool_state)::int8,
                    (SELECT sum(alpha_out) FROM emissions_daily)::int8,
                    (SELECT count(*) FROM emissions_daily
                     WHERE owner_alpha + miner_alpha + validator_alpha + root_alpha > alpha_out
                        OR owner_alpha + miner_alpha + validator_alpha + root_alpha < alpha_out - 2 * blocks),
                    (SELECT count(*) FROM (SELECT day, sum(tao_share) s, sum(tao_in) t FROM emissions_daily GROUP BY day) d
                     WHERE t > 0 AND abs(s - 1) > 1e-9),
                    (SELECT count(*) FROM (SELECT DISTINCT ON (netuid) netuid, cum_tao_in, cum_alpha_out FROM emissions_daily
                                           ORDER BY netuid, day DESC) l
                     JOIN (SELECT netuid, sum(tao_in) t, sum(alpha_out) a FROM emissions_daily GROUP BY netuid) s USING (netuid)
                     WHERE l.cum_tao_in <> s.t OR l.cum_alpha_out <> s.a),
                    (SELECT string_agg(DISTINCT era, ' | ') FROM emissions_daily),
                    (SELECT sum(owner_alpha) FROM emissions_daily WHERE netuid <> 0)::int8",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, i64>(0), r.get::<_, i64>(1));
    assert_eq!(r.get::<_, i64>(2), r.get::<_, i64>(3));
    assert!(r.get::<_, i64>(1) > 0 && r.get::<_, i64>(3) > 0);
    assert_eq!(r.get::<_, i64>(4), 0, "split does not add up");
    assert_eq!(r.get::<_, i64>(5), 0, "shares do not sum to 1");
    assert_eq!(r.get::<_, i64>(6), 0, "running totals");
    // The devnet's runtimes mirror spec 233 (moving-price shares) and 343 (the TAO-flow era); the
    // upgrade at block 90 falls on the second day.
    assert_eq!(r.get::<_, String>(7), "moving_price | moving_price,tao_flow | tao_flow");
    assert!(r.get::<_, i64>(8) > 0);

    // Flows: net flow = stake in − stake out of the ledger, moves inside a subnet excluded.
    let flows_off = scalar_i64(
        &c,
        "WITH t AS (
             SELECT l.netuid, sum(CASE WHEN l.direction = 'add' THEN l.tao ELSE -l.tao END) f FROM stake_ledger l
             LEFT JOIN stake_movements m ON m.block_number = l.block_number AND m.event_index = l.movement_event_index
             WHERE l.netuid IS NOT NULL AND NOT coalesce(m.origin_netuid = m.destination_netuid, false)
             GROUP BY l.netuid)
         SELECT count(*) FROM t FULL JOIN (SELECT netuid, sum(net_flow) f FROM flows_daily GROUP BY netuid) k USING (netuid)
         WHERE coalesce(t.f, 0) <> coalesce(k.f, 0)",
    )
    .await;
    assert_eq!(flows_off, 0, "net flows differ from the ledger");
    let ema_nonzero = scalar_i64(&c, "SELECT count(*) FROM flows_daily WHERE ema_flow <> 0").await;
    assert!(ema_nonzero > 0);

    // Rankings: every uid with incentive is a ranked miner, ranks are 1..n per epoch.
    let r = c
        .query_one(
            "SELECT (SELECT count(*) FROM metagraph WHERE incentive > 0),
                    (SELECT count(*) FROM miner_rankings),
                    (SELECT count(*) FROM (SELECT netuid, block_number, max(rank_incentive) m, count(*) n
                                           FROM miner_rankings GROUP BY 1, 2) x WHERE m <> n),
                    (SELECT count(*) FROM validator_rankings),
                    (SELECT count(*) FROM miner_rankings WHERE rank_change IS NOT NULL),
                    (SELECT count(*) FROM validator_rankings WHERE apy IS NOT NULL AND apy > 0),
                    (SELECT count(*) FROM coldkey_rollups)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, i64>(0), r.get::<_, i64>(1));
    assert_eq!(r.get::<_, i64>(2), 0);
    assert!(
        r.get::<_, i64>(3) > 0 && r.get::<_, i64>(4) > 0 && r.get::<_, i64>(5) > 0 && r.get::<_, i64>(6) > 0
    );

    // The audit: on the devnet, which runs the same epoch, every replay is exact.
    let r = c
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE status = 'exact'), max(max_deviation),
                    count(*) FILTER (WHERE cardinality(uids_beyond) > 0)
             FROM yuma_audit",
            &[],
        )
        .await
        .unwrap();
    let (audits, exact, max, beyond): (i64, i64, Option<f64>, i64) = (r.get(0), r.get(1), r.get(2), r.get(3));
    assert_eq!(audits, scalar_i64(&c, "SELECT count(*) FROM epochs").await);
    assert_eq!((exact, max, beyond), (audits, Some(0.0), 0), "audit deviates on the devnet");

    // Incremental: the same chain analysed in steps (inside days, at epochs, across days, and
    // runs of at most one day each) ends with exactly the rows of the full run.
    let want = analytics_digests(&c).await;
    let stepwise = indexed().await;
    let mut s = stepwise.client().await;
    let mut runs = 0;
    for up_to in [40u64, 41, 72, 73, 150, 199, 230, u64::from(BLOCKS)] {
        let step = AnalyticsOptions { up_to: Some(up_to), max_days: 1, ..AnalyticsOptions::default() };
        while let Some(r) = run(&mut s, &step).await.unwrap() {
            assert!(r.to_block <= up_to);
            runs += 1;
        }
    }
    assert!(runs > 8, "{runs} runs: the one-day limit split some steps");
    assert_eq!(analytics_digests(&s).await, want);
}
