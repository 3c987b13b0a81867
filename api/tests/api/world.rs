//! A real indexed and analysed chain for the query tests: the deterministic devnet (three
//! subnets, a runtime upgrade, epochs every ten blocks) indexed by the indexer and run through
//! the analytics, with block times stretched to 20 minutes so that the history spans days.

use axum::Router;
use serde_json::Value;
use taoscope_analytics::{AnalyticsOptions, run};
use taoscope_devnet::{Devnet, DevnetConfig};
use taoscope_indexer::{Indexer, IndexerConfig};
use taoscope_schema::testing::TestDb;
use tokio_postgres::Client;

use crate::support::app_for;

/// Blocks of history.
pub const BLOCKS: u32 = 200;

/// The database, a router over it and a direct connection for the expected values.
pub struct World {
    /// Kept alive for the test's duration.
    pub db: TestDb,
    /// The router under test.
    pub app: Router,
    /// For SQL cross-checks.
    pub client: Client,
}

/// Builds the world (a few seconds).
pub async fn world() -> World {
    let devnet = Devnet::new(DevnetConfig {
        subnets: 3,
        prebuilt: BLOCKS,
        seed: 5,
        finality_lag: 0,
        upgrade_at: Some(90),
        tempo: 9,
        max_uids: 12,
        trades_per_block: 8,
        ..DevnetConfig::default()
    })
    .expect("devnet");
    let server = taoscope_devnet::serve(devnet, "127.0.0.1:0".parse().expect("addr")).await.expect("serve");
    let db = TestDb::empty().await;
    let mut indexer =
        Indexer::connect(IndexerConfig { batch_size: 50, ..IndexerConfig::new(server.ws_url(), db.url()) })
            .await
            .expect("indexer");
    indexer.catch_up(&mut |_| {}).await.expect("index");
    server.stop().await;
    let mut client = db.client().await;
    client
        .execute(
            "UPDATE blocks SET timestamp = timestamptz '2025-02-13 00:00:00+00' + number * interval '20 minutes'
             WHERE timestamp IS NOT NULL",
            &[],
        )
        .await
        .expect("stretch time");
    let options = AnalyticsOptions { max_days: 365, ..AnalyticsOptions::default() };
    run(&mut client, &options).await.expect("analytics").expect("work to do");
    let app = app_for(db.url());
    World { db, app, client }
}

impl World {
    /// A query's `data`, which must have no errors.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        crate::support::data(&self.app, query, variables).await
    }

    /// One SQL value.
    pub async fn scalar<T: for<'a> tokio_postgres::types::FromSql<'a>>(&self, sql: &str) -> T {
        self.client.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
    }
}
