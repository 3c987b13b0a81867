//! What can go wrong with the reference model and an audit request.

use std::path::PathBuf;

/// The command that installs the reference model; every "model missing" error names it.
pub const FETCH_COMMAND: &str = "taoscope model fetch";

/// Errors of the reference model: finding, checking, loading and running it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A model file is absent.
    #[error("the reference model is not installed: {} is missing (run `{FETCH_COMMAND}`, or point --model-dir / TAOSCOPE_MODEL_DIR at a directory holding it)", path.display())]
    Missing {
        /// The missing file.
        path: PathBuf,
    },
    /// A model file is not the pinned one.
    #[error("the reference model file {} is corrupt or not the pinned version (SHA-256 {found}, expected {expected}); run `{FETCH_COMMAND}` again", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The pinned digest.
        expected: &'static str,
        /// The file's digest.
        found: String,
    },
    /// Reading a model file failed.
    #[error("reading {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `config.json` is not a BERT configuration.
    #[error("the model's config.json does not parse")]
    Config(#[source] serde_json::Error),
    /// The pinned weights file did not read as safetensors f32 tensors.
    #[error("the model's weights do not load: {0}")]
    Weights(String),
    /// `config.json` describes a model the encoder does not compute.
    #[error("the model's config.json describes an unsupported architecture: {0}")]
    Architecture(String),
    /// The tokenizer could not be loaded or configured, or failed on a text.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A tensor operation failed.
    #[error("model computation")]
    Tensor(#[from] candle_core::Error),
    /// Installing the model failed.
    #[error("fetching the model: {0}")]
    Fetch(String),
}

/// Why one audit item was not scored (the rest of its batch is).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ItemError {
    /// The embedding has the wrong length.
    #[error("the embedding has {found} dimensions, expected {expected}")]
    Dimensions {
        /// The reference model's dimensions.
        expected: usize,
        /// The item's.
        found: usize,
    },
    /// A component is NaN or infinite.
    #[error("embedding component {index} is not a finite number")]
    NotFinite {
        /// Its position.
        index: usize,
    },
    /// Every component is zero: no direction to compare.
    #[error("the embedding is all zeros")]
    Zero,
    /// The text is longer than accepted.
    #[error("the text is {bytes} bytes, more than the {max} accepted")]
    TextTooLong {
        /// Its length in UTF-8 bytes.
        bytes: usize,
        /// The limit.
        max: usize,
    },
}

impl ItemError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ItemError::Dimensions { .. } => "WRONG_DIMENSIONS",
            ItemError::NotFinite { .. } => "NOT_FINITE",
            ItemError::Zero => "ZERO_VECTOR",
            ItemError::TextTooLong { .. } => "TEXT_TOO_LONG",
        }
    }
}

/// Why a whole audit request was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchError {
    /// No items.
    #[error("the batch has no items")]
    Empty,
    /// More items than accepted.
    #[error("the batch has {count} items, more than the {max} accepted")]
    TooMany {
        /// Items sent.
        count: usize,
        /// The cap.
        max: usize,
    },
    /// The pass threshold is not a cosine similarity.
    #[error("the threshold must be a number from -1 to 1, got {0}")]
    Threshold(f64),
}
