//! Block headers in Substrate's encoding (blake2-256 hashed) and JSON form.

use parity_scale_codec::{Compact, Encode};
use serde_json::{Value, json};

pub use crate::runtime::types::{Digest, DigestItem, Header};
use sp_crypto_hashing::blake2_256;

/// `0x`-prefixed lowercase hex.
pub fn hex0x(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    push_hex0x(&mut s, bytes);
    s
}

/// Appends `0x`-prefixed lowercase hex of `bytes` to `out`.
pub fn push_hex0x(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(2 + 2 * bytes.len());
    out.push_str("0x");
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
}

impl Header {
    /// The block hash: blake2-256 of the SCALE-encoded header.
    pub fn hash(&self) -> [u8; 32] {
        blake2_256(&self.encode())
    }

    /// The header as `chain_getHeader` returns it.
    pub fn to_json(&self) -> Value {
        json!({
            "parentHash": hex0x(&self.parent_hash.0),
            "number": format!("0x{:x}", self.number),
            "stateRoot": hex0x(&self.state_root.0),
            "extrinsicsRoot": hex0x(&self.extrinsics_root.0),
            "digest": { "logs": self.digest.logs.iter().map(|d| hex0x(&d.encode())).collect::<Vec<_>>() },
        })
    }
}

/// The extrinsics root the devnet uses: blake2-256 over the concatenated extrinsic hashes
/// (a stand-in for the trie root; clients never recompute it).
pub fn extrinsics_root(extrinsics: &[Vec<u8>]) -> [u8; 32] {
    let mut all = Vec::with_capacity(extrinsics.len() * 32);
    for x in extrinsics {
        all.extend_from_slice(&blake2_256(x));
    }
    blake2_256(&all)
}

/// Aura's pre-runtime digest for `slot`.
pub fn aura_pre_runtime(slot: u64) -> DigestItem {
    DigestItem::PreRuntime(*b"aura", slot.encode())
}

/// Compact length prefix used in front of every encoded extrinsic.
pub fn with_length_prefix(body: Vec<u8>) -> Vec<u8> {
    let mut out = Compact(body.len() as u32).encode();
    out.extend(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::types::H256;
    use parity_scale_codec::Decode;

    #[test]
    fn header_encoding_round_trips_and_hash_is_blake2_of_encoding() {
        let h = Header {
            parent_hash: H256([1; 32]),
            number: 300,
            state_root: H256([2; 32]),
            extrinsics_root: H256([3; 32]),
            digest: Digest { logs: vec![aura_pre_runtime(7), DigestItem::Seal(*b"aura", vec![9; 64])] },
        };
        let bytes = h.encode();
        assert_eq!(Header::decode(&mut &bytes[..]).unwrap(), h);
        assert_eq!(h.hash(), blake2_256(&bytes));
        // number is compact: 300 → 2 bytes after the 32-byte parent hash
        assert_eq!(&bytes[32..34], &Compact(300u32).encode()[..]);
        assert_eq!(h.to_json()["number"], "0x12c");
    }
}
