//! The node the indexer reads: one WebSocket connection (subxt's reconnecting RPC client) and
//! the legacy Substrate RPC methods, each call mapped to a typed error that says which block it
//! was for. Every method is a read, so a request that met a dropped connection, a timeout or an
//! answer that is not valid JSON for its type is sent again (a few times, with short pauses)
//! before the error reaches the pipeline.

use std::time::Duration;

use parity_scale_codec::Decode;
use subxt::SubstrateConfig;
use subxt::config::RpcConfigFor;
use subxt::rpcs::client::reconnecting_rpc_client::{ExponentialBackoff, RpcClient as ReconnectingClient};
use subxt::rpcs::methods::legacy::LegacyRpcMethods;
use subxt::rpcs::{RpcClient, rpc_params};
use subxt::utils::H256;

use crate::error::IndexerError;

mod wire;

use self::wire::{Hex, SignedBlock, StorageChangeSet, to_hex};

type Methods = LegacyRpcMethods<RpcConfigFor<SubstrateConfig>>;

/// How long connecting may take before the URL is declared unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts at one request while the connection drops or answers garbage.
const REQUEST_ATTEMPTS: u32 = 4;
/// Pause before the second attempt (doubling after).
const REQUEST_RETRY_PAUSE: Duration = Duration::from_millis(50);
/// Reconnection attempts after a drop (100 ms doubling to 1.6 s, about 3 s in all) before the
/// client gives up and the pipeline's own retry connects afresh.
const RECONNECT_ATTEMPTS: usize = 5;

/// `System.Events` storage key.
pub const SYSTEM_EVENTS_KEY: [u8; 32] = [
    0x26, 0xaa, 0x39, 0x4e, 0xea, 0x56, 0x30, 0xe0, 0x7c, 0x48, 0xae, 0x0c, 0x95, 0x58, 0xce, 0xf7, 0x80,
    0xd4, 0x1e, 0x5e, 0x16, 0x05, 0x67, 0x65, 0xbc, 0x84, 0x61, 0x85, 0x10, 0x72, 0xc9, 0xd7,
];

/// What identifies a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainIdentity {
    /// Hash of block 0.
    pub genesis_hash: [u8; 32],
    /// `system_chain`.
    pub name: String,
    /// SS58 prefix from `system_properties` (42 when absent).
    pub ss58_format: u16,
    /// Token decimals (9 when absent).
    pub token_decimals: u32,
    /// Token symbol ("TAO" when absent).
    pub token_symbol: String,
}

/// A runtime as `state_getRuntimeVersion` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// `specVersion`.
    pub spec_version: u32,
    /// `transactionVersion`.
    pub transaction_version: u32,
    /// `specName` (e.g. `node-subtensor`).
    pub spec_name: String,
    /// `implVersion`.
    pub impl_version: u32,
}

/// A block's raw parts as the node returns them.
#[derive(Clone, Debug)]
pub struct RawBlock {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: [u8; 32],
    /// Parent hash.
    pub parent_hash: [u8; 32],
    /// State root.
    pub state_root: [u8; 32],
    /// Extrinsics root.
    pub extrinsics_root: [u8; 32],
    /// Encoded extrinsics.
    pub extrinsics: Vec<Vec<u8>>,
    /// The `System.Events` value (empty when the key is absent).
    pub events: Vec<u8>,
    /// The header's digest says the runtime changed in this block (`RuntimeEnvironmentUpdated`,
    /// deposited by `frame_system` with every code change): its post-state runs a new runtime.
    pub runtime_updated: bool,
}

/// A connection to a node.
#[derive(Clone)]
pub struct Node {
    url: String,
    client: RpcClient,
    methods: Methods,
}

/// The useful part of an RPC client error: subxt and jsonrpsee wrap the cause ("Connection
/// refused") in layers of "RPC error: client error:" inside the message text itself.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let mut text = cause.to_string();
    while let Some(rest) = ["RPC error: ", "client error: "].iter().find_map(|p| text.strip_prefix(p)) {
        text = rest.to_string();
    }
    text
}

/// Whether sending the same request again may succeed: the connection dropped (the client is
/// reconnecting), the transport failed, or the answer did not parse. An error the node itself
/// returned (`User`) is its answer and is not retried here.
fn worth_resending(e: &subxt::rpcs::Error) -> bool {
    use subxt::rpcs::Error as E;
    matches!(e, E::DisconnectedWillReconnect(_) | E::Client(_) | E::Deserialization(_) | E::Decode(_))
}

/// Runs request `call` with a timeout, sending it again while the failure is transient
/// ([`worth_resending`]); counts requests, retries and latency per method.
async fn timed<T, F>(
    method: &'static str,
    block: Option<u64>,
    call: impl Fn() -> F,
) -> Result<T, IndexerError>
where
    F: Future<Output = Result<T, subxt::rpcs::Error>>,
{
    let mut pause = REQUEST_RETRY_PAUSE;
    let mut attempt = 1;
    loop {
        let started = std::time::Instant::now();
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, call()).await;
        metrics::histogram!("taoscope_rpc_seconds", "method" => method)
            .record(started.elapsed().as_secs_f64());
        let reason = match outcome {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) if !worth_resending(&e) || attempt == REQUEST_ATTEMPTS => {
                return Err(IndexerError::Rpc { method, block, reason: root_cause(&e) });
            }
            Ok(Err(e)) => root_cause(&e),
            Err(_) if attempt == REQUEST_ATTEMPTS => {
                return Err(IndexerError::Rpc {
                    method,
                    block,
                    reason: format!("no answer in {REQUEST_TIMEOUT:?}"),
                });
            }
            Err(_) => format!("no answer in {REQUEST_TIMEOUT:?}"),
        };
        metrics::counter!("taoscope_rpc_retries_total", "method" => method).increment(1);
        tracing::debug!(method, block, attempt, %reason, "request failed; sending it again");
        tokio::time::sleep(pause).await;
        pause *= 2;
        attempt += 1;
    }
}

/// `http(s)://` node URLs name the same port's WebSocket endpoint on a Substrate node.
pub fn websocket_url(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        url.to_string()
    }
}

impl Node {
    /// Connects and checks that a Substrate node answers.
    pub async fn connect(url: &str) -> Result<Node, IndexerError> {
        let ws = websocket_url(url);
        if !ws.starts_with("ws://") && !ws.starts_with("wss://") {
            return Err(IndexerError::Connect {
                url: url.into(),
                reason: "the URL must start with ws://, wss://, http:// or https://".into(),
            });
        }
        let policy = ExponentialBackoff::from_millis(2).factor(50).take(RECONNECT_ATTEMPTS);
        let connecting = ReconnectingClient::builder()
            .retry_policy(policy)
            .request_timeout(REQUEST_TIMEOUT)
            .connection_timeout(CONNECT_TIMEOUT)
            .build(&ws);
        let client = match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
            Ok(Ok(c)) => RpcClient::new(c),
            Ok(Err(e)) => return Err(IndexerError::Connect { url: ws, reason: root_cause(&e) }),
            Err(_) => {
                return Err(IndexerError::Connect {
                    url: ws,
                    reason: format!("no answer in {CONNECT_TIMEOUT:?}"),
                });
            }
        };
        let node = Node { url: ws, methods: LegacyRpcMethods::new(client.clone()), client };
        if let Err(e) = node.block_hash(0).await {
            return Err(IndexerError::NotANode { url: node.url, reason: e.to_string() });
        }
        Ok(node)
    }

    /// The WebSocket URL in use.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Genesis hash, chain name and token properties.
    pub async fn identity(&self) -> Result<ChainIdentity, IndexerError> {
        let genesis_hash = self
            .block_hash(0)
            .await?
            .ok_or_else(|| IndexerError::NotANode { url: self.url.clone(), reason: "no block 0".into() })?;
        let name = timed("system_chain", None, || self.methods.system_chain()).await?;
        let props = timed("system_properties", None, || self.methods.system_properties()).await?;
        let num = |k: &str, default: u64| props.get(k).and_then(|v| v.as_u64()).unwrap_or(default);
        Ok(ChainIdentity {
            genesis_hash,
            name,
            ss58_format: num("ss58Format", 42) as u16,
            token_decimals: num("tokenDecimals", 9) as u32,
            token_symbol: props.get("tokenSymbol").and_then(|v| v.as_str()).unwrap_or("TAO").to_string(),
        })
    }

    /// Hash of block `number` (`None`: not yet produced).
    pub async fn block_hash(&self, number: u64) -> Result<Option<[u8; 32]>, IndexerError> {
        let h = timed("chain_getBlockHash", Some(number), || {
            self.methods.chain_get_block_hash(Some(number.into()))
        })
        .await?;
        Ok(h.map(|h| h.0))
    }

    /// Number and hash of the finalized head.
    pub async fn finalized_head(&self) -> Result<(u64, [u8; 32]), IndexerError> {
        let hash = timed("chain_getFinalizedHead", None, || self.methods.chain_get_finalized_head()).await?;
        let header = timed("chain_getHeader", None, || self.methods.chain_get_header(Some(hash)))
            .await?
            .ok_or_else(|| IndexerError::Rpc {
                method: "chain_getHeader",
                block: None,
                reason: "finalized head has no header".into(),
            })?;
        Ok((subxt::config::Header::number(&header), hash.0))
    }

    /// Number and hash of the best (not necessarily final) head.
    pub async fn best_head(&self) -> Result<(u64, [u8; 32]), IndexerError> {
        let header = timed("chain_getHeader", None, || self.methods.chain_get_header(None))
            .await?
            .ok_or_else(|| IndexerError::Rpc {
                method: "chain_getHeader",
                block: None,
                reason: "no best header".into(),
            })?;
        let number = subxt::config::Header::number(&header);
        let hash = self.block_hash(number).await?.ok_or(IndexerError::ChainChanged { block: number })?;
        Ok((number, hash))
    }

    /// The runtime in the post-state of block `hash`.
    pub async fn runtime_version(&self, number: u64, hash: [u8; 32]) -> Result<RuntimeInfo, IndexerError> {
        let v = timed("state_getRuntimeVersion", Some(number), || {
            self.methods.state_get_runtime_version(Some(H256(hash)))
        })
        .await?;
        Ok(RuntimeInfo {
            spec_version: v.spec_version,
            transaction_version: v.transaction_version,
            spec_name: v.other.get("specName").and_then(|n| n.as_str()).unwrap_or_default().to_string(),
            impl_version: v.other.get("implVersion").and_then(|n| n.as_u64()).unwrap_or_default() as u32,
        })
    }

    /// Block `number`'s header, extrinsics and events (three requests; the runtime version is
    /// asked for only where the digest says it changed, see [`RawBlock::runtime_updated`]).
    pub async fn fetch_block(&self, number: u64) -> Result<RawBlock, IndexerError> {
        let hash = self.block_hash(number).await?.ok_or_else(|| IndexerError::BadBlock {
            block: number,
            reason: "the node has no such block".into(),
        })?;
        let (body, events) = tokio::join!(self.block_body(number, hash), self.block_events(number, hash));
        let ((header, extrinsics), events) = (body?, events?);
        let runtime_updated = header
            .digest
            .logs
            .iter()
            .any(|item| matches!(item, subxt::config::substrate::DigestItem::RuntimeEnvironmentUpdated));
        Ok(RawBlock {
            number,
            hash,
            parent_hash: header.parent_hash.0,
            state_root: header.state_root.0,
            extrinsics_root: header.extrinsics_root.0,
            extrinsics,
            events,
            runtime_updated,
        })
    }

    /// Header and encoded extrinsics of block (`number`, `hash`).
    pub async fn block_body(
        &self,
        number: u64,
        hash: [u8; 32],
    ) -> Result<(<SubstrateConfig as subxt::Config>::Header, Vec<Vec<u8>>), IndexerError> {
        let bad = |reason: &str| IndexerError::BadBlock { block: number, reason: reason.into() };
        let details: SignedBlock = timed("chain_getBlock", Some(number), || {
            self.client.request::<Option<SignedBlock>>("chain_getBlock", rpc_params![to_hex(&hash)])
        })
        .await?
        .ok_or_else(|| bad("chain_getBlock returned nothing"))?;
        let header = details.block.header;
        if subxt::config::Header::number(&header) != number {
            return Err(bad("header number does not match"));
        }
        Ok((header, details.block.extrinsics.into_iter().map(|x| x.0).collect()))
    }

    /// The `System.Events` value of block (`number`, `hash`) (empty when absent).
    pub async fn block_events(&self, number: u64, hash: [u8; 32]) -> Result<Vec<u8>, IndexerError> {
        let events = timed("state_getStorage", Some(number), || {
            let params = rpc_params![to_hex(&SYSTEM_EVENTS_KEY), to_hex(&hash)];
            self.client.request::<Option<Hex>>("state_getStorage", params)
        })
        .await?;
        Ok(events.map(|h| h.0).unwrap_or_default())
    }

    /// Values of `keys` at block `hash`, in the order of `keys` (one `state_queryStorageAt`).
    pub async fn query_storage(
        &self,
        number: u64,
        hash: [u8; 32],
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, IndexerError> {
        if keys.is_empty() {
            return Ok(vec![]);
        }
        let keys_hex: Vec<String> = keys.iter().map(|k| to_hex(k)).collect();
        let sets = timed("state_queryStorageAt", Some(number), || {
            let params = rpc_params![&keys_hex, to_hex(&hash)];
            self.client.request::<Vec<StorageChangeSet>>("state_queryStorageAt", params)
        })
        .await?;
        let mut found: std::collections::HashMap<Vec<u8>, Option<Vec<u8>>> = std::collections::HashMap::new();
        for set in sets {
            for (k, v) in set.changes {
                found.insert(k.0, v.map(|v| v.0));
            }
        }
        Ok(keys.iter().map(|k| found.get(k).cloned().flatten()).collect())
    }

    /// Up to `count` keys under `prefix` at block `hash`, after `start` when given.
    pub async fn keys_paged(
        &self,
        number: u64,
        hash: [u8; 32],
        prefix: &[u8],
        count: u32,
        start: Option<&[u8]>,
    ) -> Result<Vec<Vec<u8>>, IndexerError> {
        timed("state_getKeysPaged", Some(number), || {
            self.methods.state_get_keys_paged(prefix, count, start, Some(H256(hash)))
        })
        .await
    }

    /// Calls runtime API `method` (e.g. `SubnetInfoRuntimeApi_get_all_dynamic_info`) at `hash`.
    pub async fn runtime_call(
        &self,
        number: u64,
        hash: [u8; 32],
        method: &str,
        args: &[u8],
    ) -> Result<Vec<u8>, IndexerError> {
        let call = timed("state_call", Some(number), || {
            self.client.request::<Hex>("state_call", rpc_params![method, to_hex(args), to_hex(&hash)])
        });
        Ok(call.await?.0)
    }

    /// The runtime's metadata as of block `hash`: V15 via `Metadata_metadata_at_version`, else
    /// V14 via `state_getMetadata`. Returns the `RuntimeMetadataPrefixed` bytes.
    pub async fn metadata(&self, spec: u32, number: u64, hash: [u8; 32]) -> Result<Vec<u8>, IndexerError> {
        let at = Some(H256(hash));
        let version = 15u32.to_le_bytes();
        let v15 = timed("state_call", Some(number), || {
            self.methods.state_call("Metadata_metadata_at_version", Some(&version), at)
        })
        .await;
        if let Ok(bytes) = v15
            && let Ok(Some(blob)) = Option::<Vec<u8>>::decode(&mut &bytes[..])
        {
            return Ok(blob);
        }
        let v14 = timed("state_getMetadata", Some(number), || self.methods.state_get_metadata(at)).await?;
        let blob = v14.into_raw();
        if !blob.starts_with(b"meta") {
            // Retryable: an answer that is not metadata is a bad answer, not a bad runtime.
            return Err(IndexerError::Rpc {
                method: "state_getMetadata",
                block: Some(number),
                reason: format!("spec {spec}: the answer is not runtime metadata"),
            });
        }
        Ok(blob)
    }
}
