//! The indexing loop: poll the node's finalized head (never trusting a subscription to deliver
//! every head), fetch the missing blocks concurrently but in order, decode each with the runtime
//! that executed it, and write them in bounded batches with the checkpoint. Dropped connections
//! are retried with backoff; anything else stops the indexer with a typed error.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

mod batch;
mod probe;
mod reorgs;
mod runtimes;
mod tasks;

use std::sync::Arc;

use self::batch::Writing;
pub(crate) use self::runtimes::Placed;
use crate::decode::Runtime;
use crate::error::IndexerError;
use crate::node::{ChainIdentity, Node};
use crate::state::{PoolSource, ReadSpec, StatePlan, read_block_state};
use crate::store::{NewRuntime, Store, WriterLock};

/// Indexer settings.
#[derive(Clone, Debug)]
pub struct IndexerConfig {
    /// Node RPC URL (`ws://`, `wss://`, or the `http(s)://` of the same port).
    pub node_url: String,
    /// PostgreSQL connection URL.
    pub database_url: String,
    /// Blocks per write transaction.
    pub batch_size: u64,
    /// Blocks in flight through fetching and processing.
    pub concurrency: usize,
    /// How often to poll the finalized head when caught up.
    pub poll_interval: Duration,
    /// Read every subnet's pool every this many blocks (0: never). Mainnet backfills can
    /// thin this out; epochs are found from the pool reads, so metagraphs need it at 1.
    pub pool_interval: u64,
    /// Snapshot the metagraph of each subnet at its epochs.
    pub metagraphs: bool,
    /// First block to index in a fresh database.
    pub from: Option<u64>,
    /// Last block to index (then `run` returns).
    pub to: Option<u64>,
    /// Follow the best head instead of the finalized one, rolling back on reorgs.
    pub unfinalized: bool,
    /// Where pool state is read from.
    pub pool_source: PoolSource,
}

impl IndexerConfig {
    /// Defaults for `node_url` and `database_url`.
    pub fn new(node_url: impl Into<String>, database_url: impl Into<String>) -> Self {
        IndexerConfig {
            node_url: node_url.into(),
            database_url: database_url.into(),
            batch_size: 200,
            concurrency: 64,
            poll_interval: Duration::from_millis(500),
            pool_interval: 1,
            metagraphs: true,
            from: None,
            to: None,
            unfinalized: false,
            pool_source: PoolSource::Auto,
        }
    }
}

/// Where the indexer stands, reported after each batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Last indexed block.
    pub indexed: u64,
    /// The node's finalized head.
    pub finalized: u64,
    /// Blocks per second over the last batch.
    pub rate: f64,
}

/// The post-state runtime of the last processed block.
#[derive(Clone, Copy)]
struct Tip {
    number: u64,
    hash: [u8; 32],
    spec: u32,
}

/// A connected indexer.
pub struct Indexer {
    config: IndexerConfig,
    node: Node,
    store: Store,
    identity: ChainIdentity,
    runtimes: HashMap<u32, Runtime>,
    plans: HashMap<u32, Arc<StatePlan>>,
    tip: Option<Tip>,
    lock: WriterLock,
    /// Batches committed since connecting (resets retry backoff when it moves).
    batches_done: u64,
    /// Runtimes learned but not yet recorded (written with the next committed batch).
    pending_runtimes: Vec<NewRuntime>,
    /// Where the time of committed batches went.
    stages: StageTimes,
    /// The batch being written while the next one is prepared.
    writing: Option<Writing>,
}

/// Wall time spent in each stage since connecting, in seconds. A batch's write runs while the
/// next batch is fetched and processed, so the stages add up to more than the elapsed time.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StageTimes {
    /// Fetching blocks (header, body, events) and placing their runtimes.
    pub fetch: f64,
    /// Decoding extrinsics and events, deriving typed rows, reading state.
    pub process: f64,
    /// Writing batches (COPY and commit).
    pub write: f64,
}

impl StageTimes {
    /// Adds the time since `since` to `stage` ("fetch" or "process"); returns now.
    fn add(&mut self, stage: &'static str, since: Instant) -> Instant {
        let now = Instant::now();
        let secs = (now - since).as_secs_f64();
        if stage == "fetch" {
            self.fetch += secs;
        } else {
            self.process += secs;
        }
        metrics::histogram!("taoscope_batch_stage_seconds", "stage" => stage).record(secs);
        now
    }
}

/// Blocks compared when looking for a fork point in `--unfinalized` mode.
pub const REORG_WINDOW: u64 = 256;

impl Indexer {
    /// Connects to the node and the database (migrating it), takes the writer lock and checks
    /// the database belongs to the node's chain.
    pub async fn connect(config: IndexerConfig) -> Result<Indexer, IndexerError> {
        let node = Node::connect(&config.node_url).await?;
        let store = Store::connect(&config.database_url).await?;
        let lock = store.lock_writer(&config.database_url).await?;
        let identity = node.identity().await?;
        store.ensure_chain(&identity).await?;
        let mut runtimes = HashMap::new();
        for (spec, tx, bytes) in store.runtimes().await? {
            let runtime = Runtime::from_metadata_bytes(spec, tx, &bytes)
                .map_err(|reason| IndexerError::Metadata { spec, reason })?;
            runtimes.insert(spec, runtime);
        }
        let plans = runtimes
            .iter()
            .map(|(spec, r)| (*spec, Arc::new(StatePlan::new(&r.metadata, config.pool_source))))
            .collect();
        Ok(Indexer {
            config,
            node,
            store,
            identity,
            runtimes,
            plans,
            tip: None,
            lock,
            batches_done: 0,
            pending_runtimes: vec![],
            stages: StageTimes::default(),
            writing: None,
        })
    }

    /// Where indexing time went so far.
    pub fn stage_times(&self) -> StageTimes {
        self.stages
    }

    /// The chain being indexed.
    pub fn identity(&self) -> &ChainIdentity {
        &self.identity
    }

    /// The next block to index: after the checkpoint, or `from` in a fresh database.
    async fn next_block(&self) -> Result<u64, IndexerError> {
        match (self.store.progress().await?, self.config.from) {
            (None, from) => Ok(from.unwrap_or(0)),
            (Some((last, _)), Some(from)) if from > last + 1 => {
                Err(IndexerError::Gap { indexed: last, from })
            }
            (Some((last, _)), _) => Ok(last + 1),
        }
    }

    /// Indexes everything finalized now; returns where it stopped.
    pub async fn catch_up(
        &mut self,
        on_progress: &mut impl FnMut(Progress),
    ) -> Result<Progress, IndexerError> {
        let mut last_report = Instant::now();
        let mut report = |committed: batch::Committed, since: &mut Instant, prev: u64| {
            let rate = (committed.to - prev) as f64 / since.elapsed().as_secs_f64().max(1e-9);
            *since = Instant::now();
            let progress = Progress { indexed: committed.to, finalized: committed.head, rate };
            on_progress(progress);
            progress
        };
        // A write left in flight by an interrupted call lands (or fails) first.
        if let Some(done) = self.finish_write().await? {
            let to = done.to;
            report(done, &mut last_report, to);
        }
        let head = if self.config.unfinalized {
            self.follow_reorgs().await?;
            self.node.best_head().await?
        } else {
            self.node.finalized_head().await?
        };
        self.store.set_head(head.0, head.1).await?;
        let mut next = self.next_block().await?;
        let mut progress = Progress { indexed: next.saturating_sub(1), finalized: head.0, rate: 0.0 };
        let mut reported = progress.indexed;
        let last = self.config.to.map_or(head.0, |to| to.min(head.0));
        while next <= last {
            let to = last.min(next + self.config.batch_size - 1);
            let blocks = self.prepare(next, to).await?;
            if let Some(done) = self.finish_write().await? {
                progress = report(done, &mut last_report, reported);
                reported = progress.indexed;
            }
            self.start_write(blocks, head);
            next = to + 1;
        }
        if let Some(done) = self.finish_write().await? {
            progress = report(done, &mut last_report, reported);
        }
        Ok(progress)
    }

    /// On shutdown: lets the write in flight commit (it is a whole batch with its checkpoint);
    /// if it fails, nothing of it was committed, and the next run redoes it.
    async fn land_write(&mut self) -> Result<(), IndexerError> {
        if let Err(e) = self.finish_write().await {
            tracing::warn!(error = %e, "the batch in flight at shutdown was not written; the next run redoes it");
        }
        Ok(())
    }

    /// A fresh node connection, and the writer lock taken again if its database connection
    /// was lost (the server released it; another indexer may have taken it meanwhile).
    async fn reconnect(&mut self) -> Result<(), IndexerError> {
        self.node = Node::connect(&self.config.node_url).await.map_err(|e| match e {
            IndexerError::Connect { url, reason } | IndexerError::NotANode { url, reason } => {
                IndexerError::Rpc { method: "connect", block: None, reason: format!("{url}: {reason}") }
            }
            other => other,
        })?;
        if self.lock.is_lost() {
            self.lock = self.store.lock_writer(&self.config.database_url).await?;
            tracing::info!("writer lock taken again after the database connection was lost");
        }
        Ok(())
    }

    /// Follows the finalized head until `cancel` fires, reconnecting after dropped connections.
    pub async fn run(
        &mut self,
        cancel: CancellationToken,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<(), IndexerError> {
        let mut backoff = Duration::from_millis(250);
        let mut batches_at_failure = self.batches_done;
        let cancelled = cancel.cancelled_owned();
        tokio::pin!(cancelled);
        loop {
            let step = tokio::select! {
                _ = &mut cancelled => return self.land_write().await,
                r = self.catch_up(&mut on_progress) => r,
            };
            match step {
                Ok(progress) if self.config.to.is_some_and(|to| progress.indexed >= to) => return Ok(()),
                Ok(_) => {
                    backoff = Duration::from_millis(250);
                    tokio::select! {
                        _ = &mut cancelled => return Ok(()),
                        _ = tokio::time::sleep(self.config.poll_interval) => {}
                    }
                }
                Err(e) if e.is_retryable() => {
                    // Progress since the last failure means the trouble passed: start over.
                    if self.batches_done != batches_at_failure {
                        backoff = Duration::from_millis(250);
                        batches_at_failure = self.batches_done;
                    }
                    tracing::warn!(error = %e, retry_in = ?backoff, "indexing interrupted; retrying");
                    tokio::select! {
                        _ = &mut cancelled => return Ok(()),
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    self.tip = None;
                    if let Err(e) = self.reconnect().await {
                        if !e.is_retryable() {
                            return Err(e);
                        }
                        tracing::warn!(error = %e, "reconnect failed");
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}
