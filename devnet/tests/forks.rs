//! Forks: unfinalized blocks are replaced by a longer branch, the old blocks stay retrievable by
//! hash without state, head subscriptions announce the new branch, and a seed plus a fork
//! schedule fix the chain.

use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::core::client::{Subscription, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use parity_scale_codec::Decode;
use serde_json::{Value, json};
use taoscope_devnet::runtime::apis::DynamicInfo343;
use taoscope_devnet::runtime::storage::{events_key, items};
use taoscope_devnet::{Devnet, DevnetConfig, DevnetError, ForkSchedule};

fn config() -> DevnetConfig {
    DevnetConfig {
        subnets: 3,
        prebuilt: 30,
        seed: 5,
        finality_lag: 3,
        upgrade_at: Some(10),
        tempo: 9,
        ..DevnetConfig::default()
    }
}

fn hash(devnet: &Devnet, n: u32) -> [u8; 32] {
    devnet.chain().block(n).unwrap().hash
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

async fn http(url: &str, method: &str, params: Value) -> Value {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    reqwest::Client::new().post(url).json(&body).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_fork_replaces_unfinalized_blocks_and_keeps_the_old_ones_by_hash() {
    let devnet = Devnet::new(config()).unwrap();
    let server = taoscope_devnet::serve(devnet.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = server.http_url();
    let old: Vec<[u8; 32]> = (0..=30).map(|n| hash(&devnet, n)).collect();
    assert_eq!(devnet.chain().finalized().header.number, 27);

    assert_eq!(devnet.fork(2).unwrap(), 31, "the best number grows by one");
    for n in 0..=28 {
        assert_eq!(hash(&devnet, n), old[n as usize], "block {n} is kept");
    }
    for n in [29, 30] {
        assert_ne!(hash(&devnet, n), old[n as usize], "block {n} is replaced");
    }
    assert_eq!(devnet.chain().block(29).unwrap().header.parent_hash.0, old[28]);
    assert_eq!(devnet.chain().finalized().header.number, 28);

    // The new branch's state is the new branch's: System.ParentHash and Number follow it.
    let parent = devnet.chain().storage(&items::PARENT_HASH.key(), 30).unwrap();
    assert_eq!(parent, hash(&devnet, 29).to_vec());
    let number = devnet.chain().storage(&items::NUMBER.key(), 31).unwrap();
    assert_eq!(u32::decode(&mut &number[..]).unwrap(), 31);
    let all = devnet.chain().dynamic_info_all(31);
    let infos = Vec::<Option<DynamicInfo343>>::decode(&mut &all[..]).unwrap();
    for (netuid, info) in infos.iter().enumerate() {
        let tao = devnet.chain().storage(&items::SUBNET_TAO.key(&(netuid as u16)), 31).unwrap();
        assert_eq!(info.as_ref().unwrap().tao_in, u64::decode(&mut &tao[..]).unwrap());
    }

    // Over RPC: numbers name the new branch, old hashes still give headers and bodies.
    let h29 = http(&url, "chain_getBlockHash", json!([29])).await["result"].clone();
    assert_eq!(h29, json!(hex(&hash(&devnet, 29))));
    let old_header = http(&url, "chain_getHeader", json!([hex(&old[29])])).await["result"].clone();
    assert_eq!(old_header["number"], "0x1d");
    let old_block = http(&url, "chain_getBlock", json!([hex(&old[30])])).await["result"].clone();
    assert!(!old_block["block"]["extrinsics"].as_array().unwrap().is_empty());
    assert_eq!(old_block["block"]["header"]["parentHash"], json!(hex(&old[29])));
    // ... but not state: as on a pruned node.
    let key = hex(&events_key());
    let pruned = http(&url, "state_getStorage", json!([key, hex(&old[30])])).await;
    assert_eq!(pruned["error"]["code"], 4003);
    assert!(pruned["error"]["message"].as_str().unwrap().contains("State already discarded"), "{pruned}");
    let call = http(&url, "state_call", json!(["Core_version", "0x", hex(&old[30])])).await;
    assert_eq!(call["error"]["code"], 4003);
    let events = http(&url, "state_getStorage", json!([key, hex(&hash(&devnet, 30))])).await;
    assert_eq!(events["result"], json!(hex(&devnet.chain().storage(&events_key(), 30).unwrap())));

    // Only unfinalized blocks can be replaced.
    for depth in [0, 4, 100] {
        assert!(matches!(devnet.fork(depth), Err(DevnetError::InvalidFork { .. })), "depth {depth}");
    }
    let err = devnet.fork(4).unwrap_err().to_string();
    assert!(err.contains("finalized #28"), "{err}");
    assert_eq!(devnet.fork(3).unwrap(), 32, "the deepest fork allowed");
    assert_eq!(devnet.fork_count(), 2);
    server.stop().await;
}

#[tokio::test]
async fn new_heads_subscribers_receive_the_new_branch() {
    let devnet = Devnet::new(config()).unwrap();
    let server = taoscope_devnet::serve(devnet.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = WsClientBuilder::default().build(server.ws_url()).await.unwrap();
    let mut heads = client
        .subscribe::<Value, _>("chain_subscribeNewHeads", rpc_params![], "chain_unsubscribeNewHeads")
        .await
        .unwrap();
    assert_eq!(next(&mut heads).await["number"], "0x1e");
    devnet.fork(2).unwrap();
    for (n, want) in [(29u32, "0x1d"), (30, "0x1e"), (31, "0x1f")] {
        let h = next(&mut heads).await;
        assert_eq!(h["number"], want);
        let parent = devnet.chain().block(n - 1).unwrap().hash;
        assert_eq!(h["parentHash"], json!(hex(&parent)), "block {n} is on the new branch");
    }
    devnet.produce();
    assert_eq!(next(&mut heads).await["number"], "0x20");
    server.stop().await;
}

async fn next(heads: &mut Subscription<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(10), heads.next()).await.unwrap().unwrap().unwrap()
}

fn stepped(cfg: DevnetConfig, steps: usize) -> Arc<Devnet> {
    let devnet = Devnet::new(cfg).unwrap();
    for _ in 0..steps {
        devnet.step().unwrap();
    }
    devnet
}

#[tokio::test]
async fn the_same_seed_and_schedule_give_the_same_chain() {
    let cfg = DevnetConfig {
        prebuilt: 10,
        finality_lag: 3,
        forks: Some(ForkSchedule { every: 4, depth: 2 }),
        ..config()
    };
    let a = stepped(cfg.clone(), 12);
    let b = stepped(cfg.clone(), 12);
    let plain = stepped(DevnetConfig { forks: None, ..cfg.clone() }, 12);
    assert_eq!(a.fork_count(), 3);
    assert_eq!(a.chain().best().header.number, 10 + 12 + 3, "each fork adds a block");
    for n in 0..=a.chain().best().header.number {
        assert_eq!(hash(&a, n), hash(&b, n), "block {n}");
    }
    // The first fork comes after step 4 (best #14) and replaces #13 and #14.
    assert_eq!(hash(&a, 12), hash(&plain, 12), "blocks below the first fork point agree");
    assert_ne!(hash(&a, 13), hash(&plain, 13));

    // The block clock applies the schedule: a live devnet agrees with the stepped one below
    // its finalized head.
    let live = Devnet::new(DevnetConfig { block_time: Duration::from_millis(10), ..cfg.clone() }).unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let clock = tokio::spawn(live.clone().run(cancel.clone()));
    while live.fork_count() < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cancel.cancel();
    clock.await.unwrap();
    let reference = stepped(cfg, 12);
    let upto = live.chain().finalized().header.number.min(reference.chain().finalized().header.number);
    assert!(upto > 15, "{upto}");
    for n in 0..=upto {
        assert_eq!(hash(&live, n), hash(&reference, n), "block {n}");
    }
}

#[tokio::test]
async fn fork_schedules_are_validated() {
    for forks in [
        ForkSchedule { every: 0, depth: 1 },
        ForkSchedule { every: 5, depth: 3 },
        ForkSchedule { every: 5, depth: 0 },
    ] {
        let cfg = DevnetConfig { finality_lag: 3, forks: Some(forks), ..config() };
        assert!(matches!(Devnet::new(cfg), Err(DevnetError::InvalidConfig(_))), "{forks:?}");
    }
}
