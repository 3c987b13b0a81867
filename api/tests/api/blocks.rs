//! The `blocks` connection and the `block` lookup: order, pagination, lookups and input errors.

use serde_json::{Value, json};

use crate::support::{block_hash_hex, block_time, data, error, fixture, insert_blocks, insert_runtime};

const PAGE: &str = "query($first: Int, $after: String) {
    blocks(first: $first, after: $after) {
        edges { cursor node { number hash parentHash timestamp specVersion eventCount extrinsicCount } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
}";

/// Block `n` as the API must render it (see `support::insert_blocks`).
fn expected_block(n: u64) -> Value {
    json!({
        "number": n,
        "hash": block_hash_hex(n),
        "parentHash": if n == 0 { format!("0x{}", "00".repeat(32)) } else { block_hash_hex(n - 1) },
        "timestamp": block_time(n).map(|t| t.to_rfc3339()),
        "specVersion": 233,
        "eventCount": 2 * n,
        "extrinsicCount": n % 3 + 1,
    })
}

fn numbers(page: &Value) -> Vec<u64> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["number"].as_u64().expect("number"))
        .collect()
}

async fn with_blocks(last: u64) -> crate::support::Fixture {
    let f = fixture().await;
    insert_runtime(&f.client, 233, 0).await;
    insert_blocks(&f.client, 0..=last, 233).await;
    f
}

#[tokio::test]
async fn pages_run_newest_first_and_chain_through_cursors() {
    let f = with_blocks(24).await;
    let mut after = Value::Null;
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    loop {
        let data = data(&f.app, PAGE, json!({ "first": 10, "after": after })).await;
        let page = data["blocks"].clone();
        let edges = page["edges"].as_array().expect("edges");
        let info = &page["pageInfo"];
        assert_eq!(info["startCursor"], edges[0]["cursor"]);
        assert_eq!(info["endCursor"], edges[edges.len() - 1]["cursor"]);
        assert_eq!(info["hasPreviousPage"], json!(!after.is_null()));
        for edge in edges {
            let n = edge["node"]["number"].as_u64().expect("number");
            assert_eq!(edge["node"], expected_block(n));
        }
        seen.extend(numbers(&page));
        pages.push((numbers(&page).len(), info["hasNextPage"].clone()));
        if info["hasNextPage"] == json!(false) {
            break;
        }
        after = info["endCursor"].clone();
        assert!(pages.len() < 5, "pagination does not terminate");
    }
    assert_eq!(pages, [(10, json!(true)), (10, json!(true)), (5, json!(false))]);
    assert_eq!(seen, (0..=24).rev().collect::<Vec<u64>>());
}

#[tokio::test]
async fn first_defaults_to_a_hundred_and_zero_is_an_empty_page() {
    let f = with_blocks(104).await;
    let page = &data(&f.app, PAGE, json!({})).await["blocks"];
    assert_eq!(numbers(page), (5..=104).rev().collect::<Vec<u64>>());
    assert_eq!(page["pageInfo"]["hasNextPage"], json!(true));
    let page = &data(&f.app, PAGE, json!({ "first": 0 })).await["blocks"];
    assert_eq!(numbers(page), Vec::<u64>::new());
    assert_eq!(page["pageInfo"]["hasNextPage"], json!(true));
    assert_eq!(page["pageInfo"]["endCursor"], Value::Null);
}

#[tokio::test]
async fn an_empty_database_has_an_empty_connection() {
    let f = fixture().await;
    let page = &data(&f.app, PAGE, json!({ "first": 5 })).await["blocks"];
    assert_eq!(page["edges"], json!([]));
    assert_eq!(page["pageInfo"]["hasNextPage"], json!(false));
    assert_eq!(page["pageInfo"]["hasPreviousPage"], json!(false));
}

#[tokio::test]
async fn a_cursor_past_the_head_pages_from_the_top_without_a_previous_page() {
    let f = with_blocks(4).await;
    // A cursor taken on another (longer) database: valid, just beyond this head.
    let cursor = data(&with_blocks(30).await.app, PAGE, json!({ "first": 1 })).await["blocks"]
        ["pageInfo"]["endCursor"]
        .clone();
    let page = &data(&f.app, PAGE, json!({ "first": 2, "after": cursor })).await["blocks"];
    assert_eq!(numbers(page), [4, 3]);
    assert_eq!(page["pageInfo"]["hasPreviousPage"], json!(false));
    assert_eq!(page["pageInfo"]["hasNextPage"], json!(true));
}

#[tokio::test]
async fn out_of_range_first_and_garbage_cursors_are_user_errors() {
    let f = with_blocks(3).await;
    for vars in [
        json!({ "first": 1001 }),
        json!({ "first": -1 }),
        json!({ "after": "not a cursor!" }),
        json!({ "after": "YmxvY2s6LTE=" }), // base64("block:-1")
        json!({ "after": "" }),
    ] {
        let err = error(&f.app, PAGE, vars.clone()).await;
        assert_eq!(err["extensions"]["code"], json!("BAD_USER_INPUT"), "{vars}: {err}");
        assert_eq!(err["path"], json!(["blocks"]), "{vars}: {err}");
    }
    let err = error(&f.app, PAGE, json!({ "first": 100_000 })).await;
    assert!(err["message"].as_str().expect("message").contains("1000"), "{err}");
}

#[tokio::test]
async fn blocks_are_found_by_number_and_by_hash() {
    let f = with_blocks(5).await;
    let query = "query($n: BlockNumber, $h: String) {
        block(number: $n, hash: $h) { number hash parentHash timestamp specVersion eventCount extrinsicCount }
    }";
    let by_number = data(&f.app, query, json!({ "n": 3 })).await;
    assert_eq!(by_number["block"], expected_block(3));
    let by_hash = data(&f.app, query, json!({ "h": block_hash_hex(3) })).await;
    assert_eq!(by_hash["block"], expected_block(3));
    let genesis = data(&f.app, query, json!({ "n": 0 })).await;
    assert_eq!(genesis["block"]["timestamp"], Value::Null);

    assert_eq!(data(&f.app, query, json!({ "n": 6 })).await["block"], Value::Null);
    let unknown = format!("0x{}", "ab".repeat(32));
    assert_eq!(data(&f.app, query, json!({ "h": unknown })).await["block"], Value::Null);
}

#[tokio::test]
async fn malformed_lookups_are_user_errors() {
    let f = with_blocks(1).await;
    let query = "query($n: BlockNumber, $h: String) { block(number: $n, hash: $h) { number } }";
    for vars in [
        json!({ "h": "0x1234" }),
        json!({ "h": "zz".repeat(32) }),
        json!({}),
        json!({ "n": 1, "h": block_hash_hex(1) }),
    ] {
        let err = error(&f.app, query, vars.clone()).await;
        assert_eq!(err["extensions"]["code"], json!("BAD_USER_INPUT"), "{vars}: {err}");
    }
    // A negative height is refused by the scalar itself, before any resolver runs: the request
    // is invalid, so it is answered 400.
    let (status, body) = crate::support::graphql(&f.app, query, json!({ "n": -1 })).await;
    assert_eq!(status, axum::http::StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["extensions"]["code"], json!("GRAPHQL_VALIDATION_FAILED"), "{body}");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("BlockNumber"), "{body}");
}
