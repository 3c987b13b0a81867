//! The reference model's encoder: BERT (all-MiniLM-L6-v2: 6 layers, 384 dimensions, 12 heads)
//! on candle's CPU backend, laid out for inference speed on a few cores.
//!
//! It computes what Hugging Face's `BertModel` computes for single-segment inputs (token type
//! 0, absolute positions, exact erf GELU, post-layer LayerNorm), with three changes of form
//! that do not change the function:
//! - the query, key and value projections are one matrix product (their weights stacked at
//!   load), with the attention scale 1/√d folded into the query weights;
//! - the token-type-0 embedding is added to the position table once, at load;
//! - the feed-forward bias and GELU run as one pass split across threads ([`BiasGelu`]), and
//!   so do each output projection's bias, the residual connection and the LayerNorm after it
//!   ([`AddNorm`]), instead of a separate pass over memory each.
//!
//! The hidden states stay a `(tokens, hidden)` matrix, so every projection is a single GEMM.
//! `tests/reference.rs` checks the result against an independent float64 forward pass.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Device, Layout, Module, Shape, Tensor};
use candle_nn::{Linear, VarBuilder};
use rayon::prelude::{IndexedParallelIterator, ParallelIterator, ParallelSlice, ParallelSliceMut};
use serde::Deserialize;

use crate::error::ModelError;

/// The parts of `config.json` the encoder reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Token vocabulary.
    pub vocab_size: usize,
    /// Hidden size (embedding dimensions).
    pub hidden_size: usize,
    /// Transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// The feed-forward activation; only `gelu` (the exact, erf form) is supported.
    pub hidden_act: String,
    /// Longest sequence the position table covers.
    pub max_position_embeddings: usize,
    /// Token types (segments).
    pub type_vocab_size: usize,
    /// LayerNorm's epsilon.
    pub layer_norm_eps: f64,
    /// Position encoding; only `absolute` is supported.
    #[serde(default = "absolute")]
    pub position_embedding_type: String,
}

fn absolute() -> String {
    "absolute".to_owned()
}

impl Config {
    /// Parses `config.json` and refuses architectures this encoder does not compute.
    pub fn parse(bytes: &[u8]) -> Result<Config, ModelError> {
        let config: Config = serde_json::from_slice(bytes).map_err(ModelError::Config)?;
        let unsupported = |what: String| Err(ModelError::Architecture(what));
        if config.hidden_act != "gelu" {
            return unsupported(format!("hidden_act {:?} (only \"gelu\")", config.hidden_act));
        }
        if config.position_embedding_type != "absolute" {
            return unsupported(format!(
                "position_embedding_type {:?} (only \"absolute\")",
                config.position_embedding_type
            ));
        }
        if config.num_attention_heads == 0 || !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            return unsupported(format!(
                "hidden_size {} in {} heads",
                config.hidden_size, config.num_attention_heads
            ));
        }
        if config.type_vocab_size == 0 || config.num_hidden_layers == 0 {
            return unsupported("no token types or no layers".to_owned());
        }
        Ok(config)
    }
}

/// LayerNorm's parameters.
struct Norm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl Norm {
    fn load(vb: VarBuilder<'_>, size: usize, eps: f64) -> candle_core::Result<Norm> {
        Ok(Norm { weight: vb.get(size, "weight")?, bias: vb.get(size, "bias")?, eps: eps as f32 })
    }

    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm(xs, &self.weight, &self.bias, self.eps)
    }
}

/// One transformer layer.
struct Layer {
    /// Query, key and value stacked: `(3 × hidden, hidden)`, the query rows pre-scaled.
    qkv: Linear,
    /// Projection weights whose biases the next fused step applies.
    attention_out: Tensor,
    attention_norm: AddNorm,
    up: Tensor,
    up_act: BiasGelu,
    down: Tensor,
    output_norm: AddNorm,
}

impl Layer {
    fn load(vb: VarBuilder<'_>, config: &Config) -> candle_core::Result<Layer> {
        let (h, ff) = (config.hidden_size, config.intermediate_size);
        let scale = 1.0 / ((h / config.num_attention_heads) as f64).sqrt();
        let attention = vb.pp("attention");
        let own = attention.pp("self");
        let (mut weights, mut biases) = (Vec::with_capacity(3), Vec::with_capacity(3));
        for (name, factor) in [("query", scale), ("key", 1.0), ("value", 1.0)] {
            weights.push((own.pp(name).get((h, h), "weight")? * factor)?);
            biases.push((own.pp(name).get(h, "bias")? * factor)?);
        }
        let qkv = Linear::new(Tensor::cat(&weights, 0)?, Some(Tensor::cat(&biases, 0)?));
        let intermediate = vb.pp("intermediate").pp("dense");
        let (output, attention_output) = (vb.pp("output"), attention.pp("output"));
        Ok(Layer {
            qkv,
            attention_out: attention_output.pp("dense").get((h, h), "weight")?,
            attention_norm: AddNorm::load(attention_output, h, config.layer_norm_eps)?,
            up: intermediate.get((ff, h), "weight")?,
            up_act: BiasGelu { bias: intermediate.get(ff, "bias")?.to_vec1()? },
            down: output.pp("dense").get((h, ff), "weight")?,
            output_norm: AddNorm::load(output, h, config.layer_norm_eps)?,
        })
    }

    /// `hidden`: `(batch × width, hidden)`; `mask`: `(batch, 1, 1, width)`, 0 for tokens and a
    /// large negative number for padding.
    fn forward(&self, hidden: &Tensor, mask: &Tensor, heads: usize) -> candle_core::Result<Tensor> {
        let (batch, _, _, width) = mask.dims4()?;
        let size = hidden.dim(1)?;
        let head = size / heads;
        // (3, batch, heads, width, head)
        let qkv = self
            .qkv
            .forward(hidden)?
            .reshape((batch, width, 3, heads, head))?
            .permute((2, 0, 3, 1, 4))?
            .contiguous()?;
        let (query, key, value) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
        let scores = query.matmul(&key.t()?)?.broadcast_add(mask)?;
        let probabilities = candle_nn::ops::softmax_last_dim(&scores)?;
        let context =
            probabilities.matmul(&value)?.transpose(1, 2)?.contiguous()?.reshape((batch * width, size))?;
        let attended =
            context.matmul(&self.attention_out.t()?)?.apply_op2_no_bwd(hidden, &self.attention_norm)?;
        let inner = attended.matmul(&self.up.t()?)?.apply_op1_no_bwd(&self.up_act)?;
        inner.matmul(&self.down.t()?)?.apply_op2_no_bwd(&attended, &self.output_norm)
    }
}

/// The encoder: embeddings and the transformer layers.
pub struct Encoder {
    words: Tensor,
    /// Position embeddings with the token-type-0 embedding added.
    positions: Tensor,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    heads: usize,
}

impl Encoder {
    /// Loads the weights (Hugging Face `BertModel` names, with or without a `bert.` prefix).
    pub fn load(vb: VarBuilder<'_>, config: &Config) -> candle_core::Result<Encoder> {
        let vb =
            if vb.contains_tensor("bert.embeddings.word_embeddings.weight") { vb.pp("bert") } else { vb };
        let h = config.hidden_size;
        let embeddings = vb.pp("embeddings");
        let words = embeddings.pp("word_embeddings").get((config.vocab_size, h), "weight")?;
        let positions =
            embeddings.pp("position_embeddings").get((config.max_position_embeddings, h), "weight")?;
        let types = embeddings.pp("token_type_embeddings").get((config.type_vocab_size, h), "weight")?;
        let positions = positions.broadcast_add(&types.get(0)?)?;
        let embedding_norm = Norm::load(embeddings.pp("LayerNorm"), h, config.layer_norm_eps)?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::load(vb.pp("encoder").pp("layer").pp(i), config))
            .collect::<candle_core::Result<_>>()?;
        Ok(Encoder { words, positions, embedding_norm, layers, heads: config.num_attention_heads })
    }

    /// The last hidden states, `(batch, width, hidden)`, of right-padded token ids
    /// `(batch, width)` whose real tokens `mask` (same shape, 1 or 0) marks.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, width) = ids.dims2()?;
        let size = self.words.dim(1)?;
        if width > self.positions.dim(0)? {
            candle_core::bail!("{width} tokens exceed the {} positions", self.positions.dim(0)?);
        }
        let words = self.words.index_select(&ids.flatten_all()?, 0)?.reshape((batch, width, size))?;
        let embedded =
            words.broadcast_add(&self.positions.narrow(0, 0, width)?)?.reshape((batch * width, size))?;
        let mut hidden = self.embedding_norm.forward(&embedded)?;
        // 0 where attended, the lowest f32 where padding (exp underflows to exactly 0).
        let mask =
            ((mask.to_dtype(DType::F32)? - 1.0)? * f64::from(f32::MAX))?.reshape((batch, 1, 1, width))?;
        for layer in &self.layers {
            hidden = layer.forward(&hidden, &mask, self.heads)?;
        }
        hidden.reshape((batch, width, size))
    }

    /// The device the weights are on.
    pub fn device(&self) -> &Device {
        self.words.device()
    }
}

/// `gelu(x + bias)` over a `(rows, bias.len())` matrix, in one pass split across threads.
/// GELU is the exact form, `x/2 · (1 + erf(x/√2))`.
#[derive(Debug, Clone)]
pub struct BiasGelu {
    /// Added to each row before the activation.
    pub bias: Vec<f32>,
}

/// Rows per parallel task: enough work to outweigh the hand-off.
const ROWS_PER_TASK: usize = 16;

impl CustomOp1 for BiasGelu {
    fn name(&self) -> &'static str {
        "bias-gelu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let src = f32_rows("bias-gelu", storage, layout, self.bias.len())?;
        let width = self.bias.len();
        let mut dst = vec![0f32; src.len()];
        dst.par_chunks_mut(width * ROWS_PER_TASK).zip(src.par_chunks(width * ROWS_PER_TASK)).for_each(
            |(out, inp)| {
                for (out, inp) in out.chunks_exact_mut(width).zip(inp.chunks_exact(width)) {
                    for ((o, &x), &b) in out.iter_mut().zip(inp).zip(&self.bias) {
                        *o = gelu(x + b);
                    }
                }
            },
        );
        Ok((CpuStorage::F32(dst), layout.shape().clone()))
    }
}

/// `LayerNorm(x + bias + residual)` over `(rows, hidden)` matrices, in one pass split across
/// threads: a projection's bias, the residual connection and the normalisation that follows.
#[derive(Debug, Clone)]
pub struct AddNorm {
    /// The projection's bias, added to each row of `x`.
    pub bias: Vec<f32>,
    /// LayerNorm's scale.
    pub weight: Vec<f32>,
    /// LayerNorm's shift.
    pub shift: Vec<f32>,
    /// LayerNorm's epsilon.
    pub eps: f32,
}

impl AddNorm {
    /// The `dense.bias` and `LayerNorm.{weight,bias}` under `vb`.
    fn load(vb: VarBuilder<'_>, size: usize, eps: f64) -> candle_core::Result<AddNorm> {
        let norm = vb.pp("LayerNorm");
        Ok(AddNorm {
            bias: vb.pp("dense").get(size, "bias")?.to_vec1()?,
            weight: norm.get(size, "weight")?.to_vec1()?,
            shift: norm.get(size, "bias")?.to_vec1()?,
            eps: eps as f32,
        })
    }

    fn row(&self, out: &mut [f32], x: &[f32], residual: &[f32]) {
        for ((o, &x), (&r, &b)) in out.iter_mut().zip(x).zip(residual.iter().zip(&self.bias)) {
            *o = x + b + r;
        }
        let n = out.len() as f32;
        let mean = out.iter().sum::<f32>() / n;
        let variance = out.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let scale = 1.0 / (variance + self.eps).sqrt();
        for ((o, &w), &s) in out.iter_mut().zip(&self.weight).zip(&self.shift) {
            *o = (*o - mean) * scale * w + s;
        }
    }
}

impl CustomOp2 for AddNorm {
    fn name(&self) -> &'static str {
        "add-norm"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_layout: &Layout,
        residual: &CpuStorage,
        residual_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let width = self.bias.len();
        let x = f32_rows("add-norm", x, x_layout, width)?;
        let residual = f32_rows("add-norm", residual, residual_layout, width)?;
        if x_layout.shape() != residual_layout.shape() {
            candle_core::bail!(
                "add-norm: shapes {:?} and {:?} differ",
                x_layout.dims(),
                residual_layout.dims()
            );
        }
        let mut dst = vec![0f32; x.len()];
        let chunk = width * ROWS_PER_TASK;
        dst.par_chunks_mut(chunk).zip(x.par_chunks(chunk).zip(residual.par_chunks(chunk))).for_each(
            |(out, (x, residual))| {
                for (out, (x, r)) in
                    out.chunks_exact_mut(width).zip(x.chunks_exact(width).zip(residual.chunks_exact(width)))
                {
                    self.row(out, x, r);
                }
            },
        );
        Ok((CpuStorage::F32(dst), x_layout.shape().clone()))
    }
}

/// The contiguous f32 values of a tensor whose last dimension is `width`.
fn f32_rows<'a>(
    op: &str,
    storage: &'a CpuStorage,
    layout: &Layout,
    width: usize,
) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("{op}: expected f32 values");
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{op}: input not contiguous");
    };
    if width == 0 || layout.dims().last() != Some(&width) {
        candle_core::bail!("{op}: last dimension of {:?} is not the parameters' {width}", layout.dims());
    }
    Ok(&data[start..end])
}

/// The exact GELU, `x/2 · (1 + erf(x/√2))`.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// erf in f32 as a rational function of x² (branch-free, so it vectorises): absolute error
/// under 5e-7 everywhere, a few f32 ulps (`tests` check it against f64 erf). Beyond ±3.744, erf is ±1 to
/// within f32's precision, so the argument is clamped there.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    // The numerator is odd (x · P(x²)), the denominator even (Q(x²)); highest degree first.
    const P: [f32; 5] =
        [2.290_506_6e-4, 3.408_291e-3, 5.095_569_5e-2, 1.852_083_2e-1, std::f32::consts::FRAC_2_SQRT_PI];
    const Q: [f32; 7] =
        [-1.179_160_3e-7, 2.354_796_7e-5, 1.017_962_5e-3, 1.407_047e-2, 1.109_850_5e-1, 4.974_692_5e-1, 1.0];
    const LIMIT: f32 = 3.743_921_2;
    let x = x.clamp(-LIMIT, LIMIT);
    let x2 = x * x;
    let p = P.iter().fold(0.0, |acc, &c| acc * x2 + c);
    let q = Q.iter().fold(0.0, |acc, &c| acc * x2 + c);
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_is_within_5e7_of_f64_erf() {
        let mut worst = (0.0f64, 0.0f32);
        for i in -80_000..=80_000 {
            let x = i as f32 / 10_000.0;
            let error = (f64::from(erf(x)) - libm::erf(f64::from(x))).abs();
            if error > worst.0 {
                worst = (error, x);
            }
        }
        assert!(worst.0 < 5e-7, "erf is off by {} at {}", worst.0, worst.1);
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(erf(f32::INFINITY), erf(10.0));
        assert!(erf(f32::NAN).is_nan());
    }

    #[test]
    fn bias_gelu_matches_the_tensor_ops() {
        let device = Device::Cpu;
        let rows = 37; // not a multiple of ROWS_PER_TASK
        let bias: Vec<f32> = (0..24).map(|i| (i as f32 - 12.0) / 7.0).collect();
        let xs: Vec<f32> = (0..rows * bias.len()).map(|i| ((i * 7919) % 1000) as f32 / 125.0 - 4.0).collect();
        let x = Tensor::from_vec(xs, (rows, bias.len()), &device).unwrap();
        let ours = x.apply_op1_no_bwd(&BiasGelu { bias: bias.clone() }).unwrap();
        let b = Tensor::from_vec(bias, 24, &device).unwrap();
        let theirs = x.broadcast_add(&b).unwrap().gelu_erf().unwrap();
        let diff = (ours - theirs).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-6, "bias-gelu differs from candle's gelu_erf by {diff}");
    }

    #[test]
    fn add_norm_matches_the_tensor_ops() {
        let device = Device::Cpu;
        let (rows, width) = (21, 48);
        let values = |seed: usize, n: usize| -> Vec<f32> {
            (0..n).map(|i| (((i + seed) * 7919) % 1013) as f32 / 97.0 - 5.0).collect()
        };
        let op =
            AddNorm { bias: values(1, width), weight: values(2, width), shift: values(3, width), eps: 1e-12 };
        let x = Tensor::from_vec(values(4, rows * width), (rows, width), &device).unwrap();
        let residual = Tensor::from_vec(values(5, rows * width), (rows, width), &device).unwrap();
        let ours = x.apply_op2_no_bwd(&residual, &op).unwrap();
        let tensor = |v: &[f32]| Tensor::from_vec(v.to_vec(), width, &device).unwrap();
        let summed = x.broadcast_add(&tensor(&op.bias)).unwrap().add(&residual).unwrap();
        let theirs =
            candle_nn::ops::layer_norm(&summed, &tensor(&op.weight), &tensor(&op.shift), op.eps).unwrap();
        let diff = (ours - theirs).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-4, "add-norm differs from bias + residual + layer_norm by {diff}");
        let other = Tensor::zeros((rows + 1, width), DType::F32, &device).unwrap();
        let err = x.apply_op2_no_bwd(&other, &op).unwrap_err();
        assert!(err.to_string().contains("differ"), "{err}");
    }

    #[test]
    fn bias_gelu_refuses_a_mismatched_width() {
        let x = Tensor::zeros((4, 8), DType::F32, &Device::Cpu).unwrap();
        let err = x.apply_op1_no_bwd(&BiasGelu { bias: vec![0.0; 7] }).unwrap_err();
        assert!(err.to_string().contains("not the parameters' 7"), "{err}");
    }

    #[test]
    fn config_refuses_other_architectures() {
        let base = serde_json::json!({
            "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
            "intermediate_size": 16, "hidden_act": "gelu", "max_position_embeddings": 4,
            "type_vocab_size": 2, "layer_norm_eps": 1e-12
        });
        assert!(Config::parse(base.to_string().as_bytes()).is_ok());
        for (key, value) in [
            ("hidden_act", serde_json::json!("relu")),
            ("position_embedding_type", serde_json::json!("relative_key")),
            ("num_attention_heads", serde_json::json!(3)),
        ] {
            let mut config = base.clone();
            config[key] = value;
            let err = Config::parse(config.to_string().as_bytes()).unwrap_err();
            assert!(matches!(err, ModelError::Architecture(_)), "{key}: {err}");
        }
        assert!(matches!(Config::parse(b"{}"), Err(ModelError::Config(_))));
    }
}
