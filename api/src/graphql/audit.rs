//! The inference audit in GraphQL: `referenceEmbed(texts)` (query) and the mutations
//! `auditEmbeddings(netuid, hotkey, items)` and `auditAnswers(items)`, which score a miner's
//! outputs against the embedded reference model and record the run ([`crate::audit`]).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use taoscope_audit::{AnswerItem, DEFAULT_THRESHOLD, EmbeddingItem, MODEL_HASH, MODEL_NAME};

use crate::audit::{self, AuditRun as Run};
use crate::graphql::scalars::BlockNumberScalar;
use crate::graphql::{gql, state};

/// A text and the embedding a miner returned for it.
#[derive(Debug, InputObject)]
pub struct EmbeddingAuditInput {
    /// The input text (at most 16 KiB).
    pub text: String,
    /// The miner's vector (384 finite numbers; a null component is refused as not finite).
    pub embedding: Vec<Option<f64>>,
}

/// A reference answer and a miner's answer.
#[derive(Debug, InputObject)]
pub struct AnswerAuditInput {
    /// The expected answer.
    pub reference: String,
    /// The miner's answer.
    pub candidate: String,
}

/// Why an item was not scored.
#[derive(Debug, Clone, SimpleObject)]
pub struct AuditItemError {
    /// Stable code: WRONG_DIMENSIONS, NOT_FINITE, ZERO_VECTOR or TEXT_TOO_LONG.
    pub code: String,
    /// What is wrong.
    pub message: String,
}

/// One item's outcome.
#[derive(Debug, Clone, SimpleObject)]
pub struct AuditItem {
    /// Position in the request.
    pub index: i32,
    /// Cosine similarity with the reference; null when the item was refused.
    pub similarity: Option<f64>,
    /// Similarity at or above the threshold; null when refused.
    pub passed: Option<bool>,
    /// Why the item was refused.
    pub error: Option<AuditItemError>,
}

/// Over the whole batch.
#[derive(Debug, Clone, SimpleObject)]
pub struct AuditSummary {
    /// Items sent.
    pub items: i32,
    /// Items scored.
    pub scored: i32,
    /// Scored items that passed.
    pub passed: i32,
    /// Scored items that failed.
    pub failed: i32,
    /// Items refused.
    pub errors: i32,
    /// passed / scored (null when nothing was scored).
    pub pass_rate: Option<f64>,
    /// Mean similarity of the scored items.
    pub mean_similarity: Option<f64>,
    /// Lowest similarity of the scored items.
    pub min_similarity: Option<f64>,
    /// The pass threshold.
    pub threshold: f64,
}

/// An audit run.
#[derive(Debug, Clone, SimpleObject)]
pub struct AuditRun {
    /// `inference_audits` id (null when no miner was named, so nothing was recorded).
    pub id: Option<String>,
    /// When it was recorded.
    pub audited_at: Option<DateTime<Utc>>,
    /// The miner's subnet.
    pub netuid: Option<i32>,
    /// The miner's hotkey (SS58).
    pub hotkey: Option<String>,
    /// The hotkey's uid in the newest indexed metagraph.
    pub uid: Option<i32>,
    /// The indexed height when the audit ran.
    pub block_number: Option<BlockNumberScalar>,
    /// The reference model.
    pub model: String,
    /// SHA-256 of the reference model's weights.
    pub model_hash: String,
    /// Per item, in request order.
    pub items: Vec<AuditItem>,
    /// Over the batch.
    pub summary: AuditSummary,
}

/// A reference embedding.
#[derive(Debug, Clone, SimpleObject)]
pub struct ReferenceEmbedding {
    /// The text.
    pub text: String,
    /// Tokens the model read (`[CLS]` and `[SEP]` included, at most 256).
    pub tokens: i32,
    /// The unit-length 384-dimensional embedding.
    pub embedding: Vec<f64>,
}

fn small(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<Run> for AuditRun {
    fn from(run: Run) -> Self {
        let s = &run.report.summary;
        AuditRun {
            id: run.id.map(|id| id.to_string()),
            audited_at: run.audited_at,
            netuid: run.miner.as_ref().map(|m| i32::from(m.netuid)),
            hotkey: run.miner.as_ref().map(|m| m.hotkey.clone()),
            uid: run.miner.as_ref().map(|m| m.uid),
            block_number: run
                .miner
                .as_ref()
                .and_then(|m| u64::try_from(m.block_number).ok())
                .map(|n| BlockNumberScalar(taoscope_schema::BlockNumber(n))),
            model: MODEL_NAME.to_string(),
            model_hash: MODEL_HASH.to_string(),
            summary: AuditSummary {
                items: small(s.items),
                scored: small(s.scored),
                passed: small(s.passed),
                failed: small(s.failed),
                errors: small(s.errors),
                pass_rate: s.pass_rate,
                mean_similarity: s.mean_similarity,
                min_similarity: s.min_similarity,
                threshold: s.threshold,
            },
            items: run
                .report
                .items
                .iter()
                .map(|i| AuditItem {
                    index: small(i.index),
                    similarity: i.similarity,
                    passed: i.passed,
                    error: i
                        .error
                        .as_ref()
                        .map(|e| AuditItemError { code: e.code().to_string(), message: e.to_string() }),
                })
                .collect(),
        }
    }
}

/// Query fields of the audit.
#[derive(Debug, Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The reference model's embedding of each text (1 to 256 texts of at most 16 KiB).
    async fn reference_embed(
        &self,
        ctx: &Context<'_>,
        texts: Vec<String>,
    ) -> Result<Vec<ReferenceEmbedding>> {
        let out = audit::reference_embed(state(ctx), texts).await.map_err(gql)?;
        Ok(out
            .into_iter()
            .map(|(text, tokens, v)| ReferenceEmbedding {
                text,
                tokens: small(tokens),
                embedding: v.into_iter().map(f64::from).collect(),
            })
            .collect())
    }
}

/// Mutations: audit runs are recorded.
#[derive(Debug, Default)]
pub struct AuditMutation;

#[Object]
impl AuditMutation {
    /// Scores a miner's embeddings (1 to 256 items) against the reference embeddings of their
    /// texts and records the run. Items with a wrong length, a non-finite or all-zero vector or
    /// an oversized text are refused one by one; the rest are scored.
    async fn audit_embeddings(
        &self,
        ctx: &Context<'_>,
        netuid: i32,
        hotkey: String,
        items: Vec<EmbeddingAuditInput>,
        #[graphql(desc = "Pass at or above this cosine similarity (default 0.99).")] threshold: Option<f64>,
    ) -> Result<AuditRun> {
        let items = items
            .into_iter()
            .map(|i| EmbeddingItem { text: i.text, embedding: audit::components(i.embedding) })
            .collect();
        let threshold = threshold.unwrap_or(DEFAULT_THRESHOLD);
        let run =
            audit::audit_embeddings(state(ctx), netuid, &hotkey, items, threshold).await.map_err(gql)?;
        Ok(run.into())
    }

    /// Scores text answers (1 to 256 items) by the cosine similarity of their reference
    /// embeddings; recorded when a miner (`netuid` and `hotkey`) is named.
    async fn audit_answers(
        &self,
        ctx: &Context<'_>,
        items: Vec<AnswerAuditInput>,
        netuid: Option<i32>,
        hotkey: Option<String>,
        #[graphql(desc = "Pass at or above this cosine similarity (default 0.99).")] threshold: Option<f64>,
    ) -> Result<AuditRun> {
        let miner = match (netuid, hotkey.as_deref()) {
            (Some(n), Some(h)) => Some((n, h)),
            (None, None) => None,
            _ => {
                return Err(gql(crate::error::ApiError::BadInput(
                    "give both `netuid` and `hotkey`, or neither".into(),
                )));
            }
        };
        let items = items
            .into_iter()
            .map(|i| AnswerItem { reference: i.reference, candidate: i.candidate })
            .collect();
        let threshold = threshold.unwrap_or(DEFAULT_THRESHOLD);
        let run = audit::audit_answers(state(ctx), miner, items, threshold).await.map_err(gql)?;
        Ok(run.into())
    }
}
