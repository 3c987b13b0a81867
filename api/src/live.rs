//! Live updates: the indexer's `NOTIFY` on [`BLOCKS_CHANNEL`] becomes GraphQL subscriptions
//! (`blocks`, `subnetPrices(netuid)`, `stakeEvents(netuid)`) over graphql-ws.
//!
//! One listener task per API process holds a dedicated connection (`LISTEN` cannot share a
//! pooled one), and on each notification reads the new blocks, their pool states and stake
//! events once, then broadcasts that batch to every subscriber, which filters it. The task
//! starts with the first subscription, reconnects with backoff when the database goes away, and
//! catches up on what it missed (at most [`MAX_CATCH_UP_BLOCKS`]; a subscriber is a live view,
//! not a replay: history comes from the queries). A subscriber too slow to keep up skips
//! batches rather than holding memory.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_graphql::{Context, Result, SimpleObject};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use taoscope_schema::tables::BLOCKS_CHANNEL;
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, NoTls};
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::graphql::accounts::{StakeEvent, StakeFilter, stake_events};
use crate::graphql::blocks::Block;
use crate::graphql::page::{MAX_PAGE_SIZE, SortOrder};
use crate::graphql::scalars::{BlockNumberScalar, Rao};
use crate::graphql::subnets::check_netuid;
use crate::graphql::{gql, state};
use crate::store::StoreError;
use crate::store::postgres::{PgStore, number, query_err};

/// Most blocks one notification (or a reconnection) delivers.
pub const MAX_CATCH_UP_BLOCKS: i64 = 100;
/// Batches a subscriber may fall behind before it skips some.
const CHANNEL_CAPACITY: usize = 64;

const HIGHEST_BLOCK: &str = "SELECT COALESCE(max(number), -1) FROM blocks";
const PRICES: &str = "
    SELECT p.netuid, p.block_number, b.timestamp, p.price::float8, p.moving_price::float8, p.tao,
           p.alpha_in, p.alpha_out
      FROM pool_state p LEFT JOIN blocks b ON b.number = p.block_number
     WHERE p.block_number > $1 AND p.block_number <= $2
     ORDER BY p.block_number, p.netuid";

/// What one notification brought: new blocks with their prices and stake events.
#[derive(Debug, Default)]
pub struct LiveBatch {
    /// The new blocks, ascending.
    pub blocks: Vec<Block>,
    /// Every subnet's pool state at those blocks.
    pub prices: Vec<PriceTick>,
    /// Stake ledger rows of those blocks.
    pub stake_events: Vec<StakeEvent>,
}

/// A subnet's pool at one block.
#[derive(Debug, Clone, SimpleObject)]
pub struct PriceTick {
    /// Subnet.
    pub netuid: i32,
    /// Block.
    pub block_number: BlockNumberScalar,
    /// The block's time.
    pub timestamp: Option<DateTime<Utc>>,
    /// TAO per alpha.
    pub price: f64,
    /// The chain's moving price.
    pub moving_price: Option<f64>,
    /// TAO reserve, rao.
    pub tao_in: Rao,
    /// Alpha reserve, alpha rao.
    pub alpha_in: Rao,
    /// Alpha outstanding, alpha rao.
    pub alpha_out: Rao,
    /// Price × (alpha in + alpha out), TAO.
    pub market_cap: f64,
}

/// The broadcaster behind subscriptions (cheap to clone).
#[derive(Clone)]
pub struct LiveFeed {
    inner: Arc<FeedInner>,
}

struct FeedInner {
    listen_url: Option<String>,
    store: PgStore,
    sender: broadcast::Sender<Arc<LiveBatch>>,
    started: OnceLock<()>,
    closed: CancellationToken,
}

impl LiveFeed {
    /// A feed listening on `listen_url` (none: subscriptions are refused as unavailable).
    pub fn new(listen_url: Option<String>, store: PgStore) -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        let inner = FeedInner {
            listen_url,
            store,
            sender,
            started: OnceLock::new(),
            closed: CancellationToken::new(),
        };
        LiveFeed { inner: Arc::new(inner) }
    }

    /// Receives every batch from now on, starting the listener on first use.
    pub fn subscribe(&self) -> Result<broadcast::Receiver<Arc<LiveBatch>>, ApiError> {
        let Some(url) = self.inner.listen_url.clone() else {
            return Err(ApiError::Unavailable {
                reason: "live updates are not enabled".into(),
                source: None,
            });
        };
        if self.inner.closed.is_cancelled() {
            return Err(ApiError::Unavailable { reason: "the server is shutting down".into(), source: None });
        }
        let receiver = self.inner.sender.subscribe();
        self.inner.started.get_or_init(|| {
            let feed = self.clone();
            tokio::spawn(async move { feed.listen(url).await });
        });
        Ok(receiver)
    }

    /// Ends the feed: the listener stops and every subscription completes.
    pub fn close(&self) {
        self.inner.closed.cancel();
    }

    async fn listen(self, url: String) {
        let mut backoff = Duration::from_millis(250);
        let mut last: Option<i64> = None;
        loop {
            let outcome = tokio::select! {
                () = self.inner.closed.cancelled() => break,
                outcome = self.session(&url, &mut last) => outcome,
            };
            match outcome {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "live feed lost its database connection");
                    metrics::counter!("taoscope_api_live_reconnects_total").increment(1);
                }
            }
            tokio::select! {
                () = self.inner.closed.cancelled() => break,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(15));
        }
        // Dropping the last sender ends every subscriber's stream.
        tracing::debug!("live feed stopped");
    }

    /// One connection's life: `LISTEN`, catch up, then relay notifications until it fails.
    async fn session(&self, url: &str, last: &mut Option<i64>) -> Result<(), StoreError> {
        let (client, mut connection) =
            tokio_postgres::connect(url, NoTls).await.map_err(query_err("LISTEN"))?;
        let (notify_tx, mut notify_rx) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        if notify_tx.send(n.payload().to_string()).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        });
        client
            .batch_execute(&format!("SET default_transaction_read_only = on; LISTEN {BLOCKS_CHANNEL}"))
            .await
            .map_err(query_err("LISTEN"))?;
        let head: i64 =
            client.query_one(HIGHEST_BLOCK, &[]).await.map_err(query_err("HIGHEST_BLOCK"))?.get(0);
        match *last {
            Some(seen) if head > seen => self.publish(seen, head).await?,
            _ => {}
        }
        *last = Some(head);
        while let Some(payload) = notify_rx.recv().await {
            let Ok(height) = payload.parse::<i64>() else {
                tracing::warn!(%payload, "ignoring a malformed block notification");
                continue;
            };
            let seen = last.unwrap_or(-1);
            if height > seen {
                self.publish(seen, height).await?;
            }
            // A lower height is a rollback: the next blocks after it are new again.
            *last = Some(height);
        }
        let ended = driver.await.unwrap_or(Ok(()));
        match ended {
            Err(e) => Err(query_err("LISTEN")(e)),
            Ok(()) => Err(StoreError::Corrupt { what: "live feed", value: "connection closed".into() }),
        }
    }

    /// Reads blocks `(after, upto]` (the newest [`MAX_CATCH_UP_BLOCKS`]) and broadcasts them.
    async fn publish(&self, after: i64, upto: i64) -> Result<(), StoreError> {
        if self.inner.sender.receiver_count() == 0 {
            return Ok(());
        }
        let after = after.max(upto - MAX_CATCH_UP_BLOCKS);
        let batch = read_batch(&self.inner.store, after, upto).await?;
        metrics::counter!("taoscope_api_live_batches_total").increment(1);
        // No receivers left is not an error: the next subscriber starts fresh.
        let _ = self.inner.sender.send(Arc::new(batch));
        Ok(())
    }
}

async fn read_batch(store: &PgStore, after: i64, upto: i64) -> Result<LiveBatch, StoreError> {
    let blocks = store.blocks_between(after, upto).await?.into_iter().map(Block::from).collect();
    let client = store.client().await?;
    let rows = client.query(PRICES, &[&after, &upto]).await.map_err(query_err("LIVE_PRICES"))?;
    let prices = rows
        .iter()
        .map(|row| {
            let price: f64 = row.get(3);
            let alpha_in: i64 = row.get(6);
            let alpha_out: i64 = row.get(7);
            Ok(PriceTick {
                netuid: row.get(0),
                block_number: BlockNumberScalar(number("pool_state.block_number", row.get(1))?),
                timestamp: row.get(2),
                price,
                moving_price: row.get(4),
                tao_in: Rao(row.get(5)),
                alpha_in: Rao(alpha_in),
                alpha_out: Rao(alpha_out),
                market_cap: price * Rao(alpha_in.saturating_add(alpha_out)).whole(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    drop(client);
    let mut events = Vec::new();
    let range = |n: i64| Some(BlockNumberScalar(taoscope_schema::BlockNumber(u64::try_from(n).unwrap_or(0))));
    let filter = StakeFilter::new(None, None, None, range(after + 1), range(upto)).map_err(api_to_store)?;
    let mut cursor: Option<String> = None;
    loop {
        let page = stake_events(store, &filter, SortOrder::Asc, Some(MAX_PAGE_SIZE), cursor.as_deref())
            .await
            .map_err(api_to_store)?;
        cursor = page.edges.last().map(|e| e.cursor.clone());
        let more = page.has_next_page;
        events.extend(page.edges.into_iter().map(|e| e.node));
        if !more {
            break;
        }
    }
    Ok(LiveBatch { blocks, prices, stake_events: events })
}

fn api_to_store(e: ApiError) -> StoreError {
    match e {
        ApiError::Internal(e) | ApiError::Unavailable { source: Some(e), .. } => e,
        other => StoreError::Corrupt { what: "live batch", value: other.to_string() },
    }
}

/// The batches a subscriber receives, as a stream that skips what it missed when lagging and
/// ends when the feed closes.
fn batches(feed: &LiveFeed) -> Result<impl Stream<Item = Arc<LiveBatch>> + use<>, ApiError> {
    let receiver = feed.subscribe()?;
    let closed = feed.inner.closed.clone().cancelled_owned();
    Ok(futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(batch) => return Some((batch, receiver)),
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    metrics::counter!("taoscope_api_live_lagged_total").increment(skipped);
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .take_until(closed))
}

/// The subscription root.
#[derive(Debug, Default)]
pub struct Subscription;

#[async_graphql::Subscription]
impl Subscription {
    /// Each newly indexed block.
    async fn blocks(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Block>> {
        Ok(batches(state(ctx).live())
            .map_err(gql)?
            .flat_map(|batch| futures::stream::iter(batch.blocks.clone())))
    }

    /// A subnet's pool state at each newly indexed block.
    async fn subnet_prices(&self, ctx: &Context<'_>, netuid: i32) -> Result<impl Stream<Item = PriceTick>> {
        let netuid = i32::from(check_netuid(netuid).map_err(gql)?);
        Ok(batches(state(ctx).live()).map_err(gql)?.flat_map(move |batch| {
            futures::stream::iter(
                batch.prices.iter().filter(|p| p.netuid == netuid).cloned().collect::<Vec<_>>(),
            )
        }))
    }

    /// Stake ledger rows of each newly indexed block (every subnet, or `netuid`).
    async fn stake_events(
        &self,
        ctx: &Context<'_>,
        netuid: Option<i32>,
    ) -> Result<impl Stream<Item = StakeEvent>> {
        let netuid = netuid.map(check_netuid).transpose().map_err(gql)?.map(i32::from);
        Ok(batches(state(ctx).live()).map_err(gql)?.flat_map(move |batch| {
            let events: Vec<StakeEvent> = batch
                .stake_events
                .iter()
                .filter(|e| netuid.is_none() || e.netuid == netuid)
                .cloned()
                .collect();
            futures::stream::iter(events)
        }))
    }
}
