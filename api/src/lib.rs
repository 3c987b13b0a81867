//! Taoscope's HTTP API: GraphQL over the indexed chain and the analytics (`POST /graphql`,
//! GraphiQL on `GET /graphql`), live subscriptions over graphql-ws (`/graphql/ws`), Parquet
//! exports (`/exports/{dataset}.parquet`), Prometheus metrics (`/metrics`) and liveness and
//! readiness probes (`/healthz`, `/readyz`).
//!
//! The crate is layered: [`store`] owns the read-only PostgreSQL pool, [`graphql`] holds one
//! module per domain (its types, resolvers and the SQL they run), [`live`] turns the indexer's
//! `NOTIFY` into subscription events, [`export`] streams tables as Parquet, and [`http`] wires
//! routes and middleware ([`auth`], [`telemetry`]) into the [`app`] router, which [`serve`] runs
//! until told to stop.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let state = taoscope_api::ApiState::connect(
//!     "postgres://postgres@127.0.0.1/taoscope",
//!     16,
//!     taoscope_api::ApiConfig::default(),
//! )?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let shutdown = async { tokio::signal::ctrl_c().await.unwrap_or_default() };
//! taoscope_api::serve(listener, state, shutdown).await?;
//! # Ok(())
//! # }
//! ```

pub mod audit;
pub mod auth;
pub mod config;
pub mod error;
pub mod export;
pub mod graphql;
pub mod http;
pub mod live;
pub mod store;
pub mod telemetry;

use std::future::Future;
use std::sync::Arc;

use deadpool_postgres::Pool;
use metrics_exporter_prometheus::PrometheusHandle;

pub use crate::config::{ApiConfig, ApiKey, parse_api_keys};
pub use crate::error::ApiError;
pub use crate::graphql::{ApiSchema, sdl};
pub use crate::http::app;
pub use crate::store::StoreError;
pub use crate::store::postgres::{PgStore, pool};

/// What every request handler shares: the database, the settings, the live feed.
#[derive(Clone)]
pub struct ApiState {
    inner: Arc<Inner>,
}

struct Inner {
    store: PgStore,
    config: ApiConfig,
    gate: auth::Gate,
    live: live::LiveFeed,
    cache: graphql::subnets::SubnetCache,
    responses: graphql::response_cache::ResponseCache,
    reference: Option<audit::ReferenceModel>,
    metrics: Option<PrometheusHandle>,
}

impl ApiState {
    /// State reading PostgreSQL through `pool` (see [`pool()`]), with default settings and no
    /// live feed (subscriptions answer that live updates are unavailable).
    pub fn new(pool: Pool) -> Self {
        Self::build(pool, None, ApiConfig::default())
    }

    /// State over a new pool of `max_connections` to `database_url`, with a live feed that
    /// `LISTEN`s on its own connection to the same database.
    pub fn connect(
        database_url: &str,
        max_connections: usize,
        config: ApiConfig,
    ) -> Result<Self, StoreError> {
        let pool = pool(database_url, max_connections)?;
        Ok(Self::build(pool, Some(database_url.to_string()), config))
    }

    fn build(pool: Pool, listen_url: Option<String>, config: ApiConfig) -> Self {
        let store = PgStore::new(pool);
        let inner = Inner {
            gate: auth::Gate::new(&config),
            live: live::LiveFeed::new(listen_url, store.clone()),
            cache: graphql::subnets::SubnetCache::default(),
            responses: graphql::response_cache::ResponseCache::default(),
            reference: None,
            store,
            config,
            metrics: None,
        };
        Self { inner: Arc::new(inner) }
    }

    /// Serves `/metrics` from `handle` (the process's Prometheus recorder).
    pub fn with_metrics(self, handle: PrometheusHandle) -> Self {
        self.rebuilt(|inner| inner.metrics = Some(handle))
    }

    /// Serves the inference audit with `model` (without one, audits answer that the model is
    /// not installed).
    pub fn with_reference_model(self, model: Arc<taoscope_audit::Embedder>) -> Self {
        self.rebuilt(|inner| inner.reference = Some(audit::ReferenceModel::new(model)))
    }

    fn rebuilt(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner =
            Arc::try_unwrap(self.inner).unwrap_or_else(|_| panic!("configure the state before sharing it"));
        change(&mut inner);
        Self { inner: Arc::new(inner) }
    }

    /// The database.
    pub fn store(&self) -> &PgStore {
        &self.inner.store
    }

    /// The read-only connection pool.
    pub fn pool(&self) -> &Pool {
        self.inner.store.pool()
    }

    /// The settings.
    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// API keys and quotas.
    pub fn gate(&self) -> &auth::Gate {
        &self.inner.gate
    }

    /// The live feed behind subscriptions.
    pub fn live(&self) -> &live::LiveFeed {
        &self.inner.live
    }

    /// The short-lived cache of the subnets' current state.
    pub fn subnet_cache(&self) -> &graphql::subnets::SubnetCache {
        &self.inner.cache
    }

    /// Stored answers to queries of the subnets' current state.
    pub fn responses(&self) -> &graphql::response_cache::ResponseCache {
        &self.inner.responses
    }

    /// The reference model of the inference audit, when loaded.
    pub fn reference_model(&self) -> Option<&audit::ReferenceModel> {
        self.inner.reference.as_ref()
    }

    /// The Prometheus recorder's handle, when metrics are served.
    pub fn metrics(&self) -> Option<&PrometheusHandle> {
        self.inner.metrics.as_ref()
    }
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then stops accepting connections,
/// ends live subscriptions and returns once in-flight requests have finished.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "API listening");
    let live = state.live().clone();
    let router = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            live.close();
        })
        .await?;
    tracing::info!(%addr, "API stopped");
    Ok(())
}
