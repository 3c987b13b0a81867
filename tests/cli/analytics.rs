//! `taoscope analytics`: a run over an indexed devnet prints its report as JSON, a second run has
//! nothing to do, and an unreachable database is one clear error.

use serde_json::Value;
use taoscope_devnet::{Devnet, DevnetConfig};
use taoscope_indexer::{Indexer, IndexerConfig};
use taoscope_schema::testing::TestDb;

use crate::support::{assert_one_line_error, run, taoscope};

fn analytics(url: &str, extra: &[&str]) -> std::process::Output {
    let mut c = taoscope();
    c.args(["analytics", "--database-url", url]).args(extra);
    run(c)
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_incrementally_and_reports_json() {
    let devnet = Devnet::new(DevnetConfig {
        subnets: 2,
        prebuilt: 60,
        tempo: 9,
        max_uids: 8,
        ..DevnetConfig::default()
    })
    .unwrap();
    let server = taoscope_devnet::serve(devnet, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let db = TestDb::empty().await;
    let mut indexer = Indexer::connect(IndexerConfig::new(server.ws_url(), db.url())).await.unwrap();
    indexer.catch_up(&mut |_| {}).await.unwrap();
    server.stop().await;

    let out = analytics(db.url(), &["--up-to", "30"]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let first: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    assert_eq!(first["to_block"], 30);
    let out = analytics(db.url(), &[]);
    let second: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    assert!(second["to_block"].as_u64().unwrap() > 30, "{second}");
    assert!(second["epochs_audited"].as_u64().unwrap() > 0, "{second}");
    assert_eq!(second["epochs_deviating"], 0, "{second}");
    let out = analytics(db.url(), &[]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), r#"{"up_to_date": true}"#);
}

#[test]
fn an_unreachable_database_is_one_error() {
    let out = analytics("postgres://postgres@127.0.0.1:1/taoscope", &[]);
    assert_one_line_error(&out, "127.0.0.1:1");
}
