//! The inference audit: miners' embeddings and answers scored against the embedded reference
//! model ([`taoscope_audit`]), each run recorded in `inference_audits` with the miner (netuid,
//! hotkey and uid at the indexed height) and the model's hash. Served as GraphQL
//! ([`graphql::audit`](crate::graphql::audit)) and as `POST /audit/embeddings` ([`handler`]).
//!
//! The model runs on blocking threads, one batch at a time (it already uses every core), so
//! the async runtime keeps serving everything else meanwhile.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use taoscope_audit::{AnswerItem, BatchError, Embedder, EmbeddingItem, MODEL_HASH, MODEL_NAME, Report};
use tokio::sync::Semaphore;

use crate::ApiState;
use crate::error::ApiError;
use crate::graphql::chain::ss58;
use crate::graphql::subnets::check_netuid;
use crate::store::postgres::{PgStore, query_err};

/// The miner: the indexed height, and the hotkey's uid in the subnet's newest metagraph.
const MINER: &str = "
    SELECT COALESCE((SELECT block_number FROM indexer_progress WHERE stage = 'blocks'),
                    (SELECT max(number) FROM blocks)),
           (SELECT m.uid FROM metagraph m
             WHERE m.netuid = $1 AND m.hotkey = $2
               AND m.block_number = (SELECT max(block_number) FROM metagraph WHERE netuid = $1)
             LIMIT 1)";
/// The one write API sessions may make (migration 0006).
const RECORD: &str = "SELECT id, audited_at FROM taoscope_record_inference_audit(
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

/// The loaded reference model, run one batch at a time.
pub struct ReferenceModel {
    embedder: Arc<Embedder>,
    running: Semaphore,
}

impl ReferenceModel {
    /// Serves audits with `embedder`.
    pub fn new(embedder: Arc<Embedder>) -> Self {
        Self { embedder, running: Semaphore::new(1) }
    }

    /// Runs `job` on a blocking thread once the model is free.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Embedder) -> Result<T, taoscope_audit::ModelError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _turn =
            self.running.acquire().await.map_err(|_| unavailable("the reference model is shutting down"))?;
        let embedder = self.embedder.clone();
        let started = std::time::Instant::now();
        let outcome = tokio::task::spawn_blocking(move || job(&embedder)).await;
        metrics::histogram!("taoscope_api_audit_model_seconds").record(started.elapsed().as_secs_f64());
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "reference model failed");
                Err(unavailable("the reference model failed on this batch"))
            }
            Err(_) => Err(unavailable("the reference model failed on this batch")),
        }
    }
}

fn unavailable(reason: &str) -> ApiError {
    ApiError::Unavailable { reason: reason.to_string(), source: None }
}

fn model(state: &ApiState) -> Result<&ReferenceModel, ApiError> {
    state.reference_model().ok_or_else(|| {
        unavailable(&format!(
            "the inference audit is off: the reference model is not installed (run `{}` and restart)",
            taoscope_audit::FETCH_COMMAND
        ))
    })
}

fn batch_error(e: BatchError) -> ApiError {
    ApiError::BadInput(e.to_string())
}

/// Who was audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miner {
    /// Subnet.
    pub netuid: u16,
    /// SS58 hotkey (canonical form).
    pub hotkey: String,
    /// Its uid in the newest indexed metagraph.
    pub uid: i32,
    /// The indexed height.
    pub block_number: i64,
}

/// Checks that `hotkey` is registered on `netuid` as of the newest indexed metagraph.
pub async fn find_miner(store: &PgStore, netuid: i32, hotkey: &str) -> Result<Miner, ApiError> {
    let netuid = check_netuid(netuid)?;
    let hotkey = ss58(hotkey, "hotkey")?;
    let client = store.client().await?;
    let row = client.query_one(MINER, &[&i32::from(netuid), &hotkey]).await.map_err(query_err("MINER"))?;
    let (block, uid): (Option<i64>, Option<i32>) = (row.get(0), row.get(1));
    match (block, uid) {
        (Some(block_number), Some(uid)) => Ok(Miner { netuid, hotkey, uid, block_number }),
        _ => Err(ApiError::BadInput(format!(
            "unknown hotkey: {hotkey} is not registered on subnet {netuid} in the newest indexed metagraph"
        ))),
    }
}

/// Which audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Miners' embeddings against the reference's.
    Embeddings,
    /// Text answers compared through their embeddings.
    Answers,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Embeddings => "embeddings",
            Kind::Answers => "answers",
        }
    }
}

/// A finished audit run.
#[derive(Debug, Clone)]
pub struct AuditRun {
    /// `inference_audits.id` (`None` when not recorded: no miner given).
    pub id: Option<i64>,
    /// When it was recorded.
    pub audited_at: Option<DateTime<Utc>>,
    /// The miner, when one was named.
    pub miner: Option<Miner>,
    /// The report.
    pub report: Report,
}

/// Scores `items` against the reference for the miner `(netuid, hotkey)` and records the run.
pub async fn audit_embeddings(
    state: &ApiState,
    netuid: i32,
    hotkey: &str,
    items: Vec<EmbeddingItem>,
    threshold: f64,
) -> Result<AuditRun, ApiError> {
    let model = model(state)?;
    taoscope_audit::check::check_batch(items.len(), threshold).map_err(batch_error)?;
    let miner = find_miner(state.store(), netuid, hotkey).await?;
    let report = model
        .run(move |m| taoscope_audit::check::audit_embeddings(m, &items, threshold))
        .await?
        .map_err(batch_error)?;
    record(state.store(), Kind::Embeddings, Some(miner), report).await
}

/// Scores candidate answers against reference answers (recorded when a miner is named).
pub async fn audit_answers(
    state: &ApiState,
    miner: Option<(i32, &str)>,
    items: Vec<AnswerItem>,
    threshold: f64,
) -> Result<AuditRun, ApiError> {
    let model = model(state)?;
    taoscope_audit::check::check_batch(items.len(), threshold).map_err(batch_error)?;
    let miner = match miner {
        Some((netuid, hotkey)) => Some(find_miner(state.store(), netuid, hotkey).await?),
        None => None,
    };
    let report = model
        .run(move |m| taoscope_audit::check::audit_answers(m, &items, threshold))
        .await?
        .map_err(batch_error)?;
    record(state.store(), Kind::Answers, miner, report).await
}

/// The reference embedding of each text, with its token count.
pub async fn reference_embed(
    state: &ApiState,
    texts: Vec<String>,
) -> Result<Vec<(String, usize, Vec<f32>)>, ApiError> {
    let model = model(state)?;
    taoscope_audit::check::check_batch(texts.len(), 0.0).map_err(batch_error)?;
    if let Some((i, t)) =
        texts.iter().enumerate().find(|(_, t)| t.len() > taoscope_audit::check::MAX_TEXT_BYTES)
    {
        return Err(ApiError::BadInput(format!(
            "text {i} is {} bytes, more than the {} accepted",
            t.len(),
            taoscope_audit::check::MAX_TEXT_BYTES
        )));
    }
    model
        .run(move |m| {
            let vectors = m.embed(&texts)?;
            let mut out = Vec::with_capacity(texts.len());
            for (text, vector) in texts.into_iter().zip(vectors) {
                let tokens = m.tokens(&text)?.len();
                out.push((text, tokens, vector));
            }
            Ok(out)
        })
        .await
}

async fn record(
    store: &PgStore,
    kind: Kind,
    miner: Option<Miner>,
    report: Report,
) -> Result<AuditRun, ApiError> {
    let counts = &report.summary;
    for (outcome, n) in [("passed", counts.passed), ("failed", counts.failed), ("refused", counts.errors)] {
        metrics::counter!("taoscope_api_audit_items_total", "kind" => kind.as_str(), "outcome" => outcome)
            .increment(n as u64);
    }
    let Some(m) = miner else {
        return Ok(AuditRun { id: None, audited_at: None, miner: None, report });
    };
    let s = &report.summary;
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let mut client = store.client().await?;
    let tx = client.build_transaction().read_only(false).start().await.map_err(query_err("BEGIN"))?;
    let row = tx
        .query_one(
            RECORD,
            &[
                &m.block_number,
                &i32::from(m.netuid),
                &m.hotkey,
                &m.uid,
                &kind.as_str(),
                &MODEL_NAME,
                &MODEL_HASH,
                &s.threshold,
                &count(s.items),
                &count(s.scored),
                &count(s.passed),
                &count(s.errors),
                &s.pass_rate,
                &s.mean_similarity,
                &s.min_similarity,
            ],
        )
        .await
        .map_err(query_err("RECORD"))?;
    tx.commit().await.map_err(query_err("COMMIT"))?;
    Ok(AuditRun { id: Some(row.get(0)), audited_at: Some(row.get(1)), miner: Some(m), report })
}

/// `POST /audit/embeddings` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsRequest {
    /// Subnet.
    pub netuid: i32,
    /// SS58 hotkey.
    pub hotkey: String,
    /// `{text, embedding}` pairs.
    pub items: Vec<EmbeddingsRequestItem>,
    /// Pass threshold (default 0.99).
    pub threshold: Option<f64>,
}

/// One item of [`EmbeddingsRequest`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsRequestItem {
    /// The text.
    pub text: String,
    /// The miner's vector (`null` components, as `JSON.stringify` writes NaN, are refused as
    /// not finite).
    pub embedding: Vec<Option<f64>>,
}

/// A vector with missing components as NaN (refused per item by the check).
pub fn components(v: Vec<Option<f64>>) -> Vec<f64> {
    v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect()
}

#[derive(Serialize)]
struct ItemJson {
    index: usize,
    similarity: Option<f64>,
    passed: Option<bool>,
    error: Option<serde_json::Value>,
}

/// The JSON form of a run (the GraphQL `AuditRun` in the same shape).
pub fn run_json(run: &AuditRun) -> serde_json::Value {
    let items: Vec<ItemJson> = run
        .report
        .items
        .iter()
        .map(|i| ItemJson {
            index: i.index,
            similarity: i.similarity,
            passed: i.passed,
            error: i.error.as_ref().map(|e| json!({ "code": e.code(), "message": e.to_string() })),
        })
        .collect();
    json!({
        "id": run.id,
        "auditedAt": run.audited_at,
        "netuid": run.miner.as_ref().map(|m| m.netuid),
        "hotkey": run.miner.as_ref().map(|m| m.hotkey.clone()),
        "uid": run.miner.as_ref().map(|m| m.uid),
        "blockNumber": run.miner.as_ref().map(|m| m.block_number),
        "model": MODEL_NAME,
        "modelHash": MODEL_HASH,
        "items": items,
        "summary": run.report.summary,
    })
}

/// `POST /audit/embeddings`: the REST form of `auditEmbeddings`.
pub async fn handler(
    State(state): State<ApiState>,
    body: Result<Json<EmbeddingsRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => {
            return ApiError::BadInput(format!(
                "the body is not an audit request: {}",
                rejection.body_text()
            ))
            .into_response();
        }
    };
    let items = request
        .items
        .into_iter()
        .map(|i| EmbeddingItem { text: i.text, embedding: components(i.embedding) })
        .collect();
    let threshold = request.threshold.unwrap_or(taoscope_audit::DEFAULT_THRESHOLD);
    match audit_embeddings(&state, request.netuid, &request.hotkey, items, threshold).await {
        Ok(run) => Json(run_json(&run)).into_response(),
        Err(e) => e.into_response(),
    }
}
