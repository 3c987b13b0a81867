//! `GET /exports/{dataset}.parquet`: every dataset read back with Polars and compared with the
//! database (row counts, column types, values), filters, empty results, bad input, a database
//! that is down, and a client that goes away mid-export.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use http_body_util::BodyExt;
use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader, TimeUnit, TimeZone};
use serde_json::Value;
use taoscope_api::export::{Dataset, handler};
use taoscope_api::{ApiState, pool};
use taoscope_schema::testing::TestDb;
use tokio_postgres::Client;
use tower::ServiceExt;

/// The export route alone, over `url`.
fn router(url: &str, connections: usize) -> Router {
    Router::new()
        .route("/exports/{file}", get(handler))
        .with_state(ApiState::new(pool(url, connections).expect("pool")))
}

/// A migrated database seeded with rows in every exported table, and the route over it.
struct Seeded {
    _db: TestDb,
    client: Client,
    app: Router,
}

/// Blocks 0..=`blocks` (12 s apart from 2025-01-01, genesis without a timestamp).
async fn insert_blocks(client: &Client, blocks: i64) {
    client
        .batch_execute(
            "INSERT INTO runtime_versions (spec_version, spec_name, impl_version, transaction_version,
                                           metadata_version, metadata, first_block)
             VALUES (100, 'node-subtensor', 1, 1, 15, '\\x00'::bytea, 0)",
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO blocks (number, hash, parent_hash, state_root, extrinsics_root, timestamp,
                                 spec_version, event_count, extrinsic_count)
             SELECT n, sha256(int8send(n)), sha256(int8send(n - 1)), '\\x00'::bytea, '\\x00'::bytea,
                    CASE WHEN n > 0 THEN timestamptz '2025-01-01 00:00:00+00' + n * interval '12 s' END,
                    100, 2 * n::int, 1
               FROM generate_series(0::bigint, $1) n",
            &[&blocks],
        )
        .await
        .unwrap();
    client.execute("SELECT taoscope_ensure_partitions(0, $1)", &[&blocks]).await.unwrap();
}

const SEED: &str = "
INSERT INTO pool_state (block_number, netuid, tao, alpha_in, alpha_out, price, price_source, moving_price,
                        sqrt_price, balancer_quote, tao_in_emission, alpha_in_emission, alpha_out_emission, volume)
SELECT b, n, 1000000000::bigint * (b + n), 2000000000::bigint * (b + 1), 500000000 * n,
       round((b + n)::numeric / (2 * (b + 1)), 24), CASE WHEN n = 0 THEN 'stable' ELSE 'reserves' END,
       CASE WHEN b % 2 = 0 THEN b::numeric / 7 END, CASE WHEN n = 3 THEN 1.5 END, NULL, 1000 * b,
       CASE WHEN b % 3 = 0 THEN NULL ELSE 7 END, 3, b * 123456789012345678::numeric
  FROM generate_series(1, 40) b, generate_series(0, 3) n;

INSERT INTO stake_ledger (block_number, event_index, extrinsic_index, direction, coldkey, hotkey, netuid,
                          tao, alpha, fee, fee_token, movement, movement_event_index)
SELECT b, i, 1, CASE WHEN i % 2 = 0 THEN 'add' ELSE 'remove' END, 'cold' || b, 'hot' || i,
       CASE WHEN b >= 3 THEN i % 3 END, 1500000000::bigint * i, CASE WHEN b >= 3 THEN 7 * i END, 1000, 'tao',
       CASE WHEN i = 2 THEN 'moved' END, CASE WHEN i = 2 THEN 5 END
  FROM generate_series(1, 40) b, generate_series(0, 2) i;

INSERT INTO events (block_number, index, phase, extrinsic_index, pallet, name, raw, data)
SELECT b, i, 'apply_extrinsic', i, 'SubtensorModule', 'StakeAdded', '\\x00'::bytea,
       jsonb_build_object('amount', b * 10 + i, 'who', 'x')
  FROM generate_series(0, 40) b, generate_series(0, 1) i;

INSERT INTO metagraph (block_number, netuid, uid, hotkey, coldkey, stake, incentive, dividends, emission,
                       consensus, validator_trust, validator_permit, active, last_update,
                       weights_to, weights, bonds_to, bonds)
SELECT e.b, n, u, 'hk' || u, NULL, 1000000000::bigint * u, u * 100, 0, 5, 0, 0, u = 0, true, e.b - 1,
       CASE WHEN u = 0 THEN ARRAY[1, 2] ELSE '{}' END, CASE WHEN u = 0 THEN ARRAY[30000, 35535] ELSE '{}' END,
       '{}', '{}'
  FROM (VALUES (10), (20), (30)) e(b), generate_series(1, 2) n, generate_series(0, 3) u;

INSERT INTO candles (netuid, interval, bucket_start, first_block, last_block, blocks, open, high, low, close,
                     twap, moving_price, market_cap_tao, liquidity_tao, volume_rao, trades)
SELECT n, iv, timestamptz '2025-01-01 00:00:00+00' + k * interval '1 hour', k * 10 + 1, k * 10 + 10, 10,
       1.0, 2.0, 0.5, 1.5, 1.25, NULL, 100.0, 50.0, 2500000000, 3
  FROM generate_series(1, 2) n, unnest(ARRAY['5m', '1h']) iv, generate_series(0, 3) k;

INSERT INTO emissions_daily (netuid, day, first_block, last_block, blocks, tao_in, alpha_in, alpha_out,
                             owner_alpha, miner_alpha, validator_alpha, root_alpha, tao_share, cum_tao_in,
                             cum_alpha_in, cum_alpha_out, era)
SELECT n, date '2025-01-01' + d, d * 20, d * 20 + 19, 20, 1000000000, 2, 3, 4, 5, 6, 7, 0.5,
       1000000000::bigint * (d + 1), 2, 3, 'dtao'
  FROM generate_series(1, 2) n, generate_series(0, 1) d;

INSERT INTO flows_daily (netuid, day, first_block, last_block, tao_in, tao_out, net_flow, stakes, unstakes,
                         ema_flow)
SELECT n, date '2025-01-01' + d, d * 20, d * 20 + 19, 3000000000, 1000000000, 2000000000, 4, 2, 1.5e9
  FROM generate_series(1, 2) n, generate_series(0, 1) d;

INSERT INTO miner_rankings (netuid, block_number, uid, hotkey, coldkey, incentive, emission_alpha, emission_tao,
                            rank_incentive, rank_emission, rank_change, stability_cv, epochs_in_window)
SELECT n, b, u, 'hk' || u, 'ck', 0.25 * u, 1000000000::bigint * u, 0.5 * u, u, u, NULL, NULL, 1
  FROM (VALUES (10), (20), (30)) e(b), generate_series(1, 2) n, generate_series(1, 3) u;

INSERT INTO validator_rankings (netuid, block_number, uid, hotkey, coldkey, dividends, validator_trust,
                                stake_alpha, stake_tao, emission_alpha, emission_tao, epoch_yield, apy,
                                rank_dividends, rank_stake, rank_change)
SELECT n, b, 0, 'hk0', NULL, 1.0, 1.0, 5000000000, 2.5, 1000000000, 0.5, 0.001, 0.4, 1, 1, 0
  FROM (VALUES (10), (20), (30)) e(b), generate_series(1, 2) n;

INSERT INTO yuma_audit (netuid, block_number, uids, validators, bonds_model, tolerance, max_incentive_dev,
                        max_dividends_dev, max_deviation, uids_beyond, status, note)
SELECT n, b, 4, 1, 'yuma2', 0.001, 0.0, 0.0, 0.0, CASE WHEN b = 20 THEN ARRAY[2, 3] ELSE '{}' END,
       CASE WHEN b = 20 THEN 'deviates' ELSE 'exact' END, NULL
  FROM (VALUES (10), (20), (30)) e(b), generate_series(1, 2) n;
";

async fn seeded() -> Seeded {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    insert_blocks(&client, 40).await;
    client.batch_execute(SEED).await.expect("seed");
    let app = router(db.url(), 4);
    Seeded { _db: db, client, app }
}

/// `GET path`: status, headers and body bytes.
async fn fetch(app: &Router, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("complete body").to_bytes().to_vec();
    (status, headers, body)
}

/// Reads a Parquet file (on a plain thread: Polars must not run on the test's runtime).
fn read_parquet(bytes: Vec<u8>) -> DataFrame {
    std::thread::spawn(move || {
        ParquetReader::new(std::io::Cursor::new(bytes)).finish().expect("valid Parquet")
    })
    .join()
    .unwrap()
}

/// Exports `path` and reads the file back, checking the headers and the schema.
async fn export(app: &Router, dataset: Dataset, query: &str) -> DataFrame {
    let path = format!("/exports/{}.parquet{query}", dataset.name());
    let (status, headers, body) = fetch(app, &path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&body));
    assert_eq!(headers[header::CONTENT_TYPE], "application/vnd.apache.parquet");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"{}.parquet\"", dataset.name()).as_str()
    );
    let df = read_parquet(body);
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, dataset.column_names(), "{path}");
    df
}

fn utc_micros() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
}

fn dtype(df: &DataFrame, column: &str) -> DataType {
    df.column(column).unwrap_or_else(|_| panic!("column {column}")).dtype().clone()
}

async fn count(client: &Client, sql: &str) -> usize {
    let n: i64 = client.query_one(sql, &[]).await.unwrap().get(0);
    usize::try_from(n).unwrap()
}

/// The microseconds since the epoch of the blocks' timestamps (as the export writes them).
fn block_micros(block: i64) -> Option<i64> {
    (block > 0).then(|| (1_735_689_600 + 12 * block) * 1_000_000)
}

#[tokio::test]
async fn pool_state_matches_the_database() {
    let s = seeded().await;
    let df = export(&s.app, Dataset::PoolState, "").await;
    assert_eq!(df.height(), 160);
    for (column, expected) in [
        ("block_number", DataType::Int64),
        ("timestamp", utc_micros()),
        ("netuid", DataType::Int32),
        ("tao_rao", DataType::Int64),
        ("tao", DataType::Float64),
        ("price", DataType::Float64),
        ("price_source", DataType::String),
        ("volume_rao", DataType::Float64),
        ("volume", DataType::Float64),
    ] {
        assert_eq!(dtype(&df, column), expected, "{column}");
    }
    let rows = s
        .client
        .query(
            "SELECT block_number, netuid, tao, price::float8, moving_price::float8, sqrt_price::float8,
                    alpha_in_emission, volume::float8, price_source
               FROM pool_state ORDER BY block_number, netuid",
            &[],
        )
        .await
        .unwrap();
    let blocks = df.column("block_number").unwrap().i64().unwrap().clone();
    let times = df.column("timestamp").unwrap().datetime().unwrap().physical().clone();
    let netuids = df.column("netuid").unwrap().i32().unwrap().clone();
    let tao_rao = df.column("tao_rao").unwrap().i64().unwrap().clone();
    let tao = df.column("tao").unwrap().f64().unwrap().clone();
    let price = df.column("price").unwrap().f64().unwrap().clone();
    let moving = df.column("moving_price").unwrap().f64().unwrap().clone();
    let sqrt = df.column("sqrt_price").unwrap().f64().unwrap().clone();
    let alpha_in_emission = df.column("alpha_in_emission_rao").unwrap().i64().unwrap().clone();
    let volume_rao = df.column("volume_rao").unwrap().f64().unwrap().clone();
    let source = df.column("price_source").unwrap().str().unwrap().clone();
    for (i, row) in rows.iter().enumerate() {
        let block: i64 = row.get(0);
        assert_eq!(blocks.get(i), Some(block));
        assert_eq!(times.get(i), block_micros(block));
        assert_eq!(netuids.get(i), Some(row.get(1)));
        let rao: i64 = row.get(2);
        assert_eq!(tao_rao.get(i), Some(rao));
        assert_eq!(tao.get(i), Some(rao as f64 / 1e9));
        // Bit for bit what PostgreSQL's own numeric → float8 cast gives.
        assert_eq!(price.get(i).map(f64::to_bits), Some(row.get::<_, f64>(3).to_bits()), "row {i}");
        assert_eq!(moving.get(i).map(f64::to_bits), row.get::<_, Option<f64>>(4).map(f64::to_bits));
        assert_eq!(sqrt.get(i), row.get::<_, Option<f64>>(5));
        assert_eq!(alpha_in_emission.get(i), row.get::<_, Option<i64>>(6));
        assert_eq!(volume_rao.get(i).map(f64::to_bits), Some(row.get::<_, f64>(7).to_bits()));
        assert_eq!(source.get(i), Some(row.get::<_, &str>(8)));
    }
}

#[tokio::test]
async fn filters_select_subsets() {
    let s = seeded().await;
    let df = export(&s.app, Dataset::PoolState, "?netuid=2&from_block=5&to_block=9").await;
    assert_eq!(df.height(), 5);
    let blocks: Vec<i64> = df.column("block_number").unwrap().i64().unwrap().into_no_null_iter().collect();
    assert_eq!(blocks, vec![5, 6, 7, 8, 9]);
    assert!(df.column("netuid").unwrap().i32().unwrap().into_no_null_iter().all(|n| n == 2));

    let stake = export(&s.app, Dataset::StakeEvents, "?netuid=1").await;
    assert_eq!(stake.height(), count(&s.client, "SELECT count(*) FROM stake_ledger WHERE netuid = 1").await);

    let hourly = export(&s.app, Dataset::Candles, "?interval=1h").await;
    assert_eq!(hourly.height(), 8);
    let intervals = hourly.column("interval").unwrap().str().unwrap().clone();
    assert!((0..hourly.height()).all(|i| intervals.get(i) == Some("1h")));
    let all = export(&s.app, Dataset::Candles, "").await;
    assert_eq!(all.height(), 16, "every interval without the filter");
    // Candles cover blocks k*10+1..=k*10+10: blocks 15..=21 touch the buckets k = 1 and 2.
    let overlapping =
        export(&s.app, Dataset::Candles, "?interval=5m&netuid=1&from_block=15&to_block=21").await;
    let firsts: Vec<i64> =
        overlapping.column("first_block").unwrap().i64().unwrap().into_no_null_iter().collect();
    assert_eq!(firsts, vec![11, 21]);

    let days = export(&s.app, Dataset::Emissions, "?from_block=20").await;
    assert_eq!(days.height(), 2, "the second day of both subnets");
    let flows = export(&s.app, Dataset::Flows, "?to_block=19&netuid=2").await;
    assert_eq!(flows.height(), 1);

    let empty = export(&s.app, Dataset::PoolState, "?from_block=1000").await;
    assert_eq!(empty.height(), 0);
    assert_eq!(dtype(&empty, "timestamp"), utc_micros());
    let empty = export(&s.app, Dataset::YumaAudit, "?netuid=77").await;
    assert_eq!(empty.height(), 0);
    assert_eq!(dtype(&empty, "uids_beyond"), DataType::List(Box::new(DataType::Int32)));
}

#[tokio::test]
async fn every_dataset_exports_every_row() {
    let s = seeded().await;
    for (dataset, table) in [
        (Dataset::Blocks, "blocks"),
        (Dataset::Events, "events"),
        (Dataset::StakeEvents, "stake_ledger"),
        (Dataset::PoolState, "pool_state"),
        (Dataset::Candles, "candles"),
        (Dataset::Emissions, "emissions_daily"),
        (Dataset::Flows, "flows_daily"),
        (Dataset::Neurons, "metagraph"),
        (Dataset::MinerRankings, "miner_rankings"),
        (Dataset::ValidatorRankings, "validator_rankings"),
        (Dataset::YumaAudit, "yuma_audit"),
        (Dataset::InferenceAudits, "inference_audits"),
    ] {
        let df = export(&s.app, dataset, "").await;
        let expected = count(&s.client, &format!("SELECT count(*) FROM {table}")).await;
        assert_eq!(df.height(), expected, "{dataset}");
    }

    let blocks = export(&s.app, Dataset::Blocks, "?from_block=3&to_block=3").await;
    let hash: String = s
        .client
        .query_one("SELECT encode(hash, 'hex') FROM blocks WHERE number = 3", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(blocks.column("hash").unwrap().str().unwrap().get(0), Some(format!("0x{hash}").as_str()));
    assert_eq!(dtype(&blocks, "timestamp"), utc_micros());
    assert_eq!(dtype(&blocks, "spec_version"), DataType::Int32);
    let genesis = export(&s.app, Dataset::Blocks, "?to_block=0").await;
    assert_eq!(genesis.column("timestamp").unwrap().null_count(), 1);

    let events = export(&s.app, Dataset::Events, "?from_block=7&to_block=7").await;
    let data: Value =
        serde_json::from_str(events.column("data").unwrap().str().unwrap().get(1).unwrap()).unwrap();
    assert_eq!(data, serde_json::json!({"amount": 71, "who": "x"}));
    assert_eq!(events.column("timestamp").unwrap().datetime().unwrap().physical().get(0), block_micros(7));

    let stake = export(&s.app, Dataset::StakeEvents, "?to_block=2").await;
    assert_eq!(stake.column("netuid").unwrap().null_count(), 6, "pre-dTAO rows have no subnet");
    assert_eq!(stake.column("tao").unwrap().f64().unwrap().get(1), Some(1.5));
    assert_eq!(stake.column("fee_rao").unwrap().i64().unwrap().get(1), Some(1000));

    let neurons = export(&s.app, Dataset::Neurons, "?netuid=1&from_block=20&to_block=20").await;
    assert_eq!(neurons.height(), 4);
    assert_eq!(dtype(&neurons, "weights"), DataType::List(Box::new(DataType::Int32)));
    let weights = neurons.column("weights").unwrap().list().unwrap().get_as_series(0).unwrap();
    assert_eq!(weights.i32().unwrap().into_no_null_iter().collect::<Vec<_>>(), vec![30000, 35535]);
    let none = neurons.column("weights").unwrap().list().unwrap().get_as_series(1).unwrap();
    assert_eq!(none.len(), 0);
    assert_eq!(neurons.column("validator_permit").unwrap().bool().unwrap().get(0), Some(true));
    assert_eq!(neurons.column("stake").unwrap().f64().unwrap().get(3), Some(3.0));
    assert_eq!(neurons.column("timestamp").unwrap().datetime().unwrap().physical().get(0), block_micros(20));

    let emissions = export(&s.app, Dataset::Emissions, "?netuid=1").await;
    assert_eq!(dtype(&emissions, "day"), DataType::Date);
    assert_eq!(
        emissions.column("day").unwrap().date().unwrap().physical().get(1),
        Some(20_090),
        "2025-01-02"
    );
    assert_eq!(emissions.column("tao_in").unwrap().f64().unwrap().get(0), Some(1.0));

    let flows = export(&s.app, Dataset::Flows, "?netuid=1").await;
    assert_eq!(flows.column("ema_flow").unwrap().f64().unwrap().get(0), Some(1.5));
    assert_eq!(flows.column("ema_flow_rao").unwrap().f64().unwrap().get(0), Some(1.5e9));

    let miners = export(&s.app, Dataset::MinerRankings, "?netuid=2&from_block=20&to_block=20").await;
    assert_eq!(miners.height(), 3);
    assert_eq!(miners.column("timestamp").unwrap().datetime().unwrap().physical().get(0), block_micros(20));
    assert_eq!(miners.column("emission_alpha_rao").unwrap().i64().unwrap().get(2), Some(3_000_000_000));

    let audit = export(&s.app, Dataset::YumaAudit, "?netuid=1").await;
    let beyond = audit.column("uids_beyond").unwrap().list().unwrap().get_as_series(1).unwrap();
    assert_eq!(beyond.i32().unwrap().into_no_null_iter().collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(audit.column("status").unwrap().str().unwrap().get(1), Some("deviates"));
    assert_eq!(audit.column("note").unwrap().null_count(), 3);
}

/// Rows stored out of key order, over enough blocks for several ranges read by two
/// connections, still come out sorted, each once.
#[tokio::test]
async fn large_exports_are_read_in_ranges_and_come_out_sorted() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    insert_blocks(&client, 3000).await;
    // Newest blocks first and subnets descending: storage order is the reverse of key order.
    client
        .batch_execute(
            "INSERT INTO pool_state (block_number, netuid, tao, alpha_in, alpha_out, price, price_source)
             SELECT b, n, b * 10 + n, 1, 1, 1.5, 'reserves'
               FROM generate_series(1, 3000) b, generate_series(0, 4) n
              ORDER BY b DESC, n DESC",
        )
        .await
        .unwrap();
    let app = router(db.url(), 4);
    let df = export(&app, Dataset::PoolState, "").await;
    assert_eq!(df.height(), 15_000);
    let blocks: Vec<i64> = df.column("block_number").unwrap().i64().unwrap().into_no_null_iter().collect();
    let netuids: Vec<i32> = df.column("netuid").unwrap().i32().unwrap().into_no_null_iter().collect();
    for i in 0..df.height() {
        assert_eq!((blocks[i], netuids[i]), (1 + i as i64 / 5, (i % 5) as i32), "row {i}");
    }
    let tao: Vec<i64> = df.column("tao_rao").unwrap().i64().unwrap().into_no_null_iter().collect();
    assert!(tao.iter().zip(&blocks).zip(&netuids).all(|((t, b), n)| *t == b * 10 + i64::from(*n)));

    let some = export(&app, Dataset::PoolState, "?netuid=3&from_block=1000").await;
    assert_eq!(some.height(), 2001);
}

#[tokio::test]
async fn bad_requests_are_400_with_a_reason() {
    let s = seeded().await;
    for path in [
        "/exports/nope.parquet",
        "/exports/blocks.parquet?netuid=1",
        "/exports/events.parquet?netuid=1",
        "/exports/pool_state.parquet?from_block=10&to_block=9",
        "/exports/pool_state.parquet?netuid=abc",
        "/exports/pool_state.parquet?netuid=65536",
        "/exports/pool_state.parquet?from_block=-3",
        "/exports/pool_state.parquet?interval=1h",
        "/exports/candles.parquet?interval=2h",
        "/exports/candles.parquet?netuid=1&netuid=2",
        "/exports/candles.parquet?to=5",
    ] {
        let (status, headers, body) = fetch(&s.app, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "BAD_USER_INPUT", "{path}: {body}");
        assert_eq!(body["status"], "bad_user_input");
        assert!(body["reason"].as_str().is_some_and(|r| !r.is_empty()), "{body}");
    }
    let (status, _, body) = fetch(&s.app, "/exports/pool_state.csv").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_database_that_is_down_is_503() {
    let app = router("postgres://postgres@127.0.0.1:1/taoscope", 2);
    let (status, _, body) = fetch(&app, "/exports/pool_state.parquet").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], "UNAVAILABLE");
    assert!(!body.to_string().contains("127.0.0.1"), "no connection details: {body}");
}

/// Statements copying out, and sessions in a transaction, on database `name` (but this one).
async fn activity(client: &Client, name: &str) -> (i64, i64) {
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE query LIKE 'COPY%' AND state = 'active'),
                    count(*) FILTER (WHERE state LIKE 'idle in transaction%')
               FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// A client that reads one chunk and goes away stops the export: no statement keeps running
/// and no connection is left in a transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_stops_the_export() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    insert_blocks(&client, 20_000).await;
    client
        .batch_execute(
            "INSERT INTO pool_state (block_number, netuid, tao, alpha_in, alpha_out, price, price_source)
             SELECT b, n, b, 1, 1, b::numeric / 3, md5(b::text || n::text)
               FROM generate_series(1, 20000) b, generate_series(0, 19) n",
        )
        .await
        .unwrap();
    let app = router(db.url(), 4);
    let request = Request::get("/exports/pool_state.parquet").body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let first = body.frame().await.expect("a first chunk").expect("no error");
    assert!(first.data_ref().is_some_and(|d| d.starts_with(b"PAR1")));
    drop(body);

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (copying, in_transaction) = activity(&client, db.name()).await;
        if copying == 0 && in_transaction == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{copying} COPY still running, {in_transaction} sessions in a transaction"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The pool still serves: a new export works.
    let df = export(&app, Dataset::PoolState, "?netuid=1&to_block=10").await;
    assert_eq!(df.height(), 10);
}
