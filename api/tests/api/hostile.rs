//! Hostile and malformed requests: every one gets a client error with a stable code (4xx, or a
//! GraphQL error whose code is a client one), never a 5xx, a panic or a leaked internal. And API
//! keys with per-key export quotas.

use std::num::NonZeroU32;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use taoscope_api::{ApiConfig, ApiKey, ApiState, app};

use crate::support::{fixture, graphql, insert_blocks, insert_runtime, send};

const CLIENT_CODES: &[&str] =
    &["BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "NOT_FOUND"];

fn assert_client_error(status: StatusCode, body: &Value, what: &str) {
    assert!(!status.is_server_error(), "{what}: {status} {body}");
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("{what}: no errors: {body}"));
    for e in errors {
        let code = e["extensions"]["code"].as_str().unwrap_or_else(|| panic!("{what}: no code: {body}"));
        assert!(CLIENT_CODES.contains(&code), "{what}: code {code}: {body}");
        let message = e["message"].as_str().unwrap_or_default().to_lowercase();
        for leak in ["select ", "postgres", "sqlstate", "panicked", "tokio_postgres", "src/"] {
            assert!(!message.contains(leak), "{what}: leaks {leak:?}: {body}");
        }
    }
}

#[tokio::test]
async fn hostile_and_malformed_queries_get_client_errors() {
    let f = fixture().await;
    insert_runtime(&f.client, 233, 0).await;
    insert_blocks(&f.client, 0..=20, 233).await;
    let deep_selection = format!(
        "{{ blocks {{ edges {{ node {{ extrinsics {{ edges {{ node {{ {} }} }} }} }} }} }} }}",
        "args ".repeat(3)
    );
    let nested_fragments = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
    let many_aliases: String = (0..200).map(|i| format!("a{i}: status {{ chain }} ")).collect();
    let cases: Vec<(&str, String, Value)> = vec![
        (
            "deep nesting",
            format!("{{ {}__typename{} }}", "... on Query { ".repeat(500), " }".repeat(500)),
            json!({}),
        ),
        (
            "deep introspection",
            format!("{{ __schema {{ types {{ {}name{} }} }} }}", "ofType { ".repeat(40), " }".repeat(40)),
            json!({}),
        ),
        ("huge first", "{ blocks(first: 1000000) { edges { cursor } } }".into(), json!({})),
        ("negative first", "{ blocks(first: -5) { edges { cursor } } }".into(), json!({})),
        ("first beyond Int", "{ blocks(first: 99999999999) { edges { cursor } } }".into(), json!({})),
        ("wrong type", "{ blocks(first: \"ten\") { edges { cursor } } }".into(), json!({})),
        (
            "wrong variable type",
            "query($n: Int!) { subnet(netuid: $n) { netuid } }".into(),
            json!({ "n": "x" }),
        ),
        ("missing variable", "query($n: Int!) { subnet(netuid: $n) { netuid } }".into(), json!({})),
        ("unknown field", "{ blocks { edges { node { password } } } }".into(), json!({})),
        ("syntax error", "{ blocks { edges { ".into(), json!({})),
        ("empty query", String::new(), json!({})),
        ("injection in hash", "{ block(hash: \"0x'; DROP TABLE blocks; --\") { number } }".into(), json!({})),
        (
            "injection in pallet",
            "{ events(pallet: \"x' OR '1'='1\", fromBlock: 0, toBlock: 10) { edges { cursor } } }".into(),
            json!({}),
        ),
        ("injection in ss58", "{ account(coldkey: \"' OR 1=1 --\") { coldkey } }".into(), json!({})),
        (
            "injection in cursor",
            "{ blocks(after: \"YmxvY2s6MSk7IERST1AgVEFCTEUgYmxvY2tzOy0t\") { edges { cursor } } }".into(),
            json!({}),
        ),
        ("netuid out of range", "{ subnet(netuid: 70000) { netuid } }".into(), json!({})),
        (
            "unbounded scan",
            "{ events(pallet: \"Balances\", fromBlock: 0, toBlock: 99999999) { edges { cursor } } }".into(),
            json!({}),
        ),
        (
            "inverted range",
            "{ stakeEvents(fromBlock: 10, toBlock: 5) { edges { cursor } } }".into(),
            json!({}),
        ),
        (
            "twap window too long",
            "{ subnet(netuid: 1) { twap(from: \"2020-01-01T00:00:00Z\", to: \"2025-01-01T00:00:00Z\") } }"
                .into(),
            json!({}),
        ),
        (
            "bad date",
            "{ subnet(netuid: 1) { emissions(from: \"yesterday\") { edges { cursor } } } }".into(),
            json!({}),
        ),
        ("too many aliases", format!("{{ {many_aliases} }}"), json!({})),
        ("expensive nesting", deep_selection, json!({})),
        ("fragment cycle", nested_fragments.into(), json!({})),
        ("mutation", "mutation { x }".into(), json!({})),
        ("lastEpochs too many", "{ subnets { yumaAudit(lastEpochs: 100000) { status } } }".into(), json!({})),
    ];
    for (what, query, variables) in cases {
        let (status, body) = graphql(&f.app, &query, variables).await;
        if body["errors"].is_null() {
            // Only queries that are legitimately answerable may succeed.
            assert!(
                matches!(
                    what,
                    "deep nesting"
                        | "too many aliases"
                        | "injection in pallet"
                        | "netuid out of range"
                        | "lastEpochs too many"
                        | "twap window too long"
                        | "bad date"
                ),
                "{what}: {body}"
            );
            continue;
        }
        assert_client_error(status, &body, what);
    }

    // The injections were data, nothing ran.
    let blocks: i64 = f.client.query_one("SELECT count(*) FROM blocks", &[]).await.expect("count").get(0);
    assert_eq!(blocks, 21);

    // Not JSON, not a GraphQL request, wrong content type, oversized, a batch.
    for (what, content_type, body) in [
        ("malformed JSON", "application/json", "{\"query\": ".to_string()),
        ("JSON without query", "application/json", "{\"foo\": 1}".to_string()),
        ("wrong content type", "text/plain", "{ status { chain } }".to_string()),
        (
            "oversized",
            "application/json",
            json!({ "query": format!("{{ status {{ chain }} }} #{}", "x".repeat(taoscope_api::http::MAX_BODY_BYTES)) })
                .to_string(),
        ),
        ("binary garbage", "application/json", "\u{0}\u{1}\u{2}\u{fffd}".to_string()),
    ] {
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .expect("request");
        let (status, _, text) = send(&f.app, request).await;
        assert!(status.is_client_error(), "{what}: {status} {text}");
    }
}

fn keyed_app(url: &str) -> axum::Router {
    let config = ApiConfig {
        api_keys: vec![
            ApiKey { name: "alice".into(), secret: "alice-secret-0123456789".into() },
            ApiKey { name: "bob".into(), secret: "bob-secret-0123456789".into() },
        ],
        exports_per_minute: NonZeroU32::MIN,
        export_burst: NonZeroU32::new(2).expect("2"),
        ..ApiConfig::default()
    };
    app(ApiState::connect(url, 2, config).expect("state"))
}

async fn get_with_key(app: &axum::Router, path: &str, key: Option<&str>) -> StatusCode {
    let mut request = Request::get(path);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = tower::ServiceExt::oneshot(app.clone(), request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    response.status()
}

#[tokio::test]
async fn api_keys_guard_exports_with_per_key_quotas() {
    let f = fixture().await;
    let app = keyed_app(f._db.url());
    let export = "/exports/blocks.parquet";
    assert_eq!(get_with_key(&app, export, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(get_with_key(&app, export, Some("wrong-key-0123456789")).await, StatusCode::UNAUTHORIZED);
    // GraphQL stays open without a key, but a wrong key is refused everywhere.
    let (status, _) = graphql(&app, "{ status { chain } }", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-api-key", "nope-nope-nope-nope")
        .body(Body::from(json!({ "query": "{ status { chain } }" }).to_string()))
        .expect("request");
    assert_eq!(send(&app, request).await.0, StatusCode::UNAUTHORIZED);
    // Alice's burst of two, then 429; Bob's quota is his own.
    for _ in 0..2 {
        let status = get_with_key(&app, export, Some("alice-secret-0123456789")).await;
        assert_ne!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_ne!(status, StatusCode::UNAUTHORIZED);
    }
    let request = Request::get(export)
        .header("x-api-key", "alice-secret-0123456789")
        .body(Body::empty())
        .expect("request");
    let response = tower::ServiceExt::oneshot(app.clone(), request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get(header::RETRY_AFTER).is_some());
    assert_ne!(
        get_with_key(&app, export, Some("bob-secret-0123456789")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Probes and metrics need no key.
    assert_eq!(get_with_key(&app, "/healthz", None).await, StatusCode::OK);
}

#[tokio::test]
async fn responses_carry_request_ids_and_metrics_count_them() {
    let f = fixture().await;
    let state = ApiState::new(taoscope_api::pool(f._db.url(), 2).expect("pool"))
        .with_metrics(taoscope_api::telemetry::prometheus());
    let app = app(state);
    let request = Request::get("/healthz").body(Body::empty()).expect("request");
    let response = tower::ServiceExt::oneshot(app.clone(), request).await.expect("infallible");
    let id = response.headers().get("x-request-id").expect("request id").to_str().expect("ascii").to_string();
    assert!(id.contains('-'), "{id}");
    let request =
        Request::get("/healthz").header("x-request-id", "client-chosen-7").body(Body::empty()).expect("r");
    let response = tower::ServiceExt::oneshot(app.clone(), request).await.expect("infallible");
    assert_eq!(response.headers().get("x-request-id").expect("id"), "client-chosen-7");
    let _ = graphql(&app, "{ nope }", json!({})).await;
    let (status, _, text) = crate::support::get(&app, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("taoscope_api_request_duration_seconds_bucket"), "{text}");
    assert!(text.contains("route=\"/healthz\""), "{text}");
    assert!(text.contains("taoscope_api_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"}"), "{text}");
}
