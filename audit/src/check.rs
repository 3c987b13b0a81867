//! The audit itself: a miner's embeddings (or text answers) against the reference model's,
//! item by item. Items that cannot be scored get an error of their own; the rest of the batch
//! is scored regardless.

use serde::Serialize;

use crate::embed::{DIMENSIONS, Embedder, cosine};
use crate::error::{BatchError, ItemError, ModelError};

/// Most items in one audit request.
pub const MAX_ITEMS: usize = 256;
/// Longest accepted text, in UTF-8 bytes (the model reads at most 256 tokens of it anyway).
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// The default pass threshold: cosine similarity with the reference at or above it passes.
pub const DEFAULT_THRESHOLD: f64 = 0.99;

/// A text and the embedding a miner returned for it.
#[derive(Debug, Clone)]
pub struct EmbeddingItem {
    /// The input text.
    pub text: String,
    /// The miner's vector.
    pub embedding: Vec<f64>,
}

/// A reference answer and a candidate answer to compare.
#[derive(Debug, Clone)]
pub struct AnswerItem {
    /// The expected answer.
    pub reference: String,
    /// The miner's answer.
    pub candidate: String,
}

/// One item's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemOutcome {
    /// Position in the request.
    pub index: usize,
    /// Cosine similarity with the reference (`None` when not scored).
    pub similarity: Option<f64>,
    /// At or above the threshold (`None` when not scored).
    pub passed: Option<bool>,
    /// Why the item was not scored.
    #[serde(skip)]
    pub error: Option<ItemError>,
}

/// The whole batch's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Items sent.
    pub items: usize,
    /// Items scored.
    pub scored: usize,
    /// Scored items that passed.
    pub passed: usize,
    /// Scored items that failed.
    pub failed: usize,
    /// Items refused.
    pub errors: usize,
    /// `passed / scored` (`None` when nothing was scored).
    pub pass_rate: Option<f64>,
    /// Mean similarity of the scored items.
    pub mean_similarity: Option<f64>,
    /// Lowest similarity of the scored items.
    pub min_similarity: Option<f64>,
    /// The threshold used.
    pub threshold: f64,
}

/// Items with their outcomes and the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Per item, in request order.
    pub items: Vec<ItemOutcome>,
    /// Over the batch.
    pub summary: Summary,
}

/// The batch-level checks shared by both audits.
pub fn check_batch(count: usize, threshold: f64) -> Result<(), BatchError> {
    if !(-1.0..=1.0).contains(&threshold) {
        return Err(BatchError::Threshold(threshold));
    }
    match count {
        0 => Err(BatchError::Empty),
        n if n > MAX_ITEMS => Err(BatchError::TooMany { count: n, max: MAX_ITEMS }),
        _ => Ok(()),
    }
}

fn check_text(text: &str) -> Result<(), ItemError> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(ItemError::TextTooLong { bytes: text.len(), max: MAX_TEXT_BYTES });
    }
    Ok(())
}

fn check_embedding(v: &[f64]) -> Result<Vec<f32>, ItemError> {
    if v.len() != DIMENSIONS {
        return Err(ItemError::Dimensions { expected: DIMENSIONS, found: v.len() });
    }
    if let Some(index) = v.iter().position(|x| !x.is_finite()) {
        return Err(ItemError::NotFinite { index });
    }
    if v.iter().all(|x| *x == 0.0) {
        return Err(ItemError::Zero);
    }
    Ok(v.iter().map(|x| *x as f32).collect())
}

/// Scores each miner embedding against the reference embedding of its text.
pub fn audit_embeddings(
    model: &Embedder,
    items: &[EmbeddingItem],
    threshold: f64,
) -> Result<Result<Report, BatchError>, ModelError> {
    if let Err(e) = check_batch(items.len(), threshold) {
        return Ok(Err(e));
    }
    let checked: Vec<Result<Vec<f32>, ItemError>> =
        items.iter().map(|i| check_text(&i.text).and_then(|()| check_embedding(&i.embedding))).collect();
    let texts: Vec<&str> =
        items.iter().zip(&checked).filter(|(_, c)| c.is_ok()).map(|(i, _)| i.text.as_str()).collect();
    let mut references = model.embed(&texts)?.into_iter();
    let similarities = checked.into_iter().map(|c| {
        c.map(|miner| {
            let reference = references.next().unwrap_or_default();
            cosine(&miner, &reference)
        })
    });
    Ok(Ok(report(similarities, threshold)))
}

/// Scores each candidate answer by the similarity of its embedding with the reference's.
pub fn audit_answers(
    model: &Embedder,
    items: &[AnswerItem],
    threshold: f64,
) -> Result<Result<Report, BatchError>, ModelError> {
    if let Err(e) = check_batch(items.len(), threshold) {
        return Ok(Err(e));
    }
    let checked: Vec<Result<(), ItemError>> =
        items.iter().map(|i| check_text(&i.reference).and_then(|()| check_text(&i.candidate))).collect();
    let mut texts = Vec::new();
    for (item, c) in items.iter().zip(&checked) {
        if c.is_ok() {
            texts.push(item.reference.as_str());
            texts.push(item.candidate.as_str());
        }
    }
    let mut vectors = model.embed(&texts)?.into_iter();
    let similarities = checked.into_iter().map(|c| {
        c.map(|()| {
            let (a, b) = (vectors.next().unwrap_or_default(), vectors.next().unwrap_or_default());
            cosine(&a, &b)
        })
    });
    Ok(Ok(report(similarities, threshold)))
}

fn report(similarities: impl Iterator<Item = Result<f64, ItemError>>, threshold: f64) -> Report {
    let items: Vec<ItemOutcome> = similarities
        .enumerate()
        .map(|(index, s)| match s {
            Ok(similarity) => ItemOutcome {
                index,
                similarity: Some(similarity),
                passed: Some(similarity >= threshold),
                error: None,
            },
            Err(e) => ItemOutcome { index, similarity: None, passed: None, error: Some(e) },
        })
        .collect();
    let scored: Vec<f64> = items.iter().filter_map(|i| i.similarity).collect();
    let passed = items.iter().filter(|i| i.passed == Some(true)).count();
    let summary = Summary {
        items: items.len(),
        scored: scored.len(),
        passed,
        failed: scored.len() - passed,
        errors: items.len() - scored.len(),
        pass_rate: (!scored.is_empty()).then(|| passed as f64 / scored.len() as f64),
        mean_similarity: (!scored.is_empty()).then(|| scored.iter().sum::<f64>() / scored.len() as f64),
        min_similarity: scored.iter().copied().reduce(f64::min),
        threshold,
    };
    Report { items, summary }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_checked_before_any_work() {
        assert_eq!(check_batch(0, 0.99), Err(BatchError::Empty));
        assert_eq!(check_batch(257, 0.99), Err(BatchError::TooMany { count: 257, max: 256 }));
        assert_eq!(check_batch(256, 0.99), Ok(()));
        assert_eq!(check_batch(1, 1.5), Err(BatchError::Threshold(1.5)));
        assert!(matches!(check_batch(1, f64::NAN), Err(BatchError::Threshold(_))));
    }

    #[test]
    fn bad_embeddings_are_refused_item_by_item() {
        assert_eq!(check_embedding(&[0.1; 10]), Err(ItemError::Dimensions { expected: 384, found: 10 }));
        let mut v = vec![0.1; 384];
        v[7] = f64::NAN;
        assert_eq!(check_embedding(&v), Err(ItemError::NotFinite { index: 7 }));
        v[7] = f64::INFINITY;
        assert_eq!(check_embedding(&v), Err(ItemError::NotFinite { index: 7 }));
        assert_eq!(check_embedding(&[0.0; 384]), Err(ItemError::Zero));
        assert_eq!(check_embedding(&[0.5; 384]).map(|v| v.len()), Ok(384));
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        assert_eq!(
            check_text(&long),
            Err(ItemError::TextTooLong { bytes: MAX_TEXT_BYTES + 1, max: MAX_TEXT_BYTES })
        );
    }

    #[test]
    fn the_summary_counts_scored_items_only() {
        let r = report(vec![Ok(0.995), Err(ItemError::Zero), Ok(0.5), Ok(0.99)].into_iter(), 0.99);
        assert_eq!(r.items[1].similarity, None);
        assert_eq!(r.items[1].error, Some(ItemError::Zero));
        assert_eq!(r.items[3].passed, Some(true), "at the threshold passes");
        let s = r.summary;
        assert_eq!((s.items, s.scored, s.passed, s.failed, s.errors), (4, 3, 2, 1, 1));
        assert!((s.pass_rate.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.min_similarity, Some(0.5));
    }
}
