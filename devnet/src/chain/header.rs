//! Block headers in Substrate's encoding (blake2-256 hashed) and JSON form.

use parity_scale_codec::{Compact, Decode, Encode};
use serde_json::{Value, json};
use sp_crypto_hashing::blake2_256;

/// `sp_runtime::generic::DigestItem` (the variants the devnet writes).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum DigestItem {
    /// Arbitrary data.
    #[codec(index = 0)]
    Other(Vec<u8>),
    /// A message from consensus to the runtime (Aura's slot).
    #[codec(index = 6)]
    PreRuntime([u8; 4], Vec<u8>),
    /// A seal (the author's signature).
    #[codec(index = 5)]
    Seal([u8; 4], Vec<u8>),
    /// The runtime changed (`:code` was set).
    #[codec(index = 8)]
    RuntimeEnvironmentUpdated,
}

/// `sp_runtime::generic::Header<u32, BlakeTwo256>`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Header {
    /// Hash of the parent header.
    pub parent_hash: [u8; 32],
    /// Block number.
    #[codec(compact)]
    pub number: u32,
    /// Root of the post-state.
    pub state_root: [u8; 32],
    /// Root of the extrinsics.
    pub extrinsics_root: [u8; 32],
    /// Digest logs.
    pub digest: Vec<DigestItem>,
}

/// `0x`-prefixed lowercase hex.
pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

impl Header {
    /// The block hash: blake2-256 of the SCALE-encoded header.
    pub fn hash(&self) -> [u8; 32] {
        blake2_256(&self.encode())
    }

    /// The header as `chain_getHeader` returns it.
    pub fn to_json(&self) -> Value {
        json!({
            "parentHash": hex0x(&self.parent_hash),
            "number": format!("0x{:x}", self.number),
            "stateRoot": hex0x(&self.state_root),
            "extrinsicsRoot": hex0x(&self.extrinsics_root),
            "digest": { "logs": self.digest.iter().map(|d| hex0x(&d.encode())).collect::<Vec<_>>() },
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

    #[test]
    fn header_encoding_round_trips_and_hash_is_blake2_of_encoding() {
        let h = Header {
            parent_hash: [1; 32],
            number: 300,
            state_root: [2; 32],
            extrinsics_root: [3; 32],
            digest: vec![aura_pre_runtime(7), DigestItem::Seal(*b"aura", vec![9; 64])],
        };
        let bytes = h.encode();
        assert_eq!(Header::decode(&mut &bytes[..]).unwrap(), h);
        assert_eq!(h.hash(), blake2_256(&bytes));
        // number is compact: 300 → 2 bytes after the 32-byte parent hash
        assert_eq!(&bytes[32..34], &Compact(300u32).encode()[..]);
        assert_eq!(h.to_json()["number"], "0x12c");
    }
}
