//! One module per subcommand; each wires library crates together and returns `anyhow` errors
//! whose one-line rendering tells the user what to do.

pub mod analytics;
pub mod bench;
pub mod devnet;
pub mod index;
pub mod metadata;
pub mod migrate;
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

/// Starts the Prometheus exporter on `listen` (`off` disables it); `/metrics` then serves the
/// indexer's counters, gauges and histograms.
pub fn serve_metrics(listen: &str) -> anyhow::Result<()> {
    if listen == "off" {
        return Ok(());
    }
    let addr: SocketAddr =
        listen.parse().map_err(|e| anyhow::anyhow!("invalid --metrics-listen {listen:?}: {e}"))?;
    // Bind here first: the exporter's own error would not say which flag to change.
    drop(std::net::TcpListener::bind(addr).map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {addr} for metrics: {e}; pass --metrics-listen with a free port or off"
        )
    })?);
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
            &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0],
        )
        .map_err(|e| anyhow::anyhow!("metrics: {e}"))?
        .install()
        .map_err(|e| anyhow::anyhow!("cannot start the metrics endpoint on {addr}: {e}"))?;
    tracing::info!(%addr, "Prometheus metrics at /metrics");
    Ok(())
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
