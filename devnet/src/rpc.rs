//! The Substrate JSON-RPC API of the devnet, over WebSocket and HTTP on one port.
//!
//! Answers what Substrate clients (subxt, py-substrate-interface, polkadot.js) use to read a
//! chain: `system_*`, `rpc_methods`, `chain_*` (with head subscriptions), `state_*` (storage,
//! keys, metadata, runtime version, `state_call` for `Core_version` and the `Metadata` API), and
//! the usual aliases. Unknown blocks give the same error a pruned or archive node would; so do
//! state queries at blocks a fork abandoned (code 4003, "State already discarded"), whose
//! headers and bodies stay available by hash.
//!
//! Each connection is served through [`faults::FaultService`], which injects the configured
//! faults (none by default).

mod faults;
mod heads;

use std::net::SocketAddr;
use std::sync::Arc;

use jsonrpsee::server::middleware::rpc::RpcServiceBuilder;
use jsonrpsee::server::{
    Methods, RpcModule, Server, ServerConfig, ServerHandle, StopHandle, serve_with_graceful_shutdown,
    stop_channel,
};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use parity_scale_codec::{Decode, Encode};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use self::faults::FaultService;
pub use self::faults::{FaultCounts, FaultDice};
use crate::chain::header::{hex0x, push_hex0x};
use crate::chain::{Chain, StoredBlock};
use crate::node::{Devnet, DevnetError};
use crate::runtime::RuntimeVersionJson;
use crate::runtime::apis::{GET_ALL_DYNAMIC_INFO, GET_DYNAMIC_INFO};

/// The chain name reported by `system_chain`.
pub const CHAIN_NAME: &str = "Taoscope Devnet";
/// Largest page `state_getKeysPaged` serves, as on a Substrate node.
const MAX_KEYS_PAGE: u64 = 1000;

/// A running RPC server.
pub struct RpcServer {
    handle: ServerHandle,
    addr: SocketAddr,
    dice: Arc<FaultDice>,
}

impl RpcServer {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://` URL of the server.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// `http://` URL of the server.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Faults injected so far.
    pub fn faults_injected(&self) -> FaultCounts {
        self.dice.counts()
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(self) {
        let _ = self.handle.stop();
        self.handle.stopped().await;
    }
}

/// What the RPC methods share: the devnet and the fault dice.
pub struct RpcState {
    /// The chain served.
    pub devnet: Arc<Devnet>,
    /// Decides injected faults.
    pub dice: Arc<FaultDice>,
}

/// Binds `addr` and serves `devnet` on it, injecting the faults of its configuration.
pub async fn serve(devnet: Arc<Devnet>, addr: SocketAddr) -> Result<RpcServer, DevnetError> {
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|source| DevnetError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(|source| DevnetError::Bind { addr, source })?;
    let dice = Arc::new(FaultDice::new(devnet.config().faults, devnet.config().seed));
    let methods: Methods = module_with(devnet, dice.clone()).into();
    let config = ServerConfig::builder().max_response_body_size(64 * 1024 * 1024).build();
    let (stop, handle) = stop_channel();
    tokio::spawn(accept(listener, config, methods, stop, dice.clone()));
    Ok(RpcServer { handle, addr: local, dice })
}

/// Accepts connections until stopped, serving each through the fault middleware.
async fn accept(
    listener: tokio::net::TcpListener,
    config: ServerConfig,
    methods: Methods,
    stop: StopHandle,
    dice: Arc<FaultDice>,
) {
    let builder = Server::builder().set_config(config).to_service_builder();
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(e) => {
                    tracing::debug!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = stop.clone().shutdown() => return,
        };
        // A second handle on the socket lets a drop fault shut it down under the server.
        let (socket, handle) = match socket.into_std().and_then(|s| Ok((s.try_clone()?, s))) {
            Ok((std, handle)) => match tokio::net::TcpStream::from_std(std) {
                Ok(socket) => (socket, Some(Arc::new(handle))),
                Err(_) => continue,
            },
            Err(_) => continue,
        };
        let dice = dice.clone();
        let middleware = RpcServiceBuilder::new().layer_fn(move |inner| FaultService {
            inner,
            dice: dice.clone(),
            socket: handle.clone(),
        });
        let service = builder.clone().set_rpc_middleware(middleware).build(methods.clone(), stop.clone());
        let stopped = stop.clone().shutdown();
        tokio::spawn(async move {
            let _ = serve_with_graceful_shutdown(socket, service, stopped).await;
        });
    }
}

fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    error(-32602, message)
}

fn unknown_block(hash: &[u8; 32]) -> ErrorObjectOwned {
    error(4003, format!("Client error: UnknownBlock: header not found for {}", hex0x(hash)))
}

fn discarded_state(hash: &[u8; 32]) -> ErrorObjectOwned {
    error(4003, format!("Client error: State already discarded for {}", hex0x(hash)))
}

fn parse_bytes(s: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    hex::decode(s.trim_start_matches("0x")).map_err(|e| invalid_params(format!("invalid hex {s:?}: {e}")))
}

fn parse_hash(v: &Value) -> Result<Option<[u8; 32]>, ErrorObjectOwned> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let bytes = parse_bytes(s)?;
            let hash: [u8; 32] =
                bytes.try_into().map_err(|_| invalid_params(format!("block hash must be 32 bytes: {s}")))?;
            Ok(Some(hash))
        }
        other => Err(invalid_params(format!("expected a block hash, got {other}"))),
    }
}

/// Positional parameters as JSON values (missing trailing ones read as `null`).
fn args(params: &Params<'_>) -> Result<Vec<Value>, ErrorObjectOwned> {
    match params.as_str() {
        None => Ok(vec![]),
        Some(_) => match params.parse::<Value>()? {
            Value::Array(a) => Ok(a),
            Value::Null => Ok(vec![]),
            other => Err(invalid_params(format!("expected positional parameters, got {other}"))),
        },
    }
}

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Null)
}

fn arg_str<'a>(args: &'a [Value], i: usize, what: &str) -> Result<&'a str, ErrorObjectOwned> {
    arg(args, i).as_str().ok_or_else(|| invalid_params(format!("missing {what}")))
}

/// The block `hash` names, or the best block when absent.
fn at(chain: &Chain, hash: Option<[u8; 32]>) -> Result<Arc<StoredBlock>, ErrorObjectOwned> {
    find(chain, hash).ok_or_else(|| unknown_block(&hash.unwrap_or_default()))
}

/// The block with `hash` (the best block for `None`), or `None` when unknown (header and block
/// queries answer `null` rather than an error).
fn find(chain: &Chain, hash: Option<[u8; 32]>) -> Option<Arc<StoredBlock>> {
    match hash {
        None => Some(chain.best()),
        Some(h) => chain.block_by_hash(&h),
    }
}

/// Like [`at`], for queries that need the block's state (canonical blocks only).
fn at_state(chain: &Chain, hash: Option<[u8; 32]>) -> Result<Arc<StoredBlock>, ErrorObjectOwned> {
    let block = at(chain, hash)?;
    if chain.has_state(&block) { Ok(block) } else { Err(discarded_state(&block.hash)) }
}

fn block_number_of(v: &Value) -> Result<Option<u32>, ErrorObjectOwned> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).ok(),
        _ => None,
    };
    n.map(|n| u32::try_from(n).ok()).ok_or_else(|| invalid_params(format!("invalid block number {v}")))
}

fn block_hash(chain: &Chain, v: &Value) -> Result<Value, ErrorObjectOwned> {
    match v {
        Value::Null => Ok(json!(hex0x(&chain.best().hash))),
        Value::Array(list) => {
            list.iter().map(|x| block_hash(chain, x)).collect::<Result<Vec<_>, _>>().map(Value::Array)
        }
        v => Ok(match block_number_of(v)?.and_then(|n| chain.block(n)) {
            Some(b) => json!(hex0x(&b.hash)),
            None => Value::Null,
        }),
    }
}

/// `chain_getBlock`'s answer, written directly (a block is served at high rates).
fn block_json(block: &StoredBlock, dice: &FaultDice) -> Box<RawValue> {
    let size: usize = block.extrinsics.iter().map(|x| 2 * x.len() + 5).sum();
    let mut out = String::with_capacity(size + 1024);
    out.push_str(r#"{"block":{"header":"#);
    out.push_str(block.header_json().get());
    out.push_str(r#","extrinsics":["#);
    let garble = dice.garbage();
    for (i, x) in block.extrinsics.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        if garble {
            out.push_str(&faults::corrupt(&hex0x(x)));
        } else {
            push_hex0x(&mut out, x);
        }
        out.push('"');
    }
    out.push_str(r#"]},"justifications":null}"#);
    RawValue::from_string(out).expect("valid json")
}

fn state_call(
    chain: &Chain,
    method: &str,
    data: &[u8],
    block: &StoredBlock,
) -> Result<Vec<u8>, ErrorObjectOwned> {
    let spec = block.spec;
    let number = block.header.number;
    match method {
        GET_ALL_DYNAMIC_INFO => Ok(chain.dynamic_info_all(number)),
        GET_DYNAMIC_INFO => {
            let netuid =
                u16::decode(&mut &data[..]).map_err(|e| invalid_params(format!("bad netuid: {e}")))?;
            Ok(chain.dynamic_info(netuid, number))
        }
        "Core_version" => Ok(spec.version().encode()),
        "Metadata_metadata_versions" => Ok(vec![14u32, 15].encode()),
        "Metadata_metadata" => Ok(spec.metadata_v14().to_vec().encode()),
        "Metadata_metadata_at_version" => {
            let version =
                u32::decode(&mut &data[..]).map_err(|e| invalid_params(format!("bad version: {e}")))?;
            let blob = match version {
                14 => Some(spec.metadata_v14().to_vec()),
                15 => Some(spec.metadata_v15().to_vec()),
                _ => None,
            };
            Ok(blob.encode())
        }
        other => Err(error(
            4003,
            format!("Client error: Execution failed: Other: Exported method {other} is not found"),
        )),
    }
}

const METHODS: &[&str] = &[
    "chain_getBlock",
    "chain_getBlockHash",
    "chain_getFinalisedHead",
    "chain_getFinalizedHead",
    "chain_getHead",
    "chain_getHeader",
    "chain_getRuntimeVersion",
    "chain_subscribeAllHeads",
    "chain_subscribeFinalisedHeads",
    "chain_subscribeFinalizedHeads",
    "chain_subscribeNewHead",
    "chain_subscribeNewHeads",
    "chain_subscribeRuntimeVersion",
    "chain_unsubscribeAllHeads",
    "chain_unsubscribeFinalisedHeads",
    "chain_unsubscribeFinalizedHeads",
    "chain_unsubscribeNewHead",
    "chain_unsubscribeNewHeads",
    "chain_unsubscribeRuntimeVersion",
    "rpc_methods",
    "state_call",
    "state_callAt",
    "state_getKeysPaged",
    "state_getKeysPagedAt",
    "state_getMetadata",
    "state_getRuntimeVersion",
    "state_getStorage",
    "state_getStorageAt",
    "state_queryStorageAt",
    "state_subscribeRuntimeVersion",
    "state_unsubscribeRuntimeVersion",
    "subscribe_newHead",
    "system_chain",
    "system_chainType",
    "system_health",
    "system_name",
    "system_properties",
    "system_version",
    "unsubscribe_newHead",
];

type Ctx = Arc<RpcState>;

fn register_methods(m: &mut RpcModule<Ctx>) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_method("system_chain", |_, _, _| CHAIN_NAME)?;
    m.register_method("system_name", |_, _, _| "taoscope-devnet")?;
    m.register_method("system_version", |_, _, _| env!("CARGO_PKG_VERSION"))?;
    m.register_method("system_chainType", |_, _, _| "Development")?;
    m.register_method(
        "system_properties",
        |_, _, _| json!({ "ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO" }),
    )?;
    m.register_method(
        "system_health",
        |_, _, _| json!({ "peers": 0, "isSyncing": false, "shouldHavePeers": false }),
    )?;
    m.register_method("rpc_methods", |_, _, _| json!({ "version": 1, "methods": METHODS }))?;

    m.register_method("chain_getBlockHash", |p, d, _| {
        let a = args(&p)?;
        block_hash(&d.devnet.chain(), arg(&a, 0))
    })?;
    m.register_method("chain_getFinalizedHead", |_, d, _| hex0x(&d.devnet.chain().finalized().hash))?;
    m.register_method("chain_getHeader", |p, d, _| -> Result<Option<Box<RawValue>>, ErrorObjectOwned> {
        let a = args(&p)?;
        let hash = parse_hash(arg(&a, 0))?;
        let block = find(&d.devnet.chain(), hash);
        Ok(block.map(|b| b.header_json()))
    })?;
    m.register_method("chain_getBlock", |p, d, _| -> Result<Option<Box<RawValue>>, ErrorObjectOwned> {
        let a = args(&p)?;
        let hash = parse_hash(arg(&a, 0))?;
        let block = find(&d.devnet.chain(), hash);
        Ok(block.map(|b| block_json(&b, &d.dice)))
    })?;

    m.register_method("state_getRuntimeVersion", |p, d, _| -> Result<Value, ErrorObjectOwned> {
        let a = args(&p)?;
        let block = at(&d.devnet.chain(), parse_hash(arg(&a, 0))?)?;
        Ok(serde_json::to_value(RuntimeVersionJson::from(&block.spec.version())).expect("serialisable"))
    })?;
    m.register_method("state_getMetadata", |p, d, _| -> Result<String, ErrorObjectOwned> {
        let a = args(&p)?;
        let block = at(&d.devnet.chain(), parse_hash(arg(&a, 0))?)?;
        Ok(hex0x(block.spec.metadata_v14()))
    })?;
    m.register_method("state_call", |p, d, _| -> Result<String, ErrorObjectOwned> {
        let a = args(&p)?;
        let method = arg_str(&a, 0, "method name")?;
        let data = parse_bytes(arg(&a, 1).as_str().unwrap_or("0x"))?;
        let hash = parse_hash(arg(&a, 2))?;
        let out = {
            let chain = d.devnet.chain();
            let block = at_state(&chain, hash)?;
            state_call(&chain, method, &data, &block)?
        };
        // Metadata and version answers identify the runtime; clients cannot proceed without
        // them, so only the data-bearing runtime APIs are corrupted.
        let data_bearing = !method.starts_with("Metadata_") && method != "Core_version";
        Ok(if data_bearing { d.dice.garble(hex0x(&out)) } else { hex0x(&out) })
    })?;
    m.register_method("state_getStorage", |p, d, _| -> Result<Value, ErrorObjectOwned> {
        let a = args(&p)?;
        let key = parse_bytes(arg_str(&a, 0, "storage key")?)?;
        let hash = parse_hash(arg(&a, 1))?;
        let value = {
            let chain = d.devnet.chain();
            let block = at_state(&chain, hash)?;
            chain.storage(&key, block.header.number)
        };
        Ok(value.map_or(Value::Null, |v| json!(d.dice.garble(hex0x(&v)))))
    })?;
    m.register_method("state_queryStorageAt", |p, d, _| -> Result<Value, ErrorObjectOwned> {
        let a = args(&p)?;
        let keys = arg(&a, 0).as_array().ok_or_else(|| invalid_params("expected a list of keys"))?;
        let keys = keys
            .iter()
            .map(|k| {
                k.as_str().ok_or_else(|| invalid_params("keys must be hex strings")).and_then(parse_bytes)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let hash = parse_hash(arg(&a, 1))?;
        let (block, values) = {
            let chain = d.devnet.chain();
            let block = at_state(&chain, hash)?;
            let values: Vec<_> = keys.iter().map(|k| chain.storage(k, block.header.number)).collect();
            (block, values)
        };
        let changes: Vec<Value> = keys
            .iter()
            .zip(values)
            .map(|(k, v)| json!([hex0x(k), v.map_or(Value::Null, |v| json!(d.dice.garble(hex0x(&v))))]))
            .collect();
        Ok(json!([{ "block": hex0x(&block.hash), "changes": changes }]))
    })?;
    m.register_method("state_getKeysPaged", |p, d, _| -> Result<Value, ErrorObjectOwned> {
        let a = args(&p)?;
        let prefix = parse_bytes(arg(&a, 0).as_str().unwrap_or("0x"))?;
        let count = arg(&a, 1).as_u64().ok_or_else(|| invalid_params("missing count"))?;
        if count > MAX_KEYS_PAGE {
            return Err(invalid_params(format!(
                "count exceeds maximum value. value: {count}, max: {MAX_KEYS_PAGE}"
            )));
        }
        let start = match arg(&a, 2) {
            Value::String(s) => Some(parse_bytes(s)?),
            _ => None,
        };
        let chain = d.devnet.chain();
        let block = at_state(&chain, parse_hash(arg(&a, 3))?)?;
        let keys = chain.keys_paged(&prefix, count as usize, start.as_deref(), block.header.number);
        Ok(json!(keys.iter().map(|k| hex0x(k)).collect::<Vec<_>>()))
    })?;

    for (alias, target) in [
        ("chain_getHead", "chain_getBlockHash"),
        ("chain_getFinalisedHead", "chain_getFinalizedHead"),
        ("chain_getRuntimeVersion", "state_getRuntimeVersion"),
        ("state_getStorageAt", "state_getStorage"),
        ("state_callAt", "state_call"),
        ("state_getKeysPagedAt", "state_getKeysPaged"),
    ] {
        m.register_alias(alias, target)?;
    }
    Ok(())
}

/// The devnet's RPC methods, with the faults of its configuration.
pub fn module(devnet: Arc<Devnet>) -> RpcModule<Ctx> {
    let dice = Arc::new(FaultDice::new(devnet.config().faults, devnet.config().seed));
    module_with(devnet, dice)
}

fn module_with(devnet: Arc<Devnet>, dice: Arc<FaultDice>) -> RpcModule<Ctx> {
    let mut m = RpcModule::new(Arc::new(RpcState { devnet, dice }));
    register_methods(&mut m).expect("method names are unique");
    heads::register(&mut m).expect("subscription names are unique");
    m
}
