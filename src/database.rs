//! Where `taoscope` finds PostgreSQL: the URL it was given (`--database-url`/`DATABASE_URL`),
//! else the local server's `taoscope` database (created if missing), else a private cluster
//! started from the installed PostgreSQL binaries, else an error naming the command that fixes it.

mod cluster;

use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::{Config, NoTls};

pub use cluster::PrivateCluster;

/// The local default: the Debian/Ubuntu cluster on its standard port, trust or peer auth.
const LOCAL_DEFAULTS: &[&str] =
    &["postgres://postgres@127.0.0.1:5432/taoscope", "host=/var/run/postgresql dbname=taoscope"];

/// Why no database could be had.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The URL is not a PostgreSQL connection string.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The server does not answer.
    #[error(
        "cannot connect to PostgreSQL at {target}: {reason}; start it (e.g. `pg_ctlcluster 15 main start`) or pass another --database-url"
    )]
    Unreachable {
        /// Host and port.
        target: String,
        /// Why.
        reason: String,
    },
    /// The database is missing and could not be created.
    #[error("database {name} does not exist and could not be created: {reason}")]
    Create {
        /// Database name.
        name: String,
        /// Why.
        reason: String,
    },
    /// Nothing to run on.
    #[error(
        "no PostgreSQL found: set DATABASE_URL (or --database-url), or install it with `sudo apt-get install -y postgresql` (scripts/up does this)"
    )]
    NoPostgres,
    /// The private cluster could not be set up.
    #[error("private PostgreSQL cluster: {0}")]
    Cluster(String),
}

/// Where the database came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `--database-url` or `DATABASE_URL`.
    Given,
    /// The local server.
    LocalDefault,
    /// A private cluster this process runs.
    Private,
}

/// A usable database.
pub struct Database {
    /// Connection URL (keyword or URI form).
    pub url: String,
    /// Where it came from.
    pub origin: Origin,
    /// The private cluster, stopped by [`Database::close`] if this process started it.
    cluster: Option<PrivateCluster>,
}

fn describe(cfg: &Config) -> String {
    let host = cfg
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

fn parse(url: &str) -> Result<Config, DatabaseError> {
    let mut cfg: Config = url.parse().map_err(|e| DatabaseError::InvalidUrl(format!("{e}")))?;
    cfg.connect_timeout(Duration::from_secs(5));
    Ok(cfg)
}

/// Connects to `url`, creating its database when the server answers but the database is
/// missing.
pub async fn ensure(url: &str) -> Result<(), DatabaseError> {
    let cfg = parse(url)?;
    match cfg.connect(NoTls).await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::INVALID_CATALOG_NAME) => {
            let name = cfg.get_dbname().unwrap_or("taoscope").to_string();
            let mut admin = cfg.clone();
            admin.dbname("postgres");
            let (client, conn) = admin
                .connect(NoTls)
                .await
                .map_err(|e| DatabaseError::Create { name: name.clone(), reason: e.to_string() })?;
            tokio::spawn(conn);
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            client
                .batch_execute(&format!("CREATE DATABASE {quoted}"))
                .await
                .map_err(|e| DatabaseError::Create { name: name.clone(), reason: e.to_string() })?;
            tracing::info!(database = %name, "created database");
            Ok(())
        }
        Err(e) => Err(DatabaseError::Unreachable {
            target: describe(&cfg),
            reason: e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| {
                std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_else(|| e.to_string())
            }),
        }),
    }
}

impl Database {
    /// Finds a database as described in the module docs.
    pub async fn open(given: Option<&str>) -> Result<Database, DatabaseError> {
        if let Some(url) = given {
            ensure(url).await?;
            return Ok(Database { url: url.to_string(), origin: Origin::Given, cluster: None });
        }
        for url in LOCAL_DEFAULTS {
            match ensure(url).await {
                Ok(()) => {
                    return Ok(Database {
                        url: url.to_string(),
                        origin: Origin::LocalDefault,
                        cluster: None,
                    });
                }
                Err(e) => tracing::debug!(url, error = %e, "local default not usable"),
            }
        }
        let cluster = PrivateCluster::start_default().await?;
        let url = cluster.url();
        ensure(&url).await?;
        Ok(Database { url, origin: Origin::Private, cluster: Some(cluster) })
    }

    /// Stops the private cluster if this process started it.
    pub async fn close(self) {
        if let Some(c) = self.cluster {
            c.stop().await;
        }
    }
}
