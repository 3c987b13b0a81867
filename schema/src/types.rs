//! Newtypes for chain identifiers and amounts, so a subnet id is never passed where a uid is meant.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A block height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BlockNumber(pub u64);

/// A subnet id (`NetUid` on chain). Netuid 0 is the root network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NetUid(pub u16);

/// A neuron's position within one subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Uid(pub u16);

/// A runtime's `spec_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SpecVersion(pub u32);

/// An amount of TAO in rao (1 TAO = 10^9 rao).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rao(pub u64);

/// An amount of a subnet's alpha token in its smallest unit (9 decimals, like TAO).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AlphaRao(pub u64);

/// Rao per TAO (`tokenDecimals` = 9).
pub const RAO_PER_TAO: u64 = 1_000_000_000;

impl Rao {
    /// The amount in TAO, as a float for display and analytics (exact up to 2^53 rao).
    pub fn as_tao(self) -> f64 {
        self.0 as f64 / RAO_PER_TAO as f64
    }
}

impl AlphaRao {
    /// The amount in whole alpha, as a float.
    pub fn as_alpha(self) -> f64 {
        self.0 as f64 / RAO_PER_TAO as f64
    }
}

/// A 32-byte block hash (blake2-256 of the SCALE-encoded header).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlockHash(pub [u8; 32]);

impl BlockHash {
    /// Parses `0x`-prefixed (or bare) hex.
    pub fn from_hex(s: &str) -> Result<Self, hex::FromHexError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim_start_matches("0x"), &mut out)?;
        Ok(Self(out))
    }
}

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}
display_inner!(BlockNumber, NetUid, Uid, SpecVersion, Rao, AlphaRao);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_hash_hex_round_trip() {
        let s = "0x2f0555cc76fc2840a25a6ea3b9637146806f1f44b090c175ffde2a7e5ab36c03";
        let h = BlockHash::from_hex(s).unwrap();
        assert_eq!(h.to_string(), s);
        assert!(BlockHash::from_hex("0x1234").is_err());
    }

    #[test]
    fn rao_to_tao() {
        assert_eq!(Rao(1_500_000_000).as_tao(), 1.5);
        assert_eq!(AlphaRao(RAO_PER_TAO).as_alpha(), 1.0);
    }
}
