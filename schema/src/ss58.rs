//! SS58 account addresses (Bittensor uses the generic Substrate prefix 42).
//!
//! Format: base58(prefix ++ account ++ checksum[..2]), checksum = blake2b-512("SS58PRE" ++ prefix
//! ++ account). Prefixes below 64 take one byte.

use std::fmt;
use std::str::FromStr;

use blake2::{Blake2b512, Digest};

/// The address prefix of Bittensor (finney and local chains).
pub const SS58_PREFIX: u8 = 42;

/// A 32-byte account id (sr25519/ed25519 public key), shown as SS58.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(pub [u8; 32]);

/// Why a string is not a valid SS58 address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Ss58Error {
    /// Not base58.
    #[error("not base58: {0}")]
    Base58(String),
    /// Wrong decoded length for a one-byte-prefix 32-byte account.
    #[error("expected 35 decoded bytes, got {0}")]
    Length(usize),
    /// The two checksum bytes do not match.
    #[error("bad checksum")]
    Checksum,
    /// A valid address for another network.
    #[error("address prefix {0}, expected {SS58_PREFIX}")]
    Prefix(u8),
}

fn checksum(body: &[u8]) -> [u8; 2] {
    let mut h = Blake2b512::new();
    h.update(b"SS58PRE");
    h.update(body);
    let out = h.finalize();
    [out[0], out[1]]
}

/// Accounts whose SS58 form each thread remembers.
pub const SS58_CACHE: usize = 1 << 16;

impl AccountId {
    /// The SS58 address with prefix 42. Encodings are remembered per thread (the same hot- and
    /// coldkeys recur in every block; base58 costs quadratic time in the length), up to
    /// [`SS58_CACHE`] accounts before the memory starts over.
    pub fn to_ss58(&self) -> String {
        thread_local! {
            static CACHE: std::cell::RefCell<std::collections::HashMap<[u8; 32], String>> =
                std::cell::RefCell::new(std::collections::HashMap::new());
        }
        CACHE.with_borrow_mut(|cache| {
            if let Some(s) = cache.get(&self.0) {
                return s.clone();
            }
            if cache.len() >= SS58_CACHE {
                cache.clear();
            }
            let s = self.encode_ss58();
            cache.insert(self.0, s.clone());
            s
        })
    }

    fn encode_ss58(&self) -> String {
        let mut body = Vec::with_capacity(35);
        body.push(SS58_PREFIX);
        body.extend_from_slice(&self.0);
        let sum = checksum(&body);
        body.extend_from_slice(&sum);
        bs58::encode(body).into_string()
    }

    /// Parses an SS58 address with prefix 42.
    pub fn from_ss58(s: &str) -> Result<Self, Ss58Error> {
        let bytes = bs58::decode(s).into_vec().map_err(|e| Ss58Error::Base58(e.to_string()))?;
        if bytes.len() != 35 {
            return Err(Ss58Error::Length(bytes.len()));
        }
        if checksum(&bytes[..33]) != bytes[33..35] {
            return Err(Ss58Error::Checksum);
        }
        if bytes[0] != SS58_PREFIX {
            return Err(Ss58Error::Prefix(bytes[0]));
        }
        let mut id = [0u8; 32];
        id.copy_from_slice(&bytes[1..33]);
        Ok(Self(id))
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_ss58())
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.to_ss58())
    }
}

impl FromStr for AccountId {
    type Err = Ss58Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_ss58(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Alice's well-known dev key: sr25519 public key and its generic-substrate address.
    const ALICE_HEX: &str = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
    const ALICE_SS58: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

    #[test]
    fn alice_round_trip() {
        let mut id = [0u8; 32];
        hex::decode_to_slice(ALICE_HEX, &mut id).unwrap();
        let acc = AccountId(id);
        assert_eq!(acc.to_ss58(), ALICE_SS58);
        assert_eq!(AccountId::from_ss58(ALICE_SS58).unwrap(), acc);
    }

    #[test]
    fn rejects_corrupted_addresses() {
        let mut bad = ALICE_SS58.to_string();
        bad.replace_range(10..11, "z");
        assert!(AccountId::from_ss58(&bad).is_err());
        assert!(matches!(AccountId::from_ss58("0OIl"), Err(Ss58Error::Base58(_))));
        assert_eq!(AccountId::from_ss58("5Grwva"), Err(Ss58Error::Length(4)));
    }

    #[test]
    fn rejects_other_network_prefix() {
        // Polkadot (prefix 0) address of the same key.
        let polkadot = "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5";
        assert_eq!(AccountId::from_ss58(polkadot), Err(Ss58Error::Prefix(0)));
    }
}
