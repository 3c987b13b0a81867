//! The embedded model against the independent numpy reference (`audit/reference/generate.py`,
//! float64 forward pass over the same weights): every one of the 79 texts within 1e-4 per
//! dimension, the same token counts, and the similarities the model card publishes.
//!
//! Needs the model directory (`taoscope model fetch`; `scripts/test` fetches it).

use std::sync::OnceLock;

use serde_json::Value;
use taoscope_audit::{DIMENSIONS, Embedder, MAX_TOKENS, cosine, model_dir};

fn model() -> &'static Embedder {
    static MODEL: OnceLock<Embedder> = OnceLock::new();
    MODEL.get_or_init(|| Embedder::load(&model_dir(None)).unwrap_or_else(|e| panic!("{e}")))
}

fn reference() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/reference_embeddings.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("reference data")).expect("reference JSON")
}

fn vector(v: &Value) -> Vec<f32> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number") as f32).collect()
}

#[test]
fn embeddings_match_the_independent_reference() {
    let data = reference();
    assert_eq!(data["dimensions"], DIMENSIONS);
    assert_eq!(data["max_tokens"], MAX_TOKENS);
    let items = data["items"].as_array().expect("items");
    assert!(items.len() >= 50);
    let texts: Vec<&str> = items.iter().map(|i| i["text"].as_str().expect("text")).collect();
    // Covers what the issue asks: empty, whitespace, unicode, past the token limit.
    assert!(texts.contains(&""));
    assert!(texts.iter().any(|t| !t.is_empty() && t.trim().is_empty()));
    assert!(texts.iter().any(|t| !t.is_ascii()));
    assert!(items.iter().any(|i| i["tokens_untruncated"].as_u64() > Some(MAX_TOKENS as u64)));

    let model = model();
    let ours = model.embed(&texts).expect("embeddings");
    let mut worst = (0.0f32, "");
    for ((item, text), got) in items.iter().zip(&texts).zip(&ours) {
        assert_eq!(model.tokens(text).unwrap().len() as u64, item["tokens"].as_u64().unwrap(), "{text:?}");
        let want = vector(&item["embedding"]);
        assert_eq!(got.len(), DIMENSIONS);
        for (d, (a, b)) in got.iter().zip(&want).enumerate() {
            let diff = (a - b).abs();
            assert!(diff <= 1e-4, "{text:?} dimension {d}: {a} vs {b}");
            if diff > worst.0 {
                worst = (diff, text);
            }
        }
        let norm: f32 = got.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{text:?} has norm {norm}");
    }
    eprintln!("largest difference from the reference: {:e} ({:?})", worst.0, worst.1);
}

#[test]
fn the_model_card_similarities_are_reproduced() {
    let model = model();
    let sentences = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."];
    let v = model.embed(&sentences).expect("embeddings");
    let round = |x: f64| (x * 1e4).round() / 1e4;
    assert_eq!(round(cosine(&v[0], &v[1])), 0.6660);
    assert_eq!(round(cosine(&v[0], &v[2])), 0.1046);
    assert_eq!(round(cosine(&v[1], &v[2])), 0.1411);
    for pair in reference()["similarities"].as_array().expect("similarities") {
        let (a, b) = (pair["a"].as_str().unwrap(), pair["b"].as_str().unwrap());
        let e = model.embed(&[a, b]).unwrap();
        assert!((cosine(&e[0], &e[1]) - pair["cosine"].as_f64().unwrap()).abs() < 1e-5);
    }
}

/// A text's embedding does not depend on the batch it is padded into.
#[test]
fn batching_and_padding_do_not_change_embeddings() {
    let model = model();
    let alone = model.embed(&["validators set weights every tempo"]).unwrap();
    let long = "a much longer companion sentence that forces padding of the short one ".repeat(5);
    let batched = model.embed(&[long.as_str(), "validators set weights every tempo", ""]).unwrap();
    for (a, b) in alone[0].iter().zip(&batched[1]) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    assert!(model.embed::<&str>(&[]).unwrap().is_empty());
}
