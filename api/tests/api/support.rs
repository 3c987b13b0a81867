//! Shared fixtures: per-test databases wired into the router, SQL row builders, and request
//! helpers that return status and decoded bodies.

use std::ops::RangeInclusive;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use taoscope_api::{ApiState, app, pool};
use taoscope_schema::testing::TestDb;
use tokio_postgres::Client;
use tower::ServiceExt;

/// A migrated database and a router reading it.
pub struct Fixture {
    /// Kept alive for the test's duration (dropping it drops the database).
    pub _db: TestDb,
    /// The router under test.
    pub app: Router,
    /// A direct connection for inserting rows.
    pub client: Client,
}

/// A router over `url`.
pub fn app_for(url: &str) -> Router {
    app(ApiState::new(pool(url, 4).expect("pool")))
}

/// A fresh migrated database with the API in front.
pub async fn fixture() -> Fixture {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let app = app_for(db.url());
    Fixture { _db: db, app, client }
}

/// A deterministic 32-byte hash for block `n`.
pub fn block_hash(n: u64) -> [u8; 32] {
    let mut h = [0xb1; 32];
    h[24..].copy_from_slice(&n.to_be_bytes());
    h
}

/// `0x`-hex of [`block_hash`].
pub fn block_hash_hex(n: u64) -> String {
    let hex: String = block_hash(n).iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{hex}")
}

/// Block `n`'s timestamp: none for genesis, then 12 s apart.
pub fn block_time(n: u64) -> Option<DateTime<Utc>> {
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("valid date");
    (n > 0).then(|| start + chrono::Duration::seconds(12 * i64::try_from(n).expect("small")))
}

/// Inserts a `runtime_versions` row (blocks reference it).
pub async fn insert_runtime(client: &Client, spec_version: i32, first_block: i64) {
    client
        .execute(
            "INSERT INTO runtime_versions (spec_version, spec_name, impl_version, transaction_version,
                                           metadata_version, metadata, first_block)
             VALUES ($1, 'node-subtensor', 1, 1, 15, '\\x00'::bytea, $2)",
            &[&spec_version, &first_block],
        )
        .await
        .expect("insert runtime");
}

/// Inserts blocks `numbers` run by `spec_version`, with `event_count = 2n` and
/// `extrinsic_count = n % 3 + 1`.
pub async fn insert_blocks(client: &Client, numbers: RangeInclusive<u64>, spec_version: i32) {
    for n in numbers {
        let parent = if n == 0 { [0u8; 32] } else { block_hash(n - 1) };
        let number = i64::try_from(n).expect("small");
        let events = i32::try_from(2 * n).expect("small");
        let extrinsics = i32::try_from(n % 3 + 1).expect("small");
        client
            .execute(
                "INSERT INTO blocks (number, hash, parent_hash, state_root, extrinsics_root,
                                     timestamp, spec_version, event_count, extrinsic_count)
                 VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)",
                &[
                    &number,
                    &block_hash(n).as_slice(),
                    &parent.as_slice(),
                    &[0u8; 32].as_slice(),
                    &block_time(n),
                    &spec_version,
                    &events,
                    &extrinsics,
                ],
            )
            .await
            .expect("insert block");
    }
}

/// Sends `request` and returns the status, content type and body text.
pub async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String, String) {
    let response = app.clone().oneshot(request).await.expect("router is infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, content_type, String::from_utf8(bytes.to_vec()).expect("utf-8 body"))
}

/// `GET path`.
pub async fn get(app: &Router, path: &str) -> (StatusCode, String, String) {
    let request = Request::get(path).body(Body::empty()).expect("request");
    send(app, request).await
}

/// POSTs a GraphQL query; returns the HTTP status and the JSON response.
pub async fn graphql(app: &Router, query: &str, variables: Value) -> (StatusCode, Value) {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request");
    let (status, _, text) = send(app, request).await;
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, json)
}

/// POSTs a query that must succeed; returns its `data`.
pub async fn data(app: &Router, query: &str, variables: Value) -> Value {
    let (status, body) = graphql(app, query, variables).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"].clone()
}

/// POSTs a query that must fail with one GraphQL error (in a 200 response); returns the error.
pub async fn error(app: &Router, query: &str, variables: Value) -> Value {
    let (status, body) = graphql(app, query, variables).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("no errors: {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    errors[0].clone()
}
