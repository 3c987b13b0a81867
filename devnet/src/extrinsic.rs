//! Extrinsics in the real format: unsigned inherents (`0x04`) and v4 signed transactions
//! (`0x84`, `MultiAddress::Id`, `MultiSignature::Sr25519`, extension bytes, call). Signatures are
//! deterministic stand-ins and are not meant to verify.

use parity_scale_codec::Encode;
use sp_crypto_hashing::blake2_256;

use crate::chain::header::with_length_prefix;
use crate::runtime::calls::RuntimeCall;
use crate::runtime::extensions::encode_extra;
use crate::runtime::types::{AccountId32, Address, MultiSignature};

/// An inherent (unsigned) extrinsic carrying `call`.
pub fn unsigned(call: &RuntimeCall) -> Vec<u8> {
    let mut body = vec![0x04];
    call.encode_to(&mut body);
    with_length_prefix(body)
}

/// A signed transaction from `signer` with `nonce`, mortal from block `era_from`.
pub fn signed(signer: AccountId32, nonce: u32, tip: u64, era_from: u64, call: &RuntimeCall) -> Vec<u8> {
    let call_bytes = call.encode();
    let extra = encode_extra(Some(era_from), nonce, tip);
    let mut payload = call_bytes.clone();
    payload.extend_from_slice(&extra);
    payload.extend_from_slice(&signer.0);
    let half = blake2_256(&payload);
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&half);
    sig[32..].copy_from_slice(&blake2_256(&half));

    let mut body = vec![0x84];
    Address::Id(signer).encode_to(&mut body);
    MultiSignature::Sr25519(sig).encode_to(&mut body);
    body.extend_from_slice(&extra);
    body.extend_from_slice(&call_bytes);
    with_length_prefix(body)
}

/// The extrinsic hash clients compute: blake2-256 of the length-prefixed bytes.
pub fn hash(extrinsic: &[u8]) -> [u8; 32] {
    blake2_256(extrinsic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::calls::TimestampCall;

    #[test]
    fn timestamp_inherent_has_the_known_layout() {
        let x = unsigned(&RuntimeCall::Timestamp(TimestampCall::set { now: 1 }));
        // len 4, version 0x04, pallet 2, call 0, compact(1)
        assert_eq!(x, vec![16, 0x04, 2, 0, 4]);
    }

    #[test]
    fn signed_extrinsic_has_the_v4_signed_layout() {
        let call = RuntimeCall::Timestamp(TimestampCall::set { now: 1 });
        let x = signed(AccountId32([7; 32]), 3, 0, 100, &call);
        let body = &x[2..]; // two-byte compact length
        assert_eq!(body[0], 0x84);
        assert_eq!(body[1], 0x00); // MultiAddress::Id
        assert_eq!(&body[2..34], &[7; 32]);
        assert_eq!(body[34], 0x01); // MultiSignature::Sr25519
        // era mortal(64) from block 100 = phase 36: (36 << 4) | 5 = 0x0245; nonce 3; tip 0; mode; call
        assert_eq!(&body[99..], &[0x45, 0x02, 12, 0, 0, 2, 0, 4][..]);
    }
}
