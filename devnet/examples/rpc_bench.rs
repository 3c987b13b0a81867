//! Measures what an indexer's hot path costs: builds a devnet, then asks, per block and over a
//! few WebSocket connections, for `chain_getBlockHash`, `chain_getBlock`, System.Events,
//! `get_all_dynamic_info` and a `state_queryStorageAt` of the pool reserves, and prints
//! requests per second: `cargo run --release -p taoscope-devnet --example rpc_bench -- 20000 64 4`.

use std::sync::Arc;
use std::time::Instant;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use serde_json::Value;
use taoscope_devnet::runtime::storage::{events_key, items};
use taoscope_devnet::{Devnet, DevnetConfig};

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let blocks: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let subnets: u16 = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let connections: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let start = Instant::now();
    let devnet = Devnet::new(DevnetConfig { subnets, prebuilt: blocks, ..DevnetConfig::default() })
        .expect("valid settings");
    println!("built {blocks} blocks x {subnets} subnets in {:.1} s", start.elapsed().as_secs_f64());
    let server =
        taoscope_devnet::serve(devnet.clone(), "127.0.0.1:0".parse().expect("addr")).await.expect("serve");
    let events = hex(&events_key());
    let pools: Vec<String> = (1..=subnets).map(|n| hex(&items::SUBNET_TAO.key(&n))).collect();
    let mut clients: Vec<Arc<WsClient>> = vec![];
    for _ in 0..connections {
        clients.push(Arc::new(WsClientBuilder::default().build(server.ws_url()).await.expect("connect")));
    }
    let hashes: Vec<String> =
        (1..=blocks).map(|n| hex(&devnet.chain().block(n).expect("block").hash)).collect();
    let hashes = Arc::new(hashes);
    for method in
        ["chain_getBlockHash", "chain_getBlock", "state_getStorage", "state_call", "state_queryStorageAt"]
    {
        let t = Instant::now();
        let mut tasks = vec![];
        for (i, client) in clients.iter().enumerate() {
            let (client, hashes, events, pools) =
                (client.clone(), hashes.clone(), events.clone(), pools.clone());
            tasks.push(tokio::spawn(async move {
                let mut bytes = 0usize;
                // Each connection pipelines 16 requests at a time over its share of the blocks.
                let mine: Vec<(usize, String)> =
                    hashes.iter().cloned().enumerate().skip(i).step_by(connections as usize).collect();
                for chunk in mine.chunks(16) {
                    let calls = chunk.iter().map(|(n, h)| {
                        let client = client.clone();
                        let (events, pools, h, n) = (events.clone(), pools.clone(), h.clone(), *n as u32 + 1);
                        async move {
                            let v: Value = match method {
                                "chain_getBlockHash" => client.request(method, rpc_params![n]).await,
                                "chain_getBlock" => client.request(method, rpc_params![h]).await,
                                "state_getStorage" => client.request(method, rpc_params![events, h]).await,
                                "state_call" => {
                                    client
                                        .request(
                                            method,
                                            rpc_params!["SubnetInfoRuntimeApi_get_all_dynamic_info", "0x", h],
                                        )
                                        .await
                                }
                                _ => client.request(method, rpc_params![pools, h]).await,
                            }
                            .expect("answer");
                            v.to_string().len()
                        }
                    });
                    bytes += futures::future::join_all(calls).await.into_iter().sum::<usize>();
                }
                bytes
            }));
        }
        let mut bytes = 0;
        for t in tasks {
            bytes += t.await.expect("task");
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{method:>22}: {:>7.0} req/s over {connections} connections ({:.1} KB/answer)",
            f64::from(blocks) / secs,
            bytes as f64 / f64::from(blocks) / 1e3
        );
    }
    server.stop().await;
}
