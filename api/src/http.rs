//! The HTTP surface: routes, probes, GraphiQL and the middleware stack around them.

use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::GraphQL;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use taoscope_schema::MIGRATIONS;
use tower::ServiceBuilder;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::ApiState;
use crate::error::ApiError;
use crate::graphql;

/// Path of the GraphQL endpoint (POST queries, GET GraphiQL).
pub const GRAPHQL_PATH: &str = "/graphql";
/// Longest a request may take before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The API's router: `POST /graphql`, `GET /graphql` (GraphiQL), `GET /healthz`, `GET /readyz`,
/// with request tracing, a timeout, a body limit and permissive CORS (the API is read-only and
/// uses no credentials, so browsers' dashboards may call it from anywhere).
pub fn app(state: ApiState) -> Router {
    let schema = graphql::schema(state.store().clone());
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    Router::new()
        .route(GRAPHQL_PATH, get(graphiql).post_service(GraphQL::new(schema)))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
                .layer(cors),
        )
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint(GRAPHQL_PATH).title("Taoscope GraphQL").finish())
}

/// Liveness: the process answers. Deliberately independent of the database.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers and carries this binary's newest migration.
async fn readyz(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let required = MIGRATIONS.last().map_or(0, |m| m.version);
    let applied = state.store().applied_migrations().await.map_err(|e| ApiError::Unavailable {
        reason: "database not answering".to_string(),
        source: Some(e),
    })?;
    if !applied.contains(&required) {
        let at = applied.last().map_or_else(|| "none".to_string(), i32::to_string);
        return Err(ApiError::Unavailable {
            reason: format!("database schema not migrated (at version {at}, need {required})"),
            source: None,
        });
    }
    Ok(Json(json!({ "status": "ready", "schemaVersion": applied.last() })))
}
