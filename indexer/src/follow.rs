//! The indexing loop: poll the node's finalized head (never trusting a subscription to deliver
//! every head), fetch the missing blocks concurrently but in order, decode each with the runtime
//! that executed it, and write them in bounded batches with the checkpoint. Dropped connections
//! are retried with backoff; anything else stops the indexer with a typed error.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use tokio_util::sync::CancellationToken;

use crate::decode::{Runtime, decode_block};
use crate::error::IndexerError;
use crate::node::{ChainIdentity, Node};
use crate::store::{BlockRows, NewRuntime, Store, WriterLock};

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

/// Fetches with an owned handle, boxed as `Send` where its lifetimes are concrete (a closure
/// producing futures inside a stream combinator otherwise trips rustc's "`Send` is not general
/// enough", rust-lang/rust#64552).
fn fetch_owned(
    node: Node,
    number: u64,
) -> futures::future::BoxFuture<'static, Result<crate::node::RawBlock, IndexerError>> {
    Box::pin(async move { node.fetch_block(number).await })
}

/// A connected indexer.
pub struct Indexer {
    config: IndexerConfig,
    node: Node,
    store: Store,
    identity: ChainIdentity,
    runtimes: HashMap<u32, Runtime>,
    tip: Option<Tip>,
    _lock: WriterLock,
}

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
        Ok(Indexer { config, node, store, identity, runtimes, tip: None, _lock: lock })
    }

    /// The chain being indexed.
    pub fn identity(&self) -> &ChainIdentity {
        &self.identity
    }

    /// The next block to index.
    async fn next_block(&self) -> Result<u64, IndexerError> {
        Ok(self.store.progress().await?.map_or(0, |(n, _)| n + 1))
    }

    /// Makes sure the runtime `spec` in `number`'s post-state is known, fetching its version
    /// and metadata there if not; returns it if it was new.
    async fn learn_runtime(
        &mut self,
        number: u64,
        hash: [u8; 32],
        spec: u32,
    ) -> Result<Option<NewRuntime>, IndexerError> {
        if self.runtimes.contains_key(&spec) {
            return Ok(None);
        }
        let info = self.node.runtime_version(number, hash).await?;
        let metadata = self.node.metadata(spec, number, hash).await?;
        let runtime = Runtime::from_metadata_bytes(spec, info.transaction_version, &metadata)
            .map_err(|reason| IndexerError::Metadata { spec, reason })?;
        tracing::info!(spec, name = %info.spec_name, block = number, "new runtime");
        self.runtimes.insert(spec, runtime.clone());
        Ok(Some(NewRuntime { runtime, info, metadata, first_block: number }))
    }

    /// The runtime in the post-state of block `number - 1` (which executes `number`).
    async fn executing_spec(&mut self, number: u64, new: &mut Vec<NewRuntime>) -> Result<u32, IndexerError> {
        if let Some(tip) = self.tip.filter(|t| t.number + 1 == number) {
            return Ok(tip.spec);
        }
        let parent = number.saturating_sub(1);
        let hash = self.node.block_hash(parent).await?.ok_or_else(|| IndexerError::BadBlock {
            block: parent,
            reason: "the node has no such block".into(),
        })?;
        let spec = self.node.runtime_version(parent, hash).await?.spec_version;
        new.extend(self.learn_runtime(parent, hash, spec).await?);
        Ok(spec)
    }

    /// Indexes blocks `from..=to` as one batch.
    async fn index_range(&mut self, from: u64, to: u64, head: (u64, [u8; 32])) -> Result<(), IndexerError> {
        // Futures are lazy: building them all first starts nothing; `buffered` runs at most
        // `concurrency` at a time and yields them in block order.
        let fetches: Vec<_> = (from..=to).map(|n| fetch_owned(self.node.clone(), n)).collect();
        let raws: Vec<_> =
            futures::stream::iter(fetches).buffered(self.config.concurrency).try_collect().await?;
        let mut new = Vec::new();
        let mut executing = self.executing_spec(from, &mut new).await?;
        let mut rows = Vec::with_capacity(raws.len());
        for raw in raws {
            new.extend(self.learn_runtime(raw.number, raw.hash, raw.spec_version).await?);
            // Block 0 has no parent: it is its own runtime's.
            let spec = if raw.number == 0 { raw.spec_version } else { executing };
            let runtime = &self.runtimes[&spec];
            let decoded = decode_block(&raw, runtime)
                .await
                .map_err(|e| IndexerError::BadBlock { block: e.block, reason: e.to_string() })?;
            executing = raw.spec_version;
            rows.push(BlockRows { raw, executing_spec: spec, decoded });
        }
        self.store.write_batch(&new, &rows, head).await?;
        if let Some(last) = rows.last() {
            self.tip = Some(Tip { number: last.raw.number, spec: last.raw.spec_version });
        }
        Ok(())
    }

    /// Indexes everything finalized now; returns where it stopped.
    pub async fn catch_up(
        &mut self,
        on_progress: &mut impl FnMut(Progress),
    ) -> Result<Progress, IndexerError> {
        let head = self.node.finalized_head().await?;
        self.store.set_head(head.0, head.1).await?;
        let mut next = self.next_block().await?;
        let mut progress = Progress { indexed: next.saturating_sub(1), finalized: head.0, rate: 0.0 };
        while next <= head.0 {
            let to = head.0.min(next + self.config.batch_size - 1);
            let started = Instant::now();
            self.index_range(next, to, head).await?;
            let rate = (to - next + 1) as f64 / started.elapsed().as_secs_f64().max(1e-9);
            progress = Progress { indexed: to, finalized: head.0, rate };
            on_progress(progress);
            next = to + 1;
        }
        Ok(progress)
    }

    /// Follows the finalized head until `cancel` fires, reconnecting after dropped connections.
    pub async fn run(
        &mut self,
        cancel: CancellationToken,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<(), IndexerError> {
        let mut backoff = Duration::from_millis(250);
        let cancelled = cancel.cancelled_owned();
        tokio::pin!(cancelled);
        loop {
            let step = tokio::select! {
                _ = &mut cancelled => return Ok(()),
                r = self.catch_up(&mut on_progress) => r,
            };
            match step {
                Ok(_) => {
                    backoff = Duration::from_millis(250);
                    tokio::select! {
                        _ = &mut cancelled => return Ok(()),
                        _ = tokio::time::sleep(self.config.poll_interval) => {}
                    }
                }
                Err(e) if e.is_retryable() => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "indexing interrupted; retrying");
                    tokio::select! {
                        _ = &mut cancelled => return Ok(()),
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    self.tip = None;
                    match Node::connect(&self.config.node_url).await {
                        Ok(node) => self.node = node,
                        Err(e) => tracing::warn!(error = %e, "reconnect failed"),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}
