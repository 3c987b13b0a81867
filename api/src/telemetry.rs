//! Operations: Prometheus metrics (request latency, errors, export volume), request ids that
//! tie a response to its log lines, and the trace span of each request.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower_http::request_id::{MakeRequestId, RequestId};

use crate::ApiState;

/// The header carrying the request id (set on the response; taken from the request if sent).
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Latency histogram buckets, in seconds.
const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed as the global `metrics` recorder on first use.
/// Every crate's metrics (indexer, analytics, API) render through it.
pub fn prometheus() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .expect("buckets are non-empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            let upkeep = handle.clone();
            // Histograms buffer samples until upkeep folds them in; without it memory grows.
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .expect("spawn the metrics upkeep thread");
            handle
        })
        .clone()
}

/// `GET /metrics`: the Prometheus text format, or 404 when metrics are off.
pub async fn metrics_endpoint(State(state): State<ApiState>) -> Response {
    match state.metrics() {
        Some(handle) => ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render())
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are not enabled").into_response(),
    }
}

/// Records each request's latency and outcome by route (the matched pattern, never the raw
/// path, so label values stay bounded).
pub async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    let labels = [("route", route), ("method", method), ("status", status.as_u16().to_string())];
    metrics::histogram!("taoscope_api_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("taoscope_api_requests_total", &labels).increment(1);
    if status.is_server_error() {
        metrics::counter!("taoscope_api_errors_total", "code" => "HTTP_5XX").increment(1);
    }
    response
}

/// Counts a GraphQL error by its `extensions.code`.
pub fn count_graphql_error(code: &str) {
    metrics::counter!("taoscope_api_errors_total", "code" => code.to_string()).increment(1);
}

/// Request ids: a per-process random prefix and a counter (`3f9a1c2b-42`), unique enough to
/// find a request's log lines, and cheaper than a UUID.
#[derive(Clone)]
pub struct RequestIds {
    prefix: u32,
    next: std::sync::Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        RequestIds { prefix: rand::random(), next: std::sync::Arc::new(AtomicU64::new(1)) }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        axum::http::HeaderValue::from_str(&format!("{:08x}-{n}", self.prefix)).ok().map(RequestId::new)
    }
}

/// The trace span of a request, carrying its id.
pub fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let id = request.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), uri = %request.uri().path(), request_id = %id)
}

/// Serves `GET /metrics` from `handle` alone on `listener` (for processes without the API,
/// such as `taoscope index`), until the process ends.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
) -> std::io::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move { handle.render() }
        }),
    );
    axum::serve(listener, app).await
}
