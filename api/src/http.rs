//! The HTTP surface: routes, the GraphQL endpoint's error policy, probes, and the middleware
//! stack (request ids, tracing, metrics, API keys, limits, CORS, compression, panic guard).

use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLSubscription};
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};
use bytes::Bytes;
use serde_json::{Value, json};
use taoscope_schema::MIGRATIONS;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::graphql::{self, ApiSchema};
use crate::telemetry::{self, REQUEST_ID_HEADER, RequestIds};
use crate::{ApiState, export};

/// Path of the GraphQL endpoint (POST queries, GET GraphiQL).
pub const GRAPHQL_PATH: &str = "/graphql";
/// Path of the REST form of `auditEmbeddings`.
pub const AUDIT_EMBEDDINGS_PATH: &str = "/audit/embeddings";
/// Path of the graphql-ws subscription endpoint.
pub const GRAPHQL_WS_PATH: &str = "/graphql/ws";
/// Longest a request may take to start answering before it is answered 503 (an export's body
/// may stream for longer).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest accepted request body: an audit of 256 items of 384 numbers each.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Content type of Parquet exports (not compressed again).
const PARQUET: &str = "application/vnd.apache.parquet";

/// The API's router: GraphQL (`POST /graphql`, GraphiQL on `GET /graphql`, graphql-ws on
/// `/graphql/ws`), `GET /exports/{dataset}.parquet`, `GET /metrics`, `GET /healthz`,
/// `GET /readyz`.
pub fn app(state: ApiState) -> Router {
    let schema = graphql::schema(state.clone());
    let cors = match state.config().cors_origins.as_slice() {
        [] => CorsLayer::new().allow_origin(Any),
        origins => CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))),
    }
    .allow_methods([Method::GET, Method::POST])
    .allow_headers([header::CONTENT_TYPE, header::HeaderName::from_static(auth::API_KEY_HEADER)]);
    let compression = CompressionLayer::new()
        .compress_when(SizeAbove::new(1024).and(NotForContentType::const_new(PARQUET)));

    let exports = Router::new()
        .route("/exports/{file}", get(export::handler))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::export_quota));
    let api = Router::new()
        .route(GRAPHQL_PATH, get(graphiql).post(graphql_post))
        .route(AUDIT_EMBEDDINGS_PATH, axum::routing::post(crate::audit::handler))
        .route_service(GRAPHQL_WS_PATH, GraphQLSubscription::new(schema.clone()))
        .merge(exports)
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::identify));
    Router::new()
        .merge(api)
        .route("/metrics", get(telemetry::metrics_endpoint))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(Extension(schema))
        .route_layer(middleware::from_fn(telemetry::record))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([
                    header::AUTHORIZATION,
                    header::HeaderName::from_static(auth::API_KEY_HEADER),
                ]))
                .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, RequestIds::default()))
                .layer(TraceLayer::new_for_http().make_span_with(telemetry::request_span))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
                .layer(cors)
                .layer(compression),
        )
}

/// A panic in a handler is a bug: log it, answer a generic 500, keep serving.
fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    telemetry::count_graphql_error("PANIC");
    let body = json!({ "status": "internal", "code": "INTERNAL", "reason": "internal server error" });
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint(GRAPHQL_PATH)
            .subscription_endpoint(GRAPHQL_WS_PATH)
            .title("Taoscope GraphQL")
            .finish(),
    )
}

/// `POST /graphql`: runs the query, then gives every error a stable `extensions.code` and
/// answers 400 when the request itself was rejected (unparsable or invalid) rather than run.
///
/// Queries of the subnets' current state only are answered from the response cache while the
/// snapshot they were computed from is current.
async fn graphql_post(
    State(state): State<ApiState>,
    Extension(schema): Extension<ApiSchema>,
    caller: Option<Extension<Caller>>,
    request: GraphQLRequest,
) -> Response {
    let mut request = request.into_inner();
    let cached = state.responses().lookup(&request, state.subnet_cache(), state.store()).await;
    let lookup = match cached {
        Some(Ok(body)) => return json_response(StatusCode::OK, body),
        Some(Err(lookup)) => Some(lookup),
        None => None,
    };
    if let Some(Extension(caller)) = caller {
        request = request.data(caller);
    }
    let query = request.query.clone();
    let mut response = schema.execute(request).await;
    let mut rejected = !response.errors.is_empty();
    for error in &mut response.errors {
        let code = graphql::classify_error(error, &query);
        telemetry::count_graphql_error(code);
        rejected &= graphql::is_request_error(code);
    }
    let status = if rejected { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let body = Bytes::from(serde_json::to_vec(&response).unwrap_or_else(|_| br#"{"data":null}"#.to_vec()));
    if let Some(lookup) = lookup.filter(|_| response.errors.is_empty()) {
        state.responses().store(lookup, body.clone());
    }
    json_response(status, body)
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
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
