//! Subscriptions over a real WebSocket (graphql-transport-ws): blocks, a subnet's prices and
//! stake events arrive as the indexer's `NOTIFY` announces new blocks, and they end when the
//! server shuts down.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use taoscope_api::{ApiConfig, ApiState, serve};
use taoscope_schema::tables::BLOCKS_CHANNEL;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{fixture, insert_blocks, insert_runtime};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(addr: std::net::SocketAddr) -> Socket {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut socket).await["type"], json!("connection_ack"));
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::Text(message.to_string().into())).await.expect("send");
}

async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a message within 20 s")
            .expect("socket open")
            .expect("frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
            Message::Close(_) => return json!({ "type": "closed" }),
            _ => {}
        }
    }
}

/// Adds block `n` with pool rows for subnets 1 and 2 and one stake on subnet 1, then notifies.
async fn add_block(client: &tokio_postgres::Client, n: i64) {
    insert_blocks(client, (n as u64)..=(n as u64), 233).await;
    for netuid in [1i32, 2] {
        client
            .execute(
                "INSERT INTO pool_state (block_number, netuid, tao, alpha_in, alpha_out, price, price_source)
                 VALUES ($1, $2, $3, 1000000000, 500000000, $3::bigint::numeric / 1000000000, 'reserves')",
                &[&n, &netuid, &(n * 1_000_000 + i64::from(netuid))],
            )
            .await
            .expect("pool row");
    }
    client
        .execute(
            "INSERT INTO stake_ledger (block_number, event_index, direction, coldkey, hotkey, netuid, tao, alpha)
             VALUES ($1::bigint, 3, 'add', '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
                     '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty', 1, $1::bigint * 10, $1::bigint * 5)",
            &[&n],
        )
        .await
        .expect("ledger row");
    client.execute("SELECT pg_notify($1, $2)", &[&BLOCKS_CHANNEL, &n.to_string()]).await.expect("notify");
}

#[tokio::test]
async fn subscriptions_deliver_new_blocks_prices_and_stake_events_then_end_on_shutdown() {
    let f = fixture().await;
    insert_runtime(&f.client, 233, 0).await;
    insert_blocks(&f.client, 0..=10, 233).await;
    f.client.execute("SELECT taoscope_ensure_partitions(0, 1000)", &[]).await.expect("partitions");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = ApiState::connect(f._db.url(), 4, ApiConfig::default()).expect("state");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));

    let mut socket = open(addr).await;
    for (id, query) in [
        ("b", "subscription { blocks { number eventCount } }"),
        ("p", "subscription { subnetPrices(netuid: 2) { netuid blockNumber price taoIn marketCap } }"),
        ("s", "subscription { stakeEvents(netuid: 1) { blockNumber netuid direction tao alpha coldkey } }"),
    ] {
        send(&mut socket, json!({ "id": id, "type": "subscribe", "payload": { "query": query } })).await;
    }
    // The feed starts listening with the first subscription; keep adding blocks until it hears.
    let mut next_block = 11;
    let first = loop {
        add_block(&f.client, next_block).await;
        next_block += 1;
        match tokio::time::timeout(Duration::from_millis(300), next(&mut socket)).await {
            Ok(message) => break message,
            Err(_) => assert!(next_block < 60, "no subscription message after {next_block} blocks"),
        }
    };
    let mut messages = vec![first];
    // The three subscriptions join the feed one after another, so one may miss the first
    // block; keep adding blocks until each has had at least three, up to the newest.
    let block_of = |m: &Value| -> Option<(String, i64)> {
        let data = m["payload"]["data"].as_object()?;
        let v = data.values().next()?;
        Some((m["id"].as_str()?.to_owned(), v["blockNumber"].as_i64().or(v["number"].as_i64())?))
    };
    let complete = |messages: &[Value], newest: i64| {
        ["b", "p", "s"].iter().all(|id| {
            let got: Vec<i64> =
                messages.iter().filter_map(block_of).filter(|(m, _)| m == id).map(|(_, n)| n).collect();
            got.len() >= 3 && got.last() == Some(&newest)
        })
    };
    while !complete(&messages, next_block - 1) {
        assert!(next_block < 80, "subscriptions incomplete after {next_block} blocks: {messages:?}");
        add_block(&f.client, next_block).await;
        next_block += 1;
        // Each subscription that has joined answers the new block once.
        while !complete(&messages, next_block - 1) {
            match tokio::time::timeout(Duration::from_secs(3), next(&mut socket)).await {
                Ok(message) => messages.push(message),
                Err(_) => break,
            }
        }
    }
    let by_id = |id: &str| -> Vec<Value> {
        messages
            .iter()
            .filter(|m| m["id"] == json!(id) && m["type"] == json!("next"))
            .map(|m| m["payload"]["data"].clone())
            .collect()
    };
    let blocks: Vec<i64> = by_id("b").iter().map(|d| d["blocks"]["number"].as_i64().unwrap()).collect();
    assert!(blocks.len() >= 3, "{messages:?}");
    assert!(blocks.windows(2).all(|p| p[1] == p[0] + 1), "consecutive blocks: {blocks:?}");
    assert_eq!(*blocks.last().unwrap(), next_block - 1);
    let prices = by_id("p");
    assert!(prices.len() >= 3);
    for p in &prices {
        let tick = &p["subnetPrices"];
        let n = tick["blockNumber"].as_i64().unwrap();
        assert_eq!(tick["netuid"], json!(2));
        assert_eq!(tick["taoIn"], json!((n * 1_000_000 + 2).to_string()));
        assert!((tick["price"].as_f64().unwrap() - (n * 1_000_000 + 2) as f64 / 1e9).abs() < 1e-12);
    }
    let stakes = by_id("s");
    assert!(stakes.len() >= 3);
    for s in &stakes {
        let e = &s["stakeEvents"];
        let n = e["blockNumber"].as_i64().unwrap();
        assert_eq!(e["tao"], json!((n * 10).to_string()));
        assert_eq!(e["netuid"], json!(1));
    }

    // Bad arguments are refused per subscription, the connection stays up.
    send(&mut socket, json!({ "id": "bad", "type": "subscribe", "payload": { "query": "subscription { subnetPrices(netuid: 70000) { price } }" } })).await;
    let refused = loop {
        let m = next(&mut socket).await;
        if m["id"] == json!("bad") {
            break m;
        }
    };
    assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], json!("BAD_USER_INPUT"), "{refused}");

    // Shutdown completes the subscriptions and the server stops.
    stop.send(()).expect("server running");
    let mut completed = 0;
    while completed < 3 {
        let m = next(&mut socket).await;
        if m["type"] == json!("complete") || m["type"] == json!("closed") {
            completed += if m["type"] == json!("closed") { 3 } else { 1 };
        }
    }
    drop(socket);
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("stops")
        .expect("task")
        .expect("serve");
}
