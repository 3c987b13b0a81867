//! A value cut short must not pass for a smaller one: the events of a block are held to their
//! own count and length (subxt's iterator alone stops quietly where the bytes end).

use parity_scale_codec::{Compact, Encode};
use taoscope_devnet::{Devnet, DevnetConfig};
use taoscope_indexer::decode::{Runtime, decode_block};
use taoscope_indexer::node::Node;

#[tokio::test]
async fn truncated_events_are_a_failure_not_fewer_events() {
    let devnet =
        Devnet::new(DevnetConfig { subnets: 4, prebuilt: 12, seed: 5, tempo: 9, ..DevnetConfig::default() })
            .unwrap();
    let server = taoscope_devnet::serve(devnet, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let node = Node::connect(&server.ws_url()).await.unwrap();
    let raw = node.fetch_block(10).await.unwrap();
    let version = node.runtime_version(raw.number, raw.hash).await.unwrap();
    let metadata = node.metadata(version.spec_version, raw.number, raw.hash).await.unwrap();
    let runtime =
        Runtime::from_metadata_bytes(version.spec_version, version.transaction_version, &metadata).unwrap();

    let (whole, failures) = decode_block(&raw, &runtime).await;
    assert!(failures.is_empty(), "{failures:?}");
    let n = whole.events.len();
    assert!(n >= 4, "block 10 has events: {n}");

    let failure_of = |events: Vec<u8>| {
        let mut cut = raw.clone();
        cut.events = events;
        let runtime = runtime.clone();
        async move {
            let (decoded, failures) = decode_block(&cut, &runtime).await;
            assert!(decoded.events.is_empty(), "no events kept from a bad value");
            let f: Vec<_> = failures.iter().filter(|f| f.kind == "events").collect();
            assert_eq!(f.len(), 1, "{failures:?}");
            f[0].reason.clone()
        }
    };
    // Cut at an event boundary: every event present decodes, but fewer than declared.
    let mut boundary = Compact(n as u32).encode();
    for e in &whole.events[..n / 2] {
        boundary.extend_from_slice(&e.raw);
    }
    let reason = failure_of(boundary).await;
    assert_eq!(reason, format!("the value holds {n} events but only {} decode", n / 2));
    // Bytes after the last event.
    let mut trailing = raw.events.clone();
    trailing.extend_from_slice(&[0, 0]);
    assert_eq!(failure_of(trailing).await, format!("2 bytes follow the last of {n} events"));
    // A count that does not decode.
    assert!(failure_of(vec![0xff]).await.starts_with("the events count does not decode"));
    server.stop().await;
}

#[tokio::test]
async fn the_compiled_dynamic_info_layout_reads_what_the_type_walk_reads() {
    use taoscope_indexer::state::dynamic_info::{Layout, answer_type, decode};
    let devnet = Devnet::new(DevnetConfig {
        subnets: 16,
        prebuilt: 40,
        seed: 9,
        tempo: 9,
        upgrade_at: Some(20),
        ..DevnetConfig::default()
    })
    .unwrap();
    let server = taoscope_devnet::serve(devnet, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let node = Node::connect(&server.ws_url()).await.unwrap();
    let mut compared = 0;
    for number in [1u64, 10, 19, 21, 30, 39] {
        let hash = node.block_hash(number).await.unwrap().unwrap();
        let version = node.runtime_version(number, hash).await.unwrap();
        let metadata = node.metadata(version.spec_version, number, hash).await.unwrap();
        let runtime =
            Runtime::from_metadata_bytes(version.spec_version, version.transaction_version, &metadata)
                .unwrap();
        let md = &runtime.metadata;
        let Some(ty) = answer_type(md) else {
            continue;
        };
        let layout = Layout::compile(md.types(), ty).expect("the devnet's DynamicInfo compiles");
        let bytes =
            node.runtime_call(number, hash, "SubnetInfoRuntimeApi_get_all_dynamic_info", &[]).await.unwrap();
        let walked = decode(md.types(), ty, &bytes).unwrap();
        assert!(walked.len() >= 16, "every subnet: {}", walked.len());
        for row in &walked {
            use taoscope_devnet::runtime::apis::{subnet_name, token_symbol};
            assert_eq!(row.name.as_deref(), Some(subnet_name(row.netuid).as_str()));
            assert_eq!(row.symbol.as_deref(), Some(token_symbol(row.netuid).as_str()));
            assert!(row.owner_hotkey.is_some() && row.owner_coldkey.is_some() && row.registered_at.is_some());
        }
        assert_eq!(layout.decode(&bytes).unwrap(), walked, "block {number}");
        // Cut short or padded, both refuse it.
        for bad in [&bytes[..bytes.len() / 2], &bytes[..bytes.len() - 1]] {
            assert!(layout.decode(bad).is_err() && decode(md.types(), ty, bad).is_err());
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert_eq!(layout.decode(&padded).unwrap_err(), "1 bytes left over");
        compared += 1;
    }
    assert!(compared >= 4, "runtimes with the API were compared: {compared}");
    server.stop().await;
}
