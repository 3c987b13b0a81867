//! The JSON shapes of the data-heavy answers (block bodies, events, runtime calls, storage
//! change sets), with `0x` hex decoded by `faster-hex` (SIMD): these answers carry most of the
//! bytes an indexer reads, and decoding them was a measurable share of its time.

use serde::{Deserialize, Deserializer};
use subxt::SubstrateConfig;

/// Bytes written as a `0x` hex string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hex(pub Vec<u8>);

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Hex;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a 0x-prefixed hex string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Hex, E> {
                let digits = s.strip_prefix("0x").ok_or_else(|| E::custom("hex without 0x"))?;
                if digits.len() % 2 != 0 {
                    return Err(E::custom("odd number of hex digits"));
                }
                let mut bytes = vec![0u8; digits.len() / 2];
                faster_hex::hex_decode(digits.as_bytes(), &mut bytes).map_err(E::custom)?;
                Ok(Hex(bytes))
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// `chain_getBlock`.
#[derive(Deserialize)]
pub struct SignedBlock {
    /// The block.
    pub block: Block,
}

/// A block: header and opaque extrinsics.
#[derive(Deserialize)]
pub struct Block {
    /// Header (subxt's type: number, hashes, digest).
    pub header: <SubstrateConfig as subxt::Config>::Header,
    /// Encoded extrinsics.
    pub extrinsics: Vec<Hex>,
}

/// One entry of `state_queryStorageAt`.
#[derive(Deserialize)]
pub struct StorageChangeSet {
    /// Key and value (`None`: absent).
    pub changes: Vec<(Hex, Option<Hex>)>,
}

/// `0x` hex of `bytes`, for request parameters.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = vec![b'0'; 2 + bytes.len() * 2];
    out[1] = b'x';
    faster_hex::hex_encode(bytes, &mut out[2..]).expect("the buffer is twice the input");
    String::from_utf8(out).expect("hex is ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_needs_its_prefix_and_even_digits() {
        let ok: Hex = serde_json::from_str("\"0x00ff10\"").unwrap();
        assert_eq!(ok.0, vec![0, 255, 16]);
        assert_eq!(serde_json::from_str::<Hex>("\"0x\"").unwrap().0, Vec::<u8>::new());
        assert_eq!(to_hex(&[0, 255, 16]), "0x00ff10");
        assert_eq!(to_hex(&[]), "0x");
        for bad in ["\"00ff\"", "\"0x0\"", "\"0xzz\"", "12"] {
            assert!(serde_json::from_str::<Hex>(bad).is_err(), "{bad}");
        }
    }
}
