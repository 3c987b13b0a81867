//! Reading the pinned weights file (`model.safetensors`) straight into tensors: each tensor's
//! bytes are read from the file into its own buffer once, hashed on the way, and the digest
//! is checked before any tensor is handed out. Loading through a whole-file buffer would
//! touch twice the memory (the file, then every tensor copied out of it), which on a fresh
//! process costs more than the reading itself.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use candle_core::{Device, Tensor};
use safetensors::Dtype;
use safetensors::tensor::Metadata;
use sha2::{Digest, Sha256};

use crate::error::ModelError;
use crate::files::{self, ModelFile, hex};

/// Longest header accepted (the pinned file's is under 20 KB).
const MAX_HEADER: u64 = 1 << 24;

/// The f32 tensors of `file` in `dir`, by name, after checking the file's SHA-256. Tensors of
/// other types (the pinned file's `position_ids`) are hashed and skipped.
pub fn read_weights(dir: &Path, file: &ModelFile) -> Result<HashMap<String, Tensor>, ModelError> {
    let path = dir.join(file.name);
    let mut f = files::open(&path)?;
    let mut hasher = Sha256::new();
    match read_tensors(&mut f, &mut hasher) {
        Ok(tensors) => {
            // Bytes after the last tensor count towards the digest too.
            std::io::copy(&mut f, &mut hasher).map_err(|source| files::io_error(&path, source))?;
            files::expect_digest(&path, file, hex(&hasher.finalize()))?;
            Ok(tensors)
        }
        // Not the pinned file, most likely: say so with its digest, hashed afresh.
        Err(why) => {
            files::expect_digest(&path, file, files::digest_file(&path)?)?;
            Err(match why {
                Structure::Io(source) => files::io_error(&path, source),
                Structure::Format(why) => ModelError::Weights(why),
            })
        }
    }
}

/// Why the file could not be read as tensors.
enum Structure {
    Io(std::io::Error),
    Format(String),
}

impl From<std::io::Error> for Structure {
    fn from(e: std::io::Error) -> Self {
        Structure::Io(e)
    }
}

impl From<candle_core::Error> for Structure {
    fn from(e: candle_core::Error) -> Self {
        Structure::Format(e.to_string())
    }
}

/// Reads the header and every tensor in file order, feeding `hasher` every byte read.
fn read_tensors(f: &mut File, hasher: &mut Sha256) -> Result<HashMap<String, Tensor>, Structure> {
    let size = f.metadata()?.len();
    let mut length = [0u8; 8];
    f.read_exact(&mut length)?;
    hasher.update(length);
    let length = u64::from_le_bytes(length);
    if length > MAX_HEADER {
        return Err(Structure::Format(format!("a header of {length} bytes")));
    }
    let mut header = vec![0u8; length as usize];
    f.read_exact(&mut header)?;
    hasher.update(&header);
    let metadata: Metadata =
        serde_json::from_slice(&header).map_err(|e| Structure::Format(format!("header: {e}")))?;
    // The sizes the header declares must be the file's before anything is allocated for them.
    let declared = 8 + length + metadata.data_len() as u64;
    if declared != size {
        return Err(Structure::Format(format!("the header describes {declared} bytes, the file has {size}")));
    }
    let mut tensors = HashMap::new();
    let mut skipped = Vec::new();
    // In file order: the metadata has checked the offsets are contiguous from 0.
    for name in metadata.offset_keys() {
        let info = metadata.info(&name).expect("a name the metadata listed");
        let (start, end) = info.data_offsets;
        if info.dtype != Dtype::F32 {
            skipped.resize(end - start, 0);
            f.read_exact(&mut skipped)?;
            hasher.update(&skipped);
            continue;
        }
        let mut values = vec![0f32; (end - start) / 4];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut values);
        f.read_exact(bytes)?;
        hasher.update(&*bytes);
        // safetensors is little-endian (a no-op on little-endian machines).
        for v in &mut values {
            *v = f32::from_bits(u32::from_le(v.to_bits()));
        }
        tensors.insert(name, Tensor::from_vec(values, info.shape.as_slice(), &Device::Cpu)?);
    }
    Ok(tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small safetensors file: two f32 tensors and an i64 one.
    fn sample() -> Vec<u8> {
        let header = br#"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"ids":{"dtype":"I64","shape":[1],"data_offsets":[16,24]},"b":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        for v in [1.0f32, 2.0, 3.0, 4.0] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(&7i64.to_le_bytes());
        for v in [-0.5f32, 0.25, 1e-8] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes
    }

    fn pinned(bytes: &[u8]) -> ModelFile {
        let digest: &'static str = Box::leak(hex(&Sha256::digest(bytes)).into_boxed_str());
        ModelFile { name: "model.safetensors", size: bytes.len() as u64, sha256: digest }
    }

    #[test]
    fn tensors_are_read_in_place_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = sample();
        std::fs::write(dir.path().join("model.safetensors"), &bytes).unwrap();
        let tensors = read_weights(dir.path(), &pinned(&bytes)).unwrap();
        assert_eq!(tensors.len(), 2, "the i64 tensor is skipped");
        assert_eq!(tensors["a"].to_vec2::<f32>().unwrap(), vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        assert_eq!(tensors["b"].to_vec1::<f32>().unwrap(), vec![-0.5, 0.25, 1e-8]);
    }

    #[test]
    fn a_changed_file_is_corrupt_whatever_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = sample();
        let file = pinned(&bytes);
        let path = dir.path().join("model.safetensors");
        // One value changed, the header intact.
        let mut changed = bytes.clone();
        *changed.last_mut().unwrap() ^= 1;
        // Cut short; a garbage header; extra bytes after the data.
        let cut = bytes[..bytes.len() - 5].to_vec();
        let mut garbage = bytes.clone();
        garbage[10] = b'!';
        let mut longer = bytes.clone();
        longer.push(0);
        for (what, content) in [("changed", changed), ("cut", cut), ("garbage", garbage), ("longer", longer)]
        {
            std::fs::write(&path, &content).unwrap();
            let err = read_weights(dir.path(), &file).unwrap_err();
            assert!(matches!(err, ModelError::Corrupt { .. }), "{what}: {err}");
            assert!(err.to_string().contains("taoscope model fetch"), "{what}: {err}");
        }
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(read_weights(dir.path(), &file), Err(ModelError::Missing { .. })));
    }

    #[test]
    fn a_pinned_file_that_does_not_parse_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = b"\x04\0\0\0\0\0\0\0nope".to_vec();
        std::fs::write(dir.path().join("model.safetensors"), &bytes).unwrap();
        let err = read_weights(dir.path(), &pinned(&bytes)).unwrap_err();
        assert!(matches!(err, ModelError::Weights(_)), "{err}");
    }
}
