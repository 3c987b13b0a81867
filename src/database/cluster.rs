//! A private PostgreSQL cluster under taoscope's data directory, for machines with PostgreSQL
//! installed but no server running. As root it runs as the `postgres` system user (the server
//! refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use super::DatabaseError;

/// Port of the private cluster unless `TAOSCOPE_PRIVATE_PG_PORT` says otherwise.
const DEFAULT_PORT: u16 = 54329;

/// A cluster this process found running or started.
pub struct PrivateCluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    run_as: Option<String>,
    started_here: bool,
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// The directory holding `initdb` and `pg_ctl`: on `PATH`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian/Ubuntu).
pub fn find_binaries() -> Option<PathBuf> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH")
        && let Some(d) = std::env::split_paths(&path).find(|d| has_tools(d))
    {
        return Some(d);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, d)| has_tools(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

fn default_data_dir(root: bool) -> PathBuf {
    if root {
        return PathBuf::from("/var/lib/taoscope/postgres");
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    base.join("taoscope/postgres")
}

fn err(step: &str, e: impl std::fmt::Display) -> DatabaseError {
    DatabaseError::Cluster(format!("{step}: {e}"))
}

impl PrivateCluster {
    /// Starts (or reuses) the cluster in the default data directory.
    pub async fn start_default() -> Result<PrivateCluster, DatabaseError> {
        let port = std::env::var("TAOSCOPE_PRIVATE_PG_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(DEFAULT_PORT);
        Self::start(&default_data_dir(is_root()), port).await
    }

    /// Starts (or reuses) a cluster in `data` listening on 127.0.0.1:`port`.
    pub async fn start(data: &Path, port: u16) -> Result<PrivateCluster, DatabaseError> {
        let bin = find_binaries().ok_or(DatabaseError::NoPostgres)?;
        let run_as = is_root().then(|| "postgres".to_string());
        let mut cluster = PrivateCluster { bin, data: data.to_path_buf(), port, run_as, started_here: false };
        std::fs::create_dir_all(data).map_err(|e| err("create data directory", e))?;
        if let Some(user) = &cluster.run_as {
            cluster.run("chown", &[format!("{user}:"), data.display().to_string()], false).await?;
        }
        if !data.join("PG_VERSION").exists() {
            tracing::info!(dir = %data.display(), "initialising private PostgreSQL cluster");
            let initdb = cluster.bin.join("initdb").display().to_string();
            cluster
                .run(
                    &initdb,
                    &[
                        "-D".into(),
                        data.display().to_string(),
                        "-U".into(),
                        "postgres".into(),
                        "--auth=trust".into(),
                        "-E".into(),
                        "UTF8".into(),
                    ],
                    true,
                )
                .await?;
        }
        if !cluster.is_running().await {
            let pg_ctl = cluster.bin.join("pg_ctl").display().to_string();
            let options = format!("-p {port} -k {} -c listen_addresses=127.0.0.1", data.display());
            cluster
                .run(
                    &pg_ctl,
                    &[
                        "start".into(),
                        "-w".into(),
                        "-t".into(),
                        "60".into(),
                        "-D".into(),
                        data.display().to_string(),
                        "-l".into(),
                        data.join("server.log").display().to_string(),
                        "-o".into(),
                        options,
                    ],
                    true,
                )
                .await?;
            cluster.started_here = true;
            tracing::info!(port, dir = %data.display(), "started private PostgreSQL cluster");
        }
        Ok(cluster)
    }

    async fn is_running(&self) -> bool {
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        self.run(&pg_ctl, &["status".into(), "-D".into(), self.data.display().to_string()], true)
            .await
            .is_ok()
    }

    async fn run(&self, program: &str, args: &[String], as_owner: bool) -> Result<(), DatabaseError> {
        let mut cmd = match (&self.run_as, as_owner) {
            (Some(user), true) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--", program]);
                c
            }
            _ => Command::new(program),
        };
        let out = cmd.args(args).stdin(Stdio::null()).output().await.map_err(|e| err(program, e))?;
        if !out.status.success() {
            let text = String::from_utf8_lossy(if out.stderr.is_empty() { &out.stdout } else { &out.stderr });
            return Err(err(program, text.trim()));
        }
        Ok(())
    }

    /// Connection URL of the cluster's `taoscope` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/taoscope", self.port)
    }

    /// Stops the cluster if this process started it.
    pub async fn stop(self) {
        if !self.started_here {
            return;
        }
        let pg_ctl = self.bin.join("pg_ctl").display().to_string();
        if let Err(e) = self
            .run(
                &pg_ctl,
                &["stop".into(), "-m".into(), "fast".into(), "-D".into(), self.data.display().to_string()],
                true,
            )
            .await
        {
            tracing::warn!(error = %e, "stopping the private PostgreSQL cluster failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_private_cluster_starts_serves_and_stops() {
        if find_binaries().is_none() {
            assert!(std::env::var_os("CI").is_none(), "CI machines have PostgreSQL installed");
            eprintln!("skipping: no PostgreSQL binaries installed");
            return;
        }
        let dir = std::env::temp_dir().join(format!("taoscope-pg-test-{}", std::process::id()));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = PrivateCluster::start(&dir, port).await.expect("cluster starts");
        assert!(cluster.started_here);
        let url = cluster.url();
        crate::database::ensure(&url).await.expect("taoscope database created");
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
        assert_eq!(one, 1);
        drop(client);
        let probe = PrivateCluster {
            bin: cluster.bin.clone(),
            data: dir.clone(),
            port,
            run_as: cluster.run_as.clone(),
            started_here: false,
        };
        cluster.stop().await;
        assert!(!probe.is_running().await, "stopped");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
