//! Taoscope's HTTP API: GraphQL over the indexed chain (`POST /graphql`), GraphiQL
//! (`GET /graphql`), and liveness/readiness probes (`/healthz`, `/readyz`).
//!
//! The crate is layered: [`store`] reads PostgreSQL behind the [`Store`] trait, [`graphql`]
//! resolves queries against that trait only, and [`http`] wires routes and middleware into the
//! [`app`] router, which [`serve`] runs on a listener until told to stop.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = taoscope_api::pool("postgres://postgres@127.0.0.1/taoscope", 16)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let shutdown = async { tokio::signal::ctrl_c().await.unwrap_or_default() };
//! taoscope_api::serve(listener, taoscope_api::ApiState::new(pool), shutdown).await?;
//! # Ok(())
//! # }
//! ```

pub mod error;
pub mod graphql;
pub mod http;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use deadpool_postgres::Pool;

pub use crate::error::ApiError;
pub use crate::graphql::{ApiSchema, sdl};
pub use crate::http::app;
pub use crate::store::postgres::{PgStore, pool};
pub use crate::store::{Store, StoreError};

/// What every request handler shares: the store the API reads.
#[derive(Clone)]
pub struct ApiState {
    store: Arc<dyn Store>,
}

impl ApiState {
    /// State reading PostgreSQL through `pool` (see [`pool()`]).
    pub fn new(pool: Pool) -> Self {
        Self::with_store(Arc::new(PgStore::new(pool)))
    }

    /// State over any store (for tests, or a store with caching in front).
    pub fn with_store(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The store the handlers read.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then stops accepting connections and
/// returns once in-flight requests have finished.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "API listening");
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await?;
    tracing::info!(%addr, "API stopped");
    Ok(())
}
