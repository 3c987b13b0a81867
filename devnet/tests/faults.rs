//! Fault injection: garbled data answers, dropped connections and slow answers, while the chain
//! itself stays exact (same hashes as without faults, and exact answers with no faults).

use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::{Value, json};
use taoscope_devnet::runtime::storage::{events_key, items};
use taoscope_devnet::{Devnet, DevnetConfig, Faults, RpcServer};

fn config(faults: Faults) -> DevnetConfig {
    DevnetConfig {
        subnets: 3,
        prebuilt: 20,
        seed: 9,
        upgrade_at: Some(10),
        tempo: 9,
        faults,
        ..DevnetConfig::default()
    }
}

async fn start(faults: &str) -> (std::sync::Arc<Devnet>, RpcServer) {
    let devnet = Devnet::new(config(faults.parse().unwrap())).unwrap();
    let server = taoscope_devnet::serve(devnet.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    (devnet, server)
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

async fn http(server: &RpcServer, method: &str, params: Value) -> Result<Value, reqwest::Error> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    reqwest::Client::new().post(server.http_url()).json(&body).send().await?.json().await
}

/// The data-bearing answers at block 15: events, a batched query, dynamic info, extrinsics.
async fn answers(server: &RpcServer, devnet: &Devnet) -> Vec<Value> {
    let h = hex(&devnet.chain().block(15).unwrap().hash);
    let key = hex(&events_key());
    let tao = hex(&items::SUBNET_TAO.key(&1));
    vec![
        http(server, "state_getStorage", json!([key, h])).await.unwrap()["result"].clone(),
        http(server, "state_queryStorageAt", json!([[tao], h])).await.unwrap()["result"][0]["changes"][0][1]
            .clone(),
        http(server, "state_call", json!(["SubnetInfoRuntimeApi_get_all_dynamic_info", "0x", h]))
            .await
            .unwrap()["result"]
            .clone(),
        http(server, "chain_getBlock", json!([h])).await.unwrap()["result"]["block"]["extrinsics"][0].clone(),
    ]
}

fn truth(devnet: &Devnet) -> Vec<Value> {
    let chain = devnet.chain();
    vec![
        json!(hex(&chain.storage(&events_key(), 15).unwrap())),
        json!(hex(&chain.storage(&items::SUBNET_TAO.key(&1), 15).unwrap())),
        json!(hex(&chain.dynamic_info_all(15))),
        json!(hex(&chain.block(15).unwrap().extrinsics[0])),
    ]
}

#[tokio::test]
async fn with_no_faults_answers_are_exact() {
    let (devnet, server) = start("").await;
    assert_eq!(answers(&server, &devnet).await, truth(&devnet));
    server.stop().await;
}

#[tokio::test]
async fn garbage_corrupts_answers_but_never_the_chain() {
    let (devnet, server) = start("garbage=1.0").await;
    let got = answers(&server, &devnet).await;
    let want = truth(&devnet);
    for (g, w) in got.iter().zip(&want) {
        assert_ne!(g, w, "corrupted");
        let (g, w) = (g.as_str().unwrap(), w.as_str().unwrap());
        assert!(w.starts_with(&g[..g.len().min(w.len())]) && g.len() < w.len(), "cut short: {g} vs {w}");
    }
    // The events no longer decode as the runtime's events.
    let raw = hex::decode(got[0].as_str().unwrap().trim_start_matches("0x")).unwrap();
    let full = devnet.chain().storage(&events_key(), 15).unwrap();
    assert!(raw.len() < full.len());
    // Metadata is served intact (clients could not identify the runtime otherwise).
    let md =
        http(&server, "state_call", json!(["Metadata_metadata_at_version", "0x0f000000"])).await.unwrap();
    let v15 = Some(devnet.chain().best().spec.metadata_v15().to_vec());
    assert_eq!(md["result"], json!(hex(&parity_scale_codec::Encode::encode(&v15))));
    // The chain is the one a fault-free devnet builds.
    let clean = Devnet::new(config(Faults::default())).unwrap();
    assert_eq!(clean.chain().best().hash, devnet.chain().best().hash);
    server.stop().await;
}

#[tokio::test]
async fn drop_closes_websocket_and_http_connections() {
    let (_devnet, server) = start("drop=1.0").await;
    let client =
        WsClientBuilder::default().build(server.ws_url()).await.expect("the handshake is not a request");
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        client.request::<String, _>("system_chain", rpc_params![]),
    )
    .await
    .expect("the client notices at once");
    assert!(answer.is_err(), "{answer:?}");
    tokio::time::timeout(Duration::from_secs(10), client.on_disconnect()).await.expect("disconnected");
    assert!(!client.is_connected());
    assert!(http(&server, "system_chain", json!([])).await.is_err(), "HTTP connection closed");
    server.stop().await;
}

#[tokio::test]
async fn slow_delays_answers() {
    let (_devnet, server) = start("slow=1.0:300ms").await;
    let client = WsClientBuilder::default().build(server.ws_url()).await.unwrap();
    let t = Instant::now();
    let chain: String = client.request("system_chain", rpc_params![]).await.unwrap();
    assert_eq!(chain, "Taoscope Devnet");
    assert!(t.elapsed() >= Duration::from_millis(300), "{:?}", t.elapsed());
    server.stop().await;
}
