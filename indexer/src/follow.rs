//! The indexing loop: poll the node's finalized head (never trusting a subscription to deliver
//! every head), fetch the missing blocks concurrently but in order, decode each with the runtime
//! that executed it, and write them in bounded batches with the checkpoint. Dropped connections
//! are retried with backoff; anything else stops the indexer with a typed error.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use tokio_util::sync::CancellationToken;

mod probe;
mod reorgs;
mod runtimes;
mod tasks;

use std::sync::Arc;

use self::tasks::{fetch_owned, read_owned, record_metrics};
use crate::decode::{DecodedBlock, Runtime, decode_block};
use crate::error::IndexerError;
use crate::extract::{RegistrationRow, extract};
use crate::node::{ChainIdentity, Node, RawBlock};
use crate::rows::{BlockRows, Failure, StateRows};
use crate::state::{PoolSource, READ_ATTEMPTS, ReadSpec, StatePlan, read_block_state};
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
    /// Block fetches in flight.
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
            batch_size: 100,
            concurrency: 8,
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
        })
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

    /// Indexes blocks `from..=to` as one batch.
    async fn index_range(&mut self, from: u64, to: u64, head: (u64, [u8; 32])) -> Result<(), IndexerError> {
        // Futures are lazy: building them all first starts nothing; `buffered` runs at most
        // `concurrency` at a time and yields them in block order.
        let fetches: Vec<_> = (from..=to).map(|n| fetch_owned(self.node.clone(), n)).collect();
        let raws: Vec<RawBlock> =
            futures::stream::iter(fetches).buffered(self.config.concurrency).try_collect().await?;
        self.check_links(&raws).await?;
        let mut executing = self.executing_spec(from).await?;
        let mut blocks = Vec::with_capacity(raws.len());
        let mut reads = Vec::with_capacity(raws.len());
        for raw in raws {
            self.learn_runtime(raw.number, raw.hash, raw.spec_version).await?;
            // Block 0 has no parent: it is its own runtime's.
            let spec = if raw.number == 0 { raw.spec_version } else { executing };
            let runtime = self.runtimes[&spec].clone();
            let (raw, decoded, mut failures) = self.decode_with_retry(raw, &runtime).await?;
            let typed = extract(&decoded.events);
            for u in &typed.unexpected {
                let raw_event =
                    decoded.events.get(u.event_index as usize).map(|e| e.raw.clone()).unwrap_or_default();
                failures.push(Failure {
                    kind: "event",
                    item: u.event_index.to_string(),
                    reason: u.reason.clone(),
                    raw: raw_event,
                });
            }
            let what = ReadSpec {
                pools: self.config.pool_interval > 0 && raw.number.is_multiple_of(self.config.pool_interval),
                metagraphs: self.config.metagraphs,
            };
            reads.push(read_owned(
                self.node.clone(),
                runtime.metadata.clone(),
                self.plans[&spec].clone(),
                (raw.number, raw.hash, raw.parent_hash),
                typed.registrations.clone(),
                what,
            ));
            executing = raw.spec_version;
            blocks.push(BlockRows {
                raw,
                executing_spec: spec,
                decoded,
                typed,
                state: StateRows::default(),
                failures,
            });
        }
        let states: Vec<_> =
            futures::stream::iter(reads).buffered(self.config.concurrency).try_collect().await?;
        for (block, (state, registrations, failures)) in blocks.iter_mut().zip(states) {
            block.state = state;
            block.typed.registrations = registrations;
            block.failures.extend(failures.into_iter().map(|f| Failure {
                kind: if f.item.contains("RuntimeApi") { "runtime_api" } else { "storage" },
                item: f.item,
                reason: f.reason,
                raw: f.raw,
            }));
        }
        for b in &blocks {
            for f in &b.failures {
                tracing::warn!(block = b.raw.number, kind = f.kind, item = %f.item, reason = %f.reason, "recorded a decode failure");
            }
        }
        self.store.write_batch(&self.pending_runtimes, &blocks, head).await?;
        self.pending_runtimes.clear();
        record_metrics(&blocks, head.0);
        self.batches_done += 1;
        if let Some(last) = blocks.last() {
            self.tip = Some(Tip { number: last.raw.number, spec: last.raw.spec_version });
        }
        Ok(())
    }

    /// Decodes `raw`; while parts do not decode, fetches those parts again (a corrupted answer
    /// is not a corrupted block: the events, or the body, by the block's hash), up to
    /// [`READ_ATTEMPTS`] times in all, before keeping the failures.
    async fn decode_with_retry(
        &self,
        mut raw: RawBlock,
        runtime: &Runtime,
    ) -> Result<(RawBlock, DecodedBlock, Vec<Failure>), IndexerError> {
        let (mut decoded, mut failures) = decode_block(&raw, runtime).await;
        for _ in 1..READ_ATTEMPTS {
            if failures.is_empty() {
                break;
            }
            let mut again = raw.clone();
            if failures.iter().any(|f| f.kind == "events") {
                again.events = self.node.block_events(raw.number, raw.hash).await?;
            }
            if failures.iter().any(|f| f.kind == "extrinsic") {
                again.extrinsics = self.node.block_body(raw.number, raw.hash).await?.1;
            }
            let (decoded_again, failures_again) = decode_block(&again, runtime).await;
            if failures_again.len() <= failures.len() {
                (raw, decoded, failures) = (again, decoded_again, failures_again);
            }
        }
        Ok((raw, decoded, failures))
    }

    /// Indexes everything finalized now; returns where it stopped.
    pub async fn catch_up(
        &mut self,
        on_progress: &mut impl FnMut(Progress),
    ) -> Result<Progress, IndexerError> {
        let head = if self.config.unfinalized {
            self.follow_reorgs().await?;
            self.node.best_head().await?
        } else {
            self.node.finalized_head().await?
        };
        self.store.set_head(head.0, head.1).await?;
        let mut next = self.next_block().await?;
        let mut progress = Progress { indexed: next.saturating_sub(1), finalized: head.0, rate: 0.0 };
        let last = self.config.to.map_or(head.0, |to| to.min(head.0));
        while next <= last {
            let to = last.min(next + self.config.batch_size - 1);
            let started = Instant::now();
            self.index_range(next, to, head).await?;
            let rate = (to - next + 1) as f64 / started.elapsed().as_secs_f64().max(1e-9);
            progress = Progress { indexed: to, finalized: head.0, rate };
            on_progress(progress);
            next = to + 1;
        }
        Ok(progress)
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
                _ = &mut cancelled => return Ok(()),
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
