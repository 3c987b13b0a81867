//! Plain HTTP routes and limits: liveness, readiness (ready, unmigrated, database down),
//! GraphiQL, body limit, query depth/complexity limits and introspection.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use taoscope_api::PgStore;
use taoscope_schema::testing::TestDb;

use crate::support::{app_for, data, fixture, get, graphql, send};

/// Guard against hangs: a request to a dead database must answer, not wait forever. Generous,
/// since tests never assert timings.
const HANG_GUARD: Duration = Duration::from_secs(30);

#[tokio::test]
async fn healthz_is_ok_even_without_a_database() {
    let app = app_for("postgres://postgres@127.0.0.1:1/x");
    let (status, _, body) = get(&app, "/healthz").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
}

#[tokio::test]
async fn readyz_is_ready_on_a_migrated_database() {
    let f = fixture().await;
    let (status, content_type, body) = get(&f.app, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let newest = taoscope_schema::MIGRATIONS.last().expect("a migration").version;
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body, json!({ "status": "ready", "schemaVersion": newest }));
}

#[tokio::test]
async fn readyz_is_unavailable_on_an_unmigrated_database() {
    let db = TestDb::empty().await;
    let app = app_for(db.url());
    let (status, _, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["code"], json!("UNAVAILABLE"));
    assert!(body["reason"].as_str().expect("reason").contains("not migrated"), "{body}");
}

#[tokio::test]
async fn a_dead_database_answers_unavailable_promptly() {
    let app = app_for("postgres://postgres@127.0.0.1:1/x");
    let (status, _, body) =
        tokio::time::timeout(HANG_GUARD, get(&app, "/readyz")).await.expect("readyz hung");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        body,
        json!({ "status": "unavailable", "code": "UNAVAILABLE", "reason": "database not answering" })
    );

    // GraphQL reports it as a GraphQL error with a stable code, not as an HTTP failure, and
    // does not leak the connection error.
    let (status, body) = tokio::time::timeout(HANG_GUARD, graphql(&app, "{ status { chain } }", json!({})))
        .await
        .expect("graphql hung");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["errors"][0]["extensions"]["code"], json!("UNAVAILABLE"), "{body}");
    assert_eq!(body["errors"][0]["message"], json!("database unavailable"), "{body}");
}

#[tokio::test]
async fn graphiql_is_served_on_get() {
    let app = app_for("postgres://postgres@127.0.0.1:1/x");
    let (status, content_type, body) = get(&app, "/graphql").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.to_lowercase().contains("graphiql"));
    assert!(body.contains("/graphql"));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = app_for("postgres://postgres@127.0.0.1:1/x");
    let query = format!("{{ status {{ chain }} }} # {}", "x".repeat(taoscope_api::http::MAX_BODY_BYTES));
    let body = json!({ "query": query }).to_string();
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .expect("request");
    let (status, _, _) = send(&app, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn introspection_works_and_expensive_queries_are_refused() {
    let f = fixture().await;
    let data = data(&f.app, INTROSPECTION, json!({})).await;
    let types = data["__schema"]["types"].as_array().expect("types");
    assert!(types.iter().any(|t| t["name"] == json!("BlockNumber")));

    let page =
        "edges { cursor node { number hash parentHash timestamp specVersion eventCount extrinsicCount } }";
    let aliases: String = (0..6).map(|i| format!("p{i}: blocks(first: 1000) {{ {page} }} ")).collect();
    let (status, body) = graphql(&f.app, &format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["extensions"]["code"], json!("GRAPHQL_VALIDATION_FAILED"), "{body}");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("too complex"), "{body}");

    let deep = format!(
        "{{ __schema {{ queryType {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(20),
        " }".repeat(20)
    );
    let (status, body) = graphql(&f.app, &deep, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("nested too deep"), "{body}");
}

#[tokio::test]
async fn api_sessions_are_read_only() {
    let db = TestDb::migrated().await;
    let store = PgStore::new(taoscope_api::pool(db.url(), 1).expect("pool"));
    let client = store.pool().get().await.expect("connection");
    let row = client.query_one("SHOW default_transaction_read_only", &[]).await.expect("show");
    assert_eq!(row.get::<_, String>(0), "on");
    let write = client.execute("DELETE FROM blocks", &[]).await;
    assert!(write.is_err(), "a write succeeded on an API connection");
    // Beneath the session setting, the role itself cannot write.
    let user: String = client.query_one("SELECT current_user::text", &[]).await.expect("user").get(0);
    assert_eq!(user, "taoscope_reader");
    client.batch_execute("SET default_transaction_read_only = off").await.expect("set");
    let write = client.execute("DELETE FROM blocks", &[]).await.expect_err("the reader role wrote");
    assert_eq!(write.code(), Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE), "{write}");
    let read: i64 = client.query_one("SELECT count(*) FROM pool_state", &[]).await.expect("read").get(0);
    assert_eq!(read, 0);
}

/// GraphiQL's introspection query (graphql-js `getIntrospectionQuery`, with the deeper
/// `TypeRef` that newer tools send).
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name
      ofType { kind name } } } } } } } } }
}
"#;
