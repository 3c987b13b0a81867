//! The devnet read by off-the-shelf clients: subxt over WebSocket (metadata, per-block runtime,
//! events, storage, finalized-block streaming) and plain HTTP JSON-RPC.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use subxt::dynamic::Value as DynValue;
use subxt::{OnlineClient, SubstrateConfig};
use taoscope_devnet::{Devnet, DevnetConfig, RpcServer};

const UPGRADE_AT: u32 = 20;

fn config() -> DevnetConfig {
    DevnetConfig {
        subnets: 4,
        prebuilt: 40,
        seed: 7,
        block_time: Duration::from_millis(100),
        finality_lag: 2,
        upgrade_at: Some(UPGRADE_AT),
        tempo: 9,
        ..DevnetConfig::default()
    }
}

async fn start(cfg: DevnetConfig) -> (Arc<Devnet>, RpcServer) {
    let devnet = Devnet::new(cfg).expect("devnet");
    let server = taoscope_devnet::serve(devnet.clone(), "127.0.0.1:0".parse().unwrap()).await.expect("serve");
    (devnet, server)
}

async fn http(server: &RpcServer, method: &str, params: Value) -> Value {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    reqwest::Client::new().post(server.http_url()).json(&body).send().await.unwrap().json().await.unwrap()
}

fn stake_added_field_counts(events: &subxt::events::Events<SubstrateConfig>) -> Vec<usize> {
    events
        .iter()
        .map(|e| e.expect("event decodes"))
        .filter(|e| e.pallet_name() == "SubtensorModule" && e.event_name() == "StakeAdded")
        .map(|e| {
            let fields = e.decode_fields_unchecked_as::<scale_value::Composite<()>>().expect("fields decode");
            fields.values().count()
        })
        .collect()
}

#[tokio::test]
async fn subxt_reads_blocks_events_and_storage_across_the_runtime_upgrade() {
    let (devnet, server) = start(config()).await;
    let api =
        OnlineClient::<SubstrateConfig>::from_insecure_url(server.ws_url()).await.expect("subxt connects");
    assert_eq!(api.genesis_hash().0, devnet.chain().genesis_hash());

    let before = api.at_block(UPGRADE_AT as u64 - 5).await.unwrap();
    let after = api.at_block(UPGRADE_AT as u64 + 5).await.unwrap();
    assert_eq!(before.spec_version(), 233);
    assert_eq!(after.spec_version(), 343);
    // The upgrade block reports the new runtime (its post-state holds the new code).
    assert_eq!(api.at_block(UPGRADE_AT as u64).await.unwrap().spec_version(), 343);

    let mut five = vec![];
    for n in 2..UPGRADE_AT as u64 {
        five.extend(stake_added_field_counts(
            &api.at_block(n).await.unwrap().events().fetch().await.unwrap(),
        ));
    }
    let mut six = vec![];
    for n in UPGRADE_AT as u64 + 1..=40 {
        six.extend(stake_added_field_counts(&api.at_block(n).await.unwrap().events().fetch().await.unwrap()));
    }
    assert!(!five.is_empty() && five.iter().all(|&c| c == 5), "{five:?}");
    assert!(!six.is_empty() && six.iter().all(|&c| c == 6), "{six:?}");

    // The upgrade block's events were produced by the old runtime: decoded with the parent's
    // metadata they all decode, and the set_code shows up.
    let upgrade = api.at_block(UPGRADE_AT as u64).await.unwrap();
    let raw = upgrade.storage().fetch_raw(taoscope_devnet::runtime::storage::events_key()).await.unwrap();
    let parent = api.at_block(UPGRADE_AT as u64 - 1).await.unwrap();
    let events = parent.events().from_bytes(raw);
    let names: Vec<String> = events.iter().map(|e| e.unwrap().event_name().to_string()).collect();
    assert!(names.contains(&"CodeUpdated".to_string()), "{names:?}");
    let xts = upgrade.extrinsics().fetch().await.unwrap();
    let calls: Vec<String> =
        xts.iter().map(|x| x.unwrap()).map(|x| format!("{}.{}", x.pallet_name(), x.call_name())).collect();
    assert_eq!(calls[0], "Timestamp.set");
    assert!(calls.contains(&"Sudo.sudo".to_string()), "{calls:?}");

    // Storage decodes to the simulator's values, with the era's items.
    let addr = subxt::dynamic::storage::<(u16,), u64>("SubtensorModule", "SubnetTAO");
    let tao: u64 = after.storage().fetch(addr, (1u16,)).await.unwrap().decode().unwrap();
    assert!(tao >= 1_000_000_000_000, "pool starts with the 1000 TAO lock: {tao}");
    let sqrt = subxt::dynamic::storage::<(u16,), DynValue>("Swap", "AlphaSqrtPrice");
    assert!(after.storage().fetch(sqrt.clone(), (1u16,)).await.is_ok());
    assert!(before.storage().fetch(sqrt, (1u16,)).await.is_err(), "no Swap pallet before the upgrade");
    server.stop().await;
}

#[tokio::test]
async fn subxt_streams_finalized_blocks_in_order() {
    let (devnet, server) = start(DevnetConfig { prebuilt: 3, ..config() }).await;
    let cancel = tokio_util::sync::CancellationToken::new();
    let producer = tokio::spawn(devnet.clone().run(cancel.clone()));
    let api = OnlineClient::<SubstrateConfig>::from_insecure_url(server.ws_url()).await.unwrap();
    let mut blocks = api.stream_blocks().await.unwrap();
    let mut seen = vec![];
    while seen.len() < 4 {
        let b = tokio::time::timeout(Duration::from_secs(20), blocks.next())
            .await
            .expect("a block")
            .unwrap()
            .unwrap();
        seen.push(b.number());
    }
    assert!(seen.windows(2).all(|w| w[1] == w[0] + 1), "{seen:?}");
    let best = devnet.chain().best().header.number as u64;
    assert!(seen[3] <= best - 2, "finalized lags best by 2: {seen:?} best {best}");
    cancel.cancel();
    producer.await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn http_json_rpc_answers_like_a_node() {
    let (devnet, server) = start(config()).await;
    let props = http(&server, "system_properties", json!([])).await;
    assert_eq!(props["result"], json!({ "ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO" }));
    assert_eq!(http(&server, "system_chain", json!([])).await["result"], "Taoscope Devnet");
    let methods = http(&server, "rpc_methods", json!([])).await;
    for m in ["state_queryStorageAt", "chain_subscribeFinalizedHeads", "state_getKeysPaged"] {
        assert!(methods["result"]["methods"].as_array().unwrap().contains(&json!(m)), "{m}");
    }

    let h10 = http(&server, "chain_getBlockHash", json!([10])).await["result"].clone();
    assert_eq!(http(&server, "chain_getBlockHash", json!(["0xa"])).await["result"], h10);
    assert_eq!(http(&server, "chain_getHead", json!([10])).await["result"], h10, "alias");
    assert_eq!(http(&server, "chain_getBlockHash", json!([[9, 10]])).await["result"][1], h10);
    assert_eq!(http(&server, "chain_getBlockHash", json!([100_000])).await["result"], Value::Null);
    let header = http(&server, "chain_getHeader", json!([h10])).await["result"].clone();
    assert_eq!(header["number"], "0xa");
    let fin = http(&server, "chain_getFinalizedHead", json!([])).await["result"].clone();
    assert_eq!(fin, http(&server, "chain_getFinalisedHead", json!([])).await["result"]);
    assert_eq!(fin, json!(format!("0x{}", hex::encode(devnet.chain().block(38).unwrap().hash))));

    let block = http(&server, "chain_getBlock", json!([h10])).await["result"].clone();
    assert!(!block["block"]["extrinsics"].as_array().unwrap().is_empty());
    let version = http(&server, "state_getRuntimeVersion", json!([h10])).await["result"].clone();
    assert_eq!(version["specVersion"], 233);
    assert_eq!(http(&server, "chain_getRuntimeVersion", json!([])).await["result"]["specVersion"], 343);

    // Metadata: V14 from state_getMetadata, V15 from the runtime API, both starting with "meta".
    let v14 = http(&server, "state_getMetadata", json!([])).await["result"].as_str().unwrap().to_string();
    assert!(v14.starts_with("0x6d657461"), "meta magic");
    assert_eq!(&v14[10..12], "0e");
    let versions = http(&server, "state_call", json!(["Metadata_metadata_versions", "0x"])).await;
    assert_eq!(versions["result"], "0x080e0000000f000000"); // Vec<u32> [14, 15]
    let v15 = http(&server, "state_call", json!(["Metadata_metadata_at_version", "0x0f000000"])).await;
    assert!(v15["result"].as_str().unwrap().starts_with("0x01"), "Some(..)");
    let none = http(&server, "state_call", json!(["Metadata_metadata_at_version", "0x10000000"])).await;
    assert_eq!(none["result"], "0x00");
    let missing = http(&server, "state_call", json!(["Nope_nope", "0x"])).await;
    assert!(missing["error"]["message"].as_str().unwrap().contains("not found"));

    // Storage: single, batched, paged; the same key through the aliases.
    let events_key = format!("0x{}", hex::encode(taoscope_devnet::runtime::storage::events_key()));
    let ev = http(&server, "state_getStorage", json!([events_key, h10])).await["result"].clone();
    assert!(ev.as_str().unwrap().len() > 10);
    assert_eq!(http(&server, "state_getStorageAt", json!([events_key, h10])).await["result"], ev);
    let q = http(&server, "state_queryStorageAt", json!([[events_key, "0x00"], h10])).await["result"].clone();
    assert_eq!(q[0]["block"], h10);
    assert_eq!(q[0]["changes"][0][1], ev);
    assert_eq!(q[0]["changes"][1][1], Value::Null);
    let prefix = format!(
        "0x{}",
        hex::encode(taoscope_devnet::runtime::storage::item_prefix("SubtensorModule", "SubnetTAO"))
    );
    let page1 = http(&server, "state_getKeysPaged", json!([prefix, 2, null, null])).await["result"].clone();
    assert_eq!(page1.as_array().unwrap().len(), 2);
    let page2 =
        http(&server, "state_getKeysPaged", json!([prefix, 10, page1[1], null])).await["result"].clone();
    assert_eq!(page2.as_array().unwrap().len(), 3, "root + 4 subnets = 5 keys");
    let too_many = http(&server, "state_getKeysPaged", json!([prefix, 5000])).await;
    assert!(too_many["error"]["message"].as_str().unwrap().contains("count exceeds"));

    // Bad input: unknown block, malformed hash.
    let unknown =
        http(&server, "state_getStorage", json!([events_key, format!("0x{}", "11".repeat(32))])).await;
    assert_eq!(unknown["error"]["code"], 4003);
    let malformed = http(&server, "chain_getHeader", json!(["0x1234"])).await;
    assert_eq!(malformed["error"]["code"], -32602);
    server.stop().await;
}

#[tokio::test]
async fn same_seed_same_chain_other_seed_other_chain() {
    let cfg = DevnetConfig { prebuilt: 60, ..config() };
    let a = Devnet::new(cfg.clone()).unwrap();
    let b = Devnet::new(cfg.clone()).unwrap();
    let c = Devnet::new(DevnetConfig { seed: 8, ..cfg }).unwrap();
    for n in [0, 1, 30, 60] {
        assert_eq!(a.chain().block(n).unwrap().hash, b.chain().block(n).unwrap().hash, "block {n}");
    }
    assert_ne!(a.chain().block(60).unwrap().hash, c.chain().block(60).unwrap().hash);
}

#[tokio::test]
async fn bad_settings_are_refused() {
    for cfg in [
        DevnetConfig { subnets: 0, ..config() },
        DevnetConfig { subnets: 129, ..config() },
        DevnetConfig { tempo: 0, ..config() },
        DevnetConfig { upgrade_at: Some(0), ..config() },
    ] {
        assert!(matches!(Devnet::new(cfg), Err(taoscope_devnet::DevnetError::InvalidConfig(_))));
    }
}

#[tokio::test]
async fn a_port_in_use_is_a_bind_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let devnet = Devnet::new(DevnetConfig { prebuilt: 1, ..config() }).unwrap();
    let err = taoscope_devnet::serve(devnet, taken.local_addr().unwrap()).await.err().expect("bind fails");
    assert!(err.to_string().starts_with("cannot listen on 127.0.0.1:"), "{err}");
}
