//! `taoscope bench audit`: the reference model's throughput on batches of 32 texts of about
//! 32 tokens, the arithmetic rate that implies, the model's load time and the process's peak
//! RSS, with the vector instructions and threads the model ran on.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use taoscope_audit::embed::{BATCH, forward_flops, simd, threads};
use taoscope_audit::{Embedder, model_dir};

use super::peak_rss_mb;
use crate::cli::BenchAuditArgs;

const WORDS: &[&str] = &[
    "subnet",
    "validator",
    "miner",
    "weights",
    "stake",
    "emission",
    "consensus",
    "alpha",
    "pool",
    "price",
    "the",
    "network",
    "rewards",
    "honest",
    "model",
    "returns",
    "every",
    "tempo",
    "bonds",
    "incentive",
    "dividends",
    "registration",
    "hotkey",
    "coldkey",
    "liquidity",
    "market",
    "answers",
    "query",
    "prompt",
    "embedding",
    "quality",
    "latency",
    "checks",
    "against",
    "reference",
    "outputs",
    "score",
    "rank",
];

/// `n` deterministic sentences of 24 words (about 32 tokens with `[CLS]` and `[SEP]`).
fn sentences(n: usize) -> Vec<String> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            let words: Vec<&str> = (0..24)
                .map(|_| {
                    state =
                        state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    WORDS[(state >> 33) as usize % WORDS.len()]
                })
                .collect();
            words.join(" ")
        })
        .collect()
}

/// Runs the benchmark; the last line printed is its JSON.
pub fn run(args: BenchAuditArgs) -> anyhow::Result<()> {
    let dir = model_dir(args.model.model_dir.as_deref());
    let model = Embedder::load(&dir).context("loading the reference model")?;
    let texts = sentences(BATCH * 64);
    let batches: Vec<&[String]> = texts.chunks(BATCH).collect();
    let widths: Vec<usize> = batches
        .iter()
        .map(|b| {
            b.iter().map(|t| model.tokens(t).map(|ids| ids.len())).try_fold(0, |w, n| n.map(|n| w.max(n)))
        })
        .collect::<Result<_, _>>()?;
    let tokens: usize =
        texts.iter().map(|t| model.tokens(t).map(|ids| ids.len())).sum::<Result<usize, _>>()?;
    model.embed(batches[0])?;

    let deadline = Duration::from_secs(args.seconds.max(1));
    let started = Instant::now();
    let (mut sentences_done, mut flops) = (0usize, 0.0f64);
    for (batch, width) in batches.iter().zip(&widths).cycle() {
        let vectors = model.embed(batch)?;
        anyhow::ensure!(vectors.len() == batch.len(), "a batch came back short");
        sentences_done += batch.len();
        flops += forward_flops(batch.len(), *width);
        if started.elapsed() >= deadline {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "batch": BATCH,
            "simd": simd(),
            "threads": threads(),
            "mean_tokens": (tokens as f64 / texts.len() as f64 * 10.0).round() / 10.0,
            "sentences": sentences_done,
            "seconds": (seconds * 100.0).round() / 100.0,
            "sentences_per_s": (sentences_done as f64 / seconds * 10.0).round() / 10.0,
            "gflops": (flops / seconds / 1e8).round() / 10.0,
            "model_load_ms": (model.load_ms() * 10.0).round() / 10.0,
            "peak_rss_mb": peak_rss_mb("self").map(f64::round),
        })
    );
    Ok(())
}
