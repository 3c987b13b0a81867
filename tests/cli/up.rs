//! `taoscope up` and `taoscope devnet` as a user runs them.

use std::time::Duration;

use serde_json::Value;
use taoscope_schema::testing::TestDb;

use crate::support::{Running, graphql, run, taoscope};

#[tokio::test]
async fn up_runs_devnet_indexer_and_api_and_stops_cleanly_on_ctrl_c() {
    let db = TestDb::empty().await;
    let metrics = crate::support::taken_port().local_addr().unwrap();
    let mut cmd = taoscope();
    cmd.args(["up", "--listen", "127.0.0.1:0", "--database-url", db.url()])
        .args(["--metrics-listen", &metrics.to_string()])
        .args([
            "--devnet-blocks",
            "40",
            "--block-time",
            "200ms",
            "--subnets",
            "4",
            "--upgrade-at",
            "20",
            "--tempo",
            "9",
        ]);
    let mut up = Running::spawn(cmd);
    let api = up.wait_line("API: ", Duration::from_secs(90));
    let base = api.split_whitespace().next().unwrap().trim_end_matches("/graphql").to_string();

    // The indexer reaches past the prebuilt history: live devnet blocks are being indexed.
    let status = tokio::time::timeout(Duration::from_secs(90), async {
        loop {
            let s = graphql(&base, "{ status { chain finalizedHeight indexedHeight specVersion } }").await;
            if s["data"]["status"]["indexedHeight"].as_u64().unwrap_or(0) >= 45 {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("indexed past block 45");
    assert_eq!(status["data"]["status"]["chain"], "Taoscope Devnet");
    assert_eq!(status["data"]["status"]["specVersion"], 343);
    assert!(status["data"]["status"]["finalizedHeight"].as_u64().unwrap() >= 45);

    // Newest-first pages with cursors.
    let page = graphql(&base, "{ blocks(first: 5) { nodes { number specVersion eventCount extrinsicCount timestamp } pageInfo { hasNextPage endCursor } } }").await;
    let nodes = page["data"]["blocks"]["nodes"].as_array().unwrap().clone();
    let numbers: Vec<u64> = nodes.iter().map(|n| n["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers.len(), 5);
    assert!(numbers.windows(2).all(|w| w[0] == w[1] + 1), "{numbers:?}");
    assert!(nodes.iter().all(|n| n["extrinsicCount"].as_i64().unwrap() >= 1 && n["timestamp"].is_string()));
    let cursor = page["data"]["blocks"]["pageInfo"]["endCursor"].as_str().unwrap();
    let next =
        graphql(&base, &format!("{{ blocks(first: 2, after: \"{cursor}\") {{ nodes {{ number }} }} }}"))
            .await;
    assert_eq!(next["data"]["blocks"]["nodes"][0]["number"].as_u64().unwrap(), numbers[4] - 1);

    // The runtime upgrade at block 20: executed by 233, the next by 343.
    let upgrade =
        graphql(&base, "{ a: block(number: 20) { specVersion } b: block(number: 21) { specVersion } }").await;
    assert_eq!(upgrade["data"]["a"]["specVersion"], 233);
    assert_eq!(upgrade["data"]["b"]["specVersion"], 343);

    let client = reqwest::Client::new();
    let graphiql = client.get(format!("{base}/graphql")).send().await.unwrap().text().await.unwrap();
    assert!(graphiql.to_lowercase().contains("graphiql"));
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
    let ready: Value = client.get(format!("{base}/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");

    // Prometheus metrics of the indexer.
    let text = client.get(format!("http://{metrics}/metrics")).send().await.unwrap().text().await.unwrap();
    for name in [
        "taoscope_blocks_indexed_total",
        "taoscope_head_lag_blocks",
        "taoscope_rpc_seconds_bucket",
        "taoscope_rows_written_total",
    ] {
        assert!(text.contains(name), "{name} in /metrics:\n{text}");
    }

    let (status, lines) = up.interrupt(Duration::from_secs(30));
    assert!(status.success(), "exit status {status:?}; stdout {lines:?}");
    assert!(lines.iter().any(|l| l == "taoscope stopped cleanly"), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("devnet: ws://127.0.0.1:")), "{lines:?}");
}

#[tokio::test]
async fn devnet_command_serves_json_rpc_until_ctrl_c() {
    let port = crate::support::taken_port().local_addr().unwrap().port();
    let mut cmd = taoscope();
    cmd.args([
        "devnet",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--prebuilt",
        "5",
        "--block-time",
        "250ms",
        "--subnets",
        "2",
    ]);
    let mut devnet = Running::spawn(cmd);
    let banner = devnet.wait_line("devnet: ", Duration::from_secs(60));
    assert!(banner.starts_with(&format!("ws://127.0.0.1:{port}")), "{banner}");
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "system_properties", "params": [] });
    let answer: Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["result"]["tokenSymbol"], "TAO");
    let (status, _) = devnet.interrupt(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn migrate_creates_a_missing_database() {
    let db = TestDb::empty().await;
    let url = format!("{}_created", db.url());
    let name = format!("{}_created", db.name());
    let out = run({
        let mut c = taoscope();
        c.args(["migrate", "--database-url", &url]);
        c
    });
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("database is up to date"));
    let client = db.client().await;
    let tables: i64 = client
        .query_one("SELECT count(*) FROM pg_database WHERE datname = $1", &[&name])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 1);
    client.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)")).await.unwrap();
}
