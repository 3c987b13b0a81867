//! The `status` query on an empty and on a populated database.

use serde_json::json;

use crate::support::{block_hash, block_hash_hex, data, fixture, insert_blocks, insert_runtime};

const STATUS: &str = "{ status { chain genesisHash finalizedHeight indexedHeight specVersion } }";

#[tokio::test]
async fn status_is_all_null_on_an_empty_database() {
    let f = fixture().await;
    let data = data(&f.app, STATUS, json!({})).await;
    assert_eq!(
        data,
        json!({ "status": {
            "chain": null, "genesisHash": null, "finalizedHeight": null,
            "indexedHeight": null, "specVersion": null
        }})
    );
}

#[tokio::test]
async fn status_reports_chain_heads_and_the_runtime_of_the_indexed_head() {
    let f = fixture().await;
    insert_runtime(&f.client, 233, 0).await;
    insert_runtime(&f.client, 343, 8).await;
    insert_blocks(&f.client, 0..=7, 233).await;
    insert_blocks(&f.client, 8..=9, 343).await;
    f.client
        .execute(
            "INSERT INTO chain (genesis_hash, chain_name, ss58_format, token_decimals, token_symbol)
             VALUES ($1, 'Bittensor', 42, 9, 'TAO')",
            &[&block_hash(0).as_slice()],
        )
        .await
        .expect("chain");
    f.client
        .execute(
            "INSERT INTO chain_head (finalized_number, finalized_hash) VALUES (12, $1)",
            &[&block_hash(12).as_slice()],
        )
        .await
        .expect("chain_head");

    // Without a checkpoint, the highest block row is the indexed height.
    let status = data(&f.app, STATUS, json!({})).await;
    assert_eq!(
        status,
        json!({ "status": {
            "chain": "Bittensor", "genesisHash": block_hash_hex(0), "finalizedHeight": 12,
            "indexedHeight": 9, "specVersion": 343
        }})
    );

    // The `blocks` stage checkpoint wins, and the runtime is that of the checkpoint block.
    f.client
        .execute(
            "INSERT INTO indexer_progress (stage, block_number, block_hash) VALUES ('blocks', 7, $1)",
            &[&block_hash(7).as_slice()],
        )
        .await
        .expect("progress");
    let status = data(&f.app, STATUS, json!({})).await;
    assert_eq!(status["status"]["indexedHeight"], json!(7));
    assert_eq!(status["status"]["specVersion"], json!(233));
    assert_eq!(status["status"]["finalizedHeight"], json!(12));
}
