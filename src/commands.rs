//! One module per subcommand; each wires library crates together and returns `anyhow` errors
//! whose one-line rendering tells the user what to do.

pub mod analytics;
pub mod bench;
pub mod devnet;
pub mod export;
pub mod index;
pub mod metadata;
pub mod migrate;
pub mod model;
pub mod serve;
pub mod up;
pub mod yuma;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::database::Database;

/// Binds the API address, with an error that names the fix.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => "; pass --listen with a free port",
            std::io::ErrorKind::PermissionDenied => "; use a port above 1023",
            _ => "",
        };
        anyhow::anyhow!("cannot listen on {addr}: {e}{hint}")
    })
}

/// Installs the process's metrics recorder (which the API's `/metrics` also renders) and, unless
/// `listen` is `off`, serves `/metrics` on `listen` too (the indexer's counters, gauges and
/// histograms, and the API's when it runs in the same process).
pub fn serve_metrics(listen: &str) -> anyhow::Result<()> {
    let handle = taoscope_api::telemetry::prometheus();
    if listen == "off" {
        return Ok(());
    }
    let addr: SocketAddr =
        listen.parse().map_err(|e| anyhow::anyhow!("invalid --metrics-listen {listen:?}: {e}"))?;
    let listener = std::net::TcpListener::bind(addr).map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {addr} for metrics: {e}; pass --metrics-listen with a free port or off"
        )
    })?;
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    tokio::spawn(async move {
        if let Err(e) = taoscope_api::telemetry::serve_metrics(listener, handle).await {
            tracing::error!(error = %e, "the metrics endpoint stopped");
        }
    });
    tracing::info!(%addr, "Prometheus metrics at /metrics");
    Ok(())
}

/// The API's state from the command line: a pool and a live feed on `url`, keys and limits
/// from `args`, and `/metrics` from the process's recorder.
pub fn api_state(url: &str, args: &crate::cli::ApiArgs) -> anyhow::Result<taoscope_api::ApiState> {
    let config = args.config()?;
    let state = taoscope_api::ApiState::connect(url, args.db_connections, config)?
        .with_metrics(taoscope_api::telemetry::prometheus());
    // The inference audit needs the reference model; without it the rest of the API serves.
    let dir = taoscope_audit::model_dir(args.model.model_dir.as_deref());
    Ok(match taoscope_audit::Embedder::load(&dir) {
        Ok(model) => {
            tracing::info!(dir = %dir.display(), load_ms = model.load_ms().round(), "reference model loaded");
            state.with_reference_model(std::sync::Arc::new(model))
        }
        Err(e) => {
            tracing::warn!(error = %e, "inference audit off");
            state
        }
    })
}

/// Opens the database and applies migrations.
pub async fn open_migrated(given: Option<&str>) -> anyhow::Result<Database> {
    let db = Database::open(given).await?;
    let (mut client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .with_context(|| "connecting to the database")?;
    tokio::spawn(conn);
    let applied = taoscope_schema::migrate(&mut client).await?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    Ok(db)
}
