//! One module per subcommand; each wires library crates together and returns `anyhow` errors
//! whose one-line rendering tells the user what to do.

pub mod devnet;
pub mod index;
pub mod metadata;
pub mod migrate;
pub mod serve;
pub mod up;

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
