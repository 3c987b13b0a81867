//! A fresh PostgreSQL database per test, dropped when the test ends.
//!
//! The server comes from `TAOSCOPE_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, the trust-auth cluster that `scripts/test`
//! starts). Databases are named `taoscope_test_<random>`; stale ones from killed runs are dropped
//! by the next run that finds them older than an hour.

use std::time::Duration;

use rand::Rng;
use tokio_postgres::{Client, NoTls};

/// Default admin URL for test databases.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database created for one test.
pub struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

fn admin_url() -> String {
    std::env::var("TAOSCOPE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap_or_else(|e| {
        panic!(
            "test PostgreSQL at {url} is not reachable ({e}); run scripts/test, which starts it, \
             or set TAOSCOPE_TEST_DATABASE_URL"
        )
    });
    tokio::spawn(conn);
    client
}

impl TestDb {
    /// Creates an empty database (no migrations applied).
    pub async fn empty() -> TestDb {
        let admin_url = admin_url();
        let admin = connect(&admin_url).await;
        drop_stale(&admin).await;
        let name = format!("taoscope_test_{:016x}", rand::rng().random::<u64>());
        admin.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create test database");
        let url = config_to_url(&admin_url, &name);
        TestDb { admin_url, name, url }
    }

    /// Creates a database with every migration applied.
    pub async fn migrated() -> TestDb {
        let db = TestDb::empty().await;
        let mut client = db.client().await;
        crate::migrate(&mut client).await.expect("migrate test database");
        db
    }

    /// The connection URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A new connection to this database.
    pub async fn client(&self) -> Client {
        connect(&self.url).await
    }
}

/// Replaces the database name in a URL of the form `postgres://.../dbname?params`.
fn config_to_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let base = match base.rfind('/') {
        Some(i) if base[..i].ends_with('/') => format!("{base}/{name}"), // no path: "postgres://host"
        Some(i) => format!("{}/{name}", &base[..i]),
        None => format!("{base}/{name}"),
    };
    match query {
        Some(q) => format!("{base}?{q}"),
        None => base,
    }
}

async fn drop_stale(admin: &Client) {
    let stale = admin
        .query(
            "SELECT d.datname FROM pg_database d
              WHERE d.datname LIKE 'taoscope_test_%'
                AND (pg_stat_file('base/' || d.oid || '/PG_VERSION')).modification
                    < now() - interval '1 hour'",
            &[],
        )
        .await
        .unwrap_or_default();
    for row in stale {
        let name: String = row.get(0);
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop from a separate thread with its own runtime: Drop may run inside or outside one.
        let handle = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    if let Ok((client, conn)) = tokio_postgres::connect(&admin_url, NoTls).await {
                        tokio::spawn(conn);
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ =
                            tokio::time::timeout(Duration::from_secs(10), client.batch_execute(&sql)).await;
                    }
                });
            }
        });
        let _ = handle.join();
    }
}

/// The real-chain fixtures (`../shared/fixtures` beside the project root, or `TAOSCOPE_FIXTURES`).
///
/// Returns `None` (after saying why on stderr) when they are absent, so a test can skip; under
/// CI (`CI` set) their absence is a failure, never a skip.
pub fn fixtures_dir() -> Option<std::path::PathBuf> {
    // The runtime CARGO_MANIFEST_DIR (set by cargo for the package being tested) is used rather
    // than the compile-time one, which may name another checkout sharing the build cache.
    let dir = std::env::var_os("TAOSCOPE_FIXTURES").map(std::path::PathBuf::from).unwrap_or_else(|| {
        let manifest =
            std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
        let manifest = std::path::PathBuf::from(manifest);
        // Member crates sit one level below the project root (which holds Cargo.lock).
        let root = if manifest.join("Cargo.lock").exists() { manifest } else { manifest.join("..") };
        root.join("../shared/fixtures")
    });
    if dir.join("finney").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!("real-chain fixtures missing at {} (CI requires ../shared/fixtures)", dir.display());
    }
    eprintln!("skipping: real-chain fixtures not found at {}", dir.display());
    None
}

/// Row count and checksum of every indexed table, ignoring bookkeeping timestamps (when rows
/// were written differs between runs; what was written must not).
pub async fn table_digests(client: &Client) -> std::collections::BTreeMap<String, (i64, String)> {
    let mut out = std::collections::BTreeMap::new();
    let block_tables = crate::tables::BLOCK_TABLES.iter().map(|(t, _)| t);
    for t in crate::tables::BOOKKEEPING_TABLES.iter().chain(block_tables) {
        let sql = format!(
            "SELECT count(*), coalesce(md5(string_agg(j::text, '|' ORDER BY j::text)), '')
             FROM (SELECT to_jsonb(t) - ARRAY['indexed_at', 'updated_at', 'seen_at', 'recorded_at',
                                                'fetched_at', 'created_at'] AS j FROM {t} t) s"
        );
        let row = client.query_one(&sql, &[]).await.expect("digest query");
        out.insert(t.to_string(), (row.get(0), row.get(1)));
    }
    out
}

/// Row count and checksum of every analytics table (see [`table_digests`]).
pub async fn analytics_digests(client: &Client) -> std::collections::BTreeMap<String, (i64, String)> {
    let mut out = std::collections::BTreeMap::new();
    for t in crate::tables::ANALYTICS_TABLES {
        let sql = format!(
            "SELECT count(*), coalesce(md5(string_agg(j::text, '|' ORDER BY j::text)), '')
             FROM (SELECT to_jsonb(t) AS j FROM {t} t) s"
        );
        let row = client.query_one(&sql, &[]).await.expect("digest query");
        out.insert(t.to_string(), (row.get(0), row.get(1)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_database_is_replaced() {
        assert_eq!(config_to_url(DEFAULT_ADMIN_URL, "x"), "postgres://postgres@127.0.0.1:5432/x");
        assert_eq!(
            config_to_url("postgres://u@h:1/postgres?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(config_to_url("postgres://u@h:1", "x"), "postgres://u@h:1/x");
    }
}
