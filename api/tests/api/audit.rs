//! The inference audit through the router: GraphQL `referenceEmbed`, `auditEmbeddings`,
//! `auditAnswers` and `POST /audit/embeddings`, with the real reference model, runs recorded
//! in `inference_audits`, their pass rate in the miner rankings and their Parquet export, and
//! every kind of bad input refused with a clear error (per item, or for the whole batch).

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use taoscope_api::{ApiState, app, pool};
use taoscope_audit::{Embedder, model_dir};
use taoscope_schema::ss58::AccountId;
use taoscope_schema::testing::TestDb;

use crate::support::{data, error, graphql, insert_blocks, insert_runtime, send};

fn model() -> Arc<Embedder> {
    static MODEL: OnceLock<Arc<Embedder>> = OnceLock::new();
    MODEL.get_or_init(|| Arc::new(Embedder::load(&model_dir(None)).unwrap_or_else(|e| panic!("{e}")))).clone()
}

fn hotkey(n: u8) -> String {
    AccountId([n; 32]).to_ss58()
}

struct Audited {
    _db: TestDb,
    app: Router,
    client: tokio_postgres::Client,
}

/// Subnet 1 live at block 3 with miners uid 0 (hotkey 1) and uid 1 (hotkey 2), ranked.
async fn audited() -> Audited {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    insert_runtime(&client, 300, 0).await;
    insert_blocks(&client, 0..=3, 300).await;
    client.execute("SELECT taoscope_ensure_partitions(0, 3)", &[]).await.expect("partitions");
    client
        .execute(
            "INSERT INTO pool_state (block_number, netuid, tao, alpha_in, alpha_out, price, price_source)
             VALUES (3, 1, 1000000000, 1000000000, 0, 1, 'reserves')",
            &[],
        )
        .await
        .expect("pool");
    for (uid, key) in [(0i32, hotkey(1)), (1, hotkey(2))] {
        client
            .execute(
                "INSERT INTO metagraph (block_number, netuid, uid, hotkey) VALUES (3, 1, $1, $2)",
                &[&uid, &key],
            )
            .await
            .expect("metagraph");
        client
            .execute(
                "INSERT INTO miner_rankings (netuid, block_number, uid, hotkey, incentive, emission_alpha, emission_tao,
                                             rank_incentive, rank_emission, epochs_in_window)
                 VALUES (1, 3, $1, $2, 0.5, 1, 0.1, $1 + 1, $1 + 1, 1)",
                &[&uid, &key],
            )
            .await
            .expect("ranking");
    }
    let state = ApiState::new(pool(db.url(), 4).expect("pool")).with_reference_model(model());
    Audited { app: app(state), client, _db: db }
}

const AUDIT: &str =
    "mutation($netuid: Int!, $hotkey: String!, $items: [EmbeddingAuditInput!]!, $threshold: Float) {
    auditEmbeddings(netuid: $netuid, hotkey: $hotkey, items: $items, threshold: $threshold) {
        id auditedAt netuid hotkey uid blockNumber model modelHash
        items { index similarity passed error { code message } }
        summary { items scored passed failed errors passRate meanSimilarity minSimilarity threshold } } }";

fn floats(v: &[f32]) -> Value {
    json!(v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>())
}

#[tokio::test]
async fn embeddings_are_scored_recorded_ranked_and_exported() {
    let a = audited().await;
    let texts = ["The weather is lovely today.", "He drove to the stadium."];
    let reference = data(
        &a.app,
        "query($t: [String!]!) { referenceEmbed(texts: $t) { text tokens embedding } }",
        json!({ "t": texts }),
    )
    .await;
    let vectors = model().embed(&texts).unwrap();
    for (got, want) in reference["referenceEmbed"].as_array().unwrap().iter().zip(&vectors) {
        let got: Vec<f64> =
            got["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(got.len(), 384);
        assert!(got.iter().zip(want).all(|(a, b)| (a - f64::from(*b)).abs() < 1e-6));
    }
    assert_eq!(reference["referenceEmbed"][0]["tokens"], json!(8));

    let mut nan = vec![json!(0.1); 384];
    nan[5] = Value::Null; // what JSON.stringify makes of NaN
    let items = json!([
        { "text": texts[0], "embedding": floats(&vectors[0]) },           // honest: passes
        { "text": texts[0], "embedding": floats(&vectors[1]) },           // another text's vector: fails
        { "text": texts[1], "embedding": [0.1, 0.2] },                    // wrong dimensions
        { "text": texts[1], "embedding": nan },                           // not finite
        { "text": texts[1], "embedding": vec![0.0; 384] },                // zero
        { "text": "x".repeat(17 * 1024), "embedding": floats(&vectors[1]) }, // oversized text
    ]);
    let run = data(&a.app, AUDIT, json!({ "netuid": 1, "hotkey": hotkey(1), "items": items })).await["auditEmbeddings"].clone();
    assert_eq!(run["uid"], json!(0));
    assert_eq!(run["blockNumber"], json!(3));
    assert_eq!(run["modelHash"], json!(taoscope_audit::MODEL_HASH));
    let outcomes = run["items"].as_array().unwrap();
    assert!(outcomes[0]["similarity"].as_f64().unwrap() > 0.9999, "{run}");
    assert_eq!(outcomes[0]["passed"], json!(true));
    assert!((outcomes[1]["similarity"].as_f64().unwrap() - 0.104584).abs() < 1e-4, "{run}");
    assert_eq!(outcomes[1]["passed"], json!(false));
    let codes: Vec<&Value> = outcomes[2..].iter().map(|o| &o["error"]["code"]).collect();
    assert_eq!(
        codes,
        [&json!("WRONG_DIMENSIONS"), &json!("NOT_FINITE"), &json!("ZERO_VECTOR"), &json!("TEXT_TOO_LONG")]
    );
    assert!(outcomes[3]["error"]["message"].as_str().unwrap().contains("component 5"), "{run}");
    assert!(outcomes[2..].iter().all(|o| o["similarity"].is_null() && o["passed"].is_null()));
    assert_eq!(
        run["summary"],
        json!({ "items": 6, "scored": 2, "passed": 1, "failed": 1, "errors": 4, "passRate": 0.5,
                "meanSimilarity": run["summary"]["meanSimilarity"], "minSimilarity": outcomes[1]["similarity"],
                "threshold": 0.99 })
    );

    // Recorded, with the miner and the model.
    let row = a
        .client
        .query_one(
            "SELECT id, netuid, hotkey, uid, block_number, kind, model_hash, items, scored, passed, errors, pass_rate
               FROM inference_audits",
            &[],
        )
        .await
        .expect("one recorded run");
    assert_eq!(row.get::<_, i64>(0).to_string(), run["id"].as_str().unwrap());
    assert_eq!((row.get::<_, i32>(1), row.get::<_, String>(2), row.get::<_, i32>(3)), (1, hotkey(1), 0));
    assert_eq!((row.get::<_, i64>(4), row.get::<_, String>(5)), (3, "embeddings".to_string()));
    assert_eq!(row.get::<_, String>(6), taoscope_audit::MODEL_HASH);
    assert_eq!(
        (row.get::<_, i32>(7), row.get::<_, i32>(8), row.get::<_, i32>(9), row.get::<_, i32>(10)),
        (6, 2, 1, 4)
    );
    assert_eq!(row.get::<_, Option<f64>>(11), Some(0.5));

    // The pass rate beside the ranking; the unaudited miner has none.
    let ranks = data(
        &a.app,
        "{ subnet(netuid: 1) { minerRankings { edges { node { uid auditRuns auditedItems auditPassRate } } } } }",
        json!({}),
    )
    .await;
    let nodes: Vec<&Value> =
        ranks["subnet"]["minerRankings"]["edges"].as_array().unwrap().iter().map(|e| &e["node"]).collect();
    assert_eq!(nodes[0], &json!({ "uid": 0, "auditRuns": 1, "auditedItems": 2, "auditPassRate": 0.5 }));
    assert_eq!(nodes[1], &json!({ "uid": 1, "auditRuns": 0, "auditedItems": 0, "auditPassRate": null }));

    // The Parquet export holds the run.
    let request = Request::get("/exports/inference_audits.parquet").body(Body::empty()).unwrap();
    let response = tower::ServiceExt::oneshot(a.app.clone(), request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    let df = polars::prelude::ParquetReader::new(std::io::Cursor::new(bytes.to_vec()))
        .finish()
        .expect("a Parquet file");
    use polars::prelude::SerReader as _;
    assert_eq!(df.height(), 1);
    assert_eq!(df.column("hotkey").unwrap().str().unwrap().get(0), Some(hotkey(1).as_str()));
    assert_eq!(df.column("pass_rate").unwrap().f64().unwrap().get(0), Some(0.5));
}

#[tokio::test]
async fn bad_batches_are_refused_whole_and_record_nothing() {
    let a = audited().await;
    let one = json!([{ "text": "hi", "embedding": vec![0.1; 384] }]);
    let many: Vec<Value> = (0..257).map(|_| json!({ "text": "hi", "embedding": [0.1] })).collect();
    for (what, vars, needle) in [
        ("empty", json!({ "netuid": 1, "hotkey": hotkey(1), "items": [] }), "no items"),
        ("too many", json!({ "netuid": 1, "hotkey": hotkey(1), "items": many }), "257 items"),
        ("unknown hotkey", json!({ "netuid": 1, "hotkey": hotkey(9), "items": one }), "unknown hotkey"),
        (
            "hotkey of another subnet",
            json!({ "netuid": 2, "hotkey": hotkey(1), "items": one }),
            "unknown hotkey",
        ),
        ("not SS58", json!({ "netuid": 1, "hotkey": "5Fnope", "items": one }), "SS58"),
        ("bad netuid", json!({ "netuid": -1, "hotkey": hotkey(1), "items": one }), "netuid"),
        (
            "bad threshold",
            json!({ "netuid": 1, "hotkey": hotkey(1), "items": one, "threshold": 1.5 }),
            "threshold",
        ),
    ] {
        let e = error(&a.app, AUDIT, vars).await;
        assert_eq!(e["extensions"]["code"], json!("BAD_USER_INPUT"), "{what}: {e}");
        assert!(e["message"].as_str().unwrap().contains(needle), "{what}: {e}");
    }
    // A wrongly typed item never reaches the resolver.
    let (status, body) =
        graphql(&a.app, AUDIT, json!({ "netuid": 1, "hotkey": hotkey(1), "items": [{ "text": 5 }] })).await;
    assert!(
        status.is_client_error() || body["errors"][0]["extensions"]["code"] == json!("BAD_USER_INPUT"),
        "{body}"
    );
    let e = error(&a.app, "{ referenceEmbed(texts: []) { tokens } }", json!({})).await;
    assert_eq!(e["extensions"]["code"], json!("BAD_USER_INPUT"));
    let recorded: i64 =
        a.client.query_one("SELECT count(*) FROM inference_audits", &[]).await.unwrap().get(0);
    assert_eq!(recorded, 0);
}

#[tokio::test]
async fn answers_are_scored_by_meaning() {
    let a = audited().await;
    let q = "mutation($items: [AnswerAuditInput!]!, $netuid: Int, $hotkey: String) {
        auditAnswers(items: $items, netuid: $netuid, hotkey: $hotkey, threshold: 0.9) {
            id uid items { similarity passed } summary { scored passed } } }";
    let items = json!([
        { "reference": "Paris is the capital of France.", "candidate": "Paris is the capital of France." },
        { "reference": "Paris is the capital of France.", "candidate": "The capital of France is Paris." },
        { "reference": "Paris is the capital of France.", "candidate": "Bananas are rich in potassium." },
    ]);
    let run = data(&a.app, q, json!({ "items": items })).await["auditAnswers"].clone();
    assert_eq!(run["id"], Value::Null, "no miner named: not recorded");
    let s: Vec<f64> =
        run["items"].as_array().unwrap().iter().map(|i| i["similarity"].as_f64().unwrap()).collect();
    assert!(s[0] > 0.9999 && s[1] > 0.9 && s[2] < 0.3, "{s:?}");
    assert_eq!(run["summary"], json!({ "scored": 3, "passed": 2 }));
    let recorded =
        data(&a.app, q, json!({ "items": items, "netuid": 1, "hotkey": hotkey(2) })).await["auditAnswers"]
            .clone();
    assert_eq!(recorded["uid"], json!(1));
    let kind: String = a.client.query_one("SELECT kind FROM inference_audits", &[]).await.unwrap().get(0);
    assert_eq!(kind, "answers");
    let e = error(&a.app, q, json!({ "items": items, "netuid": 1 })).await;
    assert!(e["message"].as_str().unwrap().contains("both"), "{e}");
}

async fn post(app: &Router, body: &str) -> (StatusCode, Value) {
    let request = Request::post("/audit/embeddings")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, text) = send(app, request).await;
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")))
}

#[tokio::test]
async fn the_rest_endpoint_audits_and_refuses_bad_bodies() {
    let a = audited().await;
    let v = model().embed(&["validators set weights"]).unwrap();
    let body = json!({ "netuid": 1, "hotkey": hotkey(2), "items": [{ "text": "validators set weights", "embedding": floats(&v[0]) }] });
    let (status, run) = post(&a.app, &body.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["uid"], json!(1));
    assert_eq!(run["summary"]["passed"], json!(1));
    assert_eq!(run["items"][0]["passed"], json!(true));
    assert!(run["id"].is_i64());

    for (what, body, status) in [
        ("malformed", "{\"netuid\": 1,".to_string(), StatusCode::BAD_REQUEST),
        (
            "unknown field",
            json!({ "netuid": 1, "hotkey": hotkey(2), "items": [], "x": 1 }).to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "empty",
            json!({ "netuid": 1, "hotkey": hotkey(2), "items": [] }).to_string(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "unknown hotkey",
            json!({ "netuid": 1, "hotkey": hotkey(7), "items": [{ "text": "a", "embedding": [1.0] }] })
                .to_string(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (got, reply) = post(&a.app, &body).await;
        assert_eq!(got, status, "{what}: {reply}");
        assert_eq!(reply["code"], json!("BAD_USER_INPUT"), "{what}: {reply}");
    }
    let recorded: i64 =
        a.client.query_one("SELECT count(*) FROM inference_audits", &[]).await.unwrap().get(0);
    assert_eq!(recorded, 1);
}

#[tokio::test]
async fn without_the_model_audits_say_how_to_install_it() {
    let db = TestDb::migrated().await;
    let app = app(ApiState::new(pool(db.url(), 2).expect("pool")));
    let e = error(&app, "{ referenceEmbed(texts: [\"a\"]) { tokens } }", json!({})).await;
    assert_eq!(e["extensions"]["code"], json!("UNAVAILABLE"));
    assert!(e["message"].as_str().unwrap().contains("taoscope model fetch"), "{e}");
    let (status, reply) =
        post(&app, &json!({ "netuid": 1, "hotkey": hotkey(1), "items": [] }).to_string()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{reply}");
}
