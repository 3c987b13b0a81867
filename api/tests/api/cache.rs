//! The subnets' current state is served from a snapshot (and whole answers from the response
//! cache) that follows newly indexed blocks within the snapshot's TTL.

use std::time::Duration;

use serde_json::json;
use taoscope_api::graphql::subnets::SUBNETS_TTL;

use crate::support::{data, error, fixture, insert_blocks, insert_runtime};

async fn insert_pools(client: &tokio_postgres::Client, block: i64, price: f64) {
    client
        .execute(
            "INSERT INTO pool_state (block_number, netuid, tao, alpha_in, alpha_out, price, price_source)
             SELECT $1, n, 1000000000::int8 * (n + 1), 2000000000, 500000000, $2::float8::numeric, 'reserves'
               FROM generate_series(0, 2) n",
            &[&block, &price],
        )
        .await
        .expect("pool rows");
}

#[tokio::test]
async fn repeated_subnet_queries_follow_new_blocks() {
    let fx = fixture().await;
    insert_runtime(&fx.client, 300, 0).await;
    insert_blocks(&fx.client, 0..=3, 300).await;
    fx.client.execute("SELECT taoscope_ensure_partitions(0, 3)", &[]).await.expect("partitions");
    insert_pools(&fx.client, 2, 1.25).await;
    let query = "{ subnets { netuid blockNumber price taoIn } }";

    let first = data(&fx.app, query, json!({})).await;
    assert_eq!(first["subnets"].as_array().map(Vec::len), Some(3), "{first}");
    assert_eq!(
        first["subnets"][1],
        json!({ "netuid": 1, "blockNumber": 2, "price": 1.25, "taoIn": "2000000000" })
    );
    // The same question again gets the same answer (from the cache), with variables and an
    // operation name distinguishing otherwise equal texts.
    assert_eq!(data(&fx.app, query, json!({})).await, first);
    let one = "query One($n: Int!) { subnet(netuid: $n) { netuid price } }";
    assert_eq!(
        data(&fx.app, one, json!({ "n": 2 })).await,
        json!({ "subnet": { "netuid": 2, "price": 1.25 } })
    );
    assert_eq!(
        data(&fx.app, one, json!({ "n": 0 })).await,
        json!({ "subnet": { "netuid": 0, "price": 1.25 } })
    );
    assert_eq!(data(&fx.app, one, json!({ "n": 7 })).await, json!({ "subnet": null }));
    // Errors are never stored: a bad netuid is refused every time.
    for _ in 0..2 {
        let e = error(&fx.app, "{ subnet(netuid: -1) { price } }", json!({})).await;
        assert_eq!(e["extensions"]["code"], json!("BAD_USER_INPUT"), "{e}");
    }

    // A new block: once the snapshot's TTL has passed, answers show it.
    insert_pools(&fx.client, 3, 1.5).await;
    tokio::time::sleep(SUBNETS_TTL + Duration::from_millis(100)).await;
    let next = data(&fx.app, query, json!({})).await;
    assert_eq!(
        next["subnets"][1],
        json!({ "netuid": 1, "blockNumber": 3, "price": 1.5, "taoIn": "2000000000" })
    );
    assert_eq!(
        data(&fx.app, one, json!({ "n": 2 })).await,
        json!({ "subnet": { "netuid": 2, "price": 1.5 } })
    );
}
