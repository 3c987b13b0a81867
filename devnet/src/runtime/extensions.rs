//! The transaction extensions ("signed extensions") of each runtime, in finney's order, and the
//! bytes a signed extrinsic carries for them.

use parity_scale_codec::{Compact, Encode};
use scale_info::{TypeInfo, meta_type};

use super::Spec;
use std::marker::PhantomData;

use super::types::{Era, H256, MetadataHashMode, Runtime};

/// `frame_system::CheckNonZeroSender`.
#[derive(TypeInfo)]
pub struct CheckNonZeroSender;
/// `frame_system::CheckSpecVersion`.
#[derive(TypeInfo)]
pub struct CheckSpecVersion;
/// `frame_system::CheckTxVersion`.
#[derive(TypeInfo)]
pub struct CheckTxVersion;
/// `frame_system::CheckGenesis`.
#[derive(TypeInfo)]
pub struct CheckGenesis;
/// `frame_system::CheckMortality`.
#[derive(TypeInfo)]
pub struct CheckMortality(pub Era);
/// `node_subtensor_runtime::check_nonce::CheckNonce`.
#[derive(TypeInfo)]
pub struct CheckNonce(#[codec(compact)] pub u32);
/// `frame_system::CheckWeight`.
#[derive(TypeInfo)]
pub struct CheckWeight;
/// `pallet_transaction_payment::ChargeTransactionPayment` (the tip).
#[derive(TypeInfo)]
pub struct ChargeTransactionPayment(#[codec(compact)] pub u64);
/// `pallet_subtensor::SubtensorSignedExtension` (spec 233).
#[derive(TypeInfo)]
pub struct SubtensorSignedExtension<T: TypeInfo + 'static>(PhantomData<T>);
/// `pallet_commitments::CommitmentsSignedExtension` (spec 233).
#[derive(TypeInfo)]
pub struct CommitmentsSignedExtension<T: TypeInfo + 'static>(PhantomData<T>);
/// `pallet_subtensor::transaction_extension::SubtensorTransactionExtension` (spec 343).
#[derive(TypeInfo)]
pub struct SubtensorTransactionExtension<T: TypeInfo + 'static>(PhantomData<T>);
/// `pallet_drand::drand_priority::DrandPriority` (spec 343).
#[derive(TypeInfo)]
pub struct DrandPriority<T: TypeInfo + 'static>(PhantomData<T>);
/// `frame_metadata_hash_extension::CheckMetadataHash`.
#[derive(TypeInfo)]
pub struct CheckMetadataHash {
    /// Whether the metadata hash is checked.
    pub mode: MetadataHashMode,
}

/// The tuple of extension types spec 233 appends to a signed extrinsic.
pub type Extra233 = (
    CheckNonZeroSender,
    CheckSpecVersion,
    CheckTxVersion,
    CheckGenesis,
    CheckMortality,
    CheckNonce,
    CheckWeight,
    ChargeTransactionPayment,
    SubtensorSignedExtension<Runtime>,
    CommitmentsSignedExtension<Runtime>,
    CheckMetadataHash,
);

/// The tuple of extension types spec 343 appends to a signed extrinsic.
pub type Extra343 = (
    CheckNonZeroSender,
    CheckSpecVersion,
    CheckTxVersion,
    CheckGenesis,
    CheckMortality,
    CheckNonce,
    CheckWeight,
    ChargeTransactionPayment,
    SubtensorTransactionExtension<Runtime>,
    DrandPriority<Runtime>,
    CheckMetadataHash,
);

/// One extension as listed in metadata: identifier, encoded type and implicit type.
pub struct ExtensionInfo {
    /// The identifier clients match on.
    pub identifier: &'static str,
    /// Type of the bytes carried in the extrinsic.
    pub ty: scale_info::MetaType,
    /// Type of the data signed but not carried.
    pub implicit: scale_info::MetaType,
}

fn ext<T: TypeInfo + 'static, I: TypeInfo + 'static>(identifier: &'static str) -> ExtensionInfo {
    ExtensionInfo { identifier, ty: meta_type::<T>(), implicit: meta_type::<I>() }
}

/// The runtime's extensions in order.
pub fn extensions(spec: Spec) -> Vec<ExtensionInfo> {
    let mut list = vec![
        ext::<CheckNonZeroSender, ()>("CheckNonZeroSender"),
        ext::<CheckSpecVersion, u32>("CheckSpecVersion"),
        ext::<CheckTxVersion, u32>("CheckTxVersion"),
        ext::<CheckGenesis, H256>("CheckGenesis"),
        ext::<CheckMortality, H256>("CheckMortality"),
        ext::<CheckNonce, ()>("CheckNonce"),
        ext::<CheckWeight, ()>("CheckWeight"),
        ext::<ChargeTransactionPayment, ()>("ChargeTransactionPayment"),
    ];
    match spec {
        Spec::Dtao233 => list.extend([
            ext::<SubtensorSignedExtension<Runtime>, ()>("SubtensorSignedExtension"),
            ext::<CommitmentsSignedExtension<Runtime>, ()>("CommitmentsSignedExtension"),
        ]),
        Spec::Swap343 => list.extend([
            ext::<SubtensorTransactionExtension<Runtime>, ()>("SubtensorTransactionExtension"),
            ext::<DrandPriority<Runtime>, ()>("DrandPriority"),
        ]),
    }
    list.push(ext::<CheckMetadataHash, Option<[u8; 32]>>("CheckMetadataHash"));
    list
}

/// The extension bytes of a signed extrinsic: mortality, nonce, tip and metadata-hash mode
/// (the other extensions carry no bytes). The layout is the same in both runtimes.
pub fn encode_extra(mortal_at: Option<u64>, nonce: u32, tip: u64) -> Vec<u8> {
    let mut out = match mortal_at {
        Some(block) => mortal_era(block, 64).to_vec(),
        None => vec![0],
    };
    Compact(nonce).encode_to(&mut out);
    Compact(tip).encode_to(&mut out);
    out.push(MetadataHashMode::Disabled as u8);
    out
}

/// A mortal era of `period` blocks (a power of two ≥ 4) starting at `block`, as
/// `sp_runtime::generic::Era::mortal` encodes it.
fn mortal_era(block: u64, period: u64) -> [u8; 2] {
    let phase = block % period;
    let quantize_factor = (period >> 12).max(1);
    let quantized_phase = phase / quantize_factor * quantize_factor;
    let encoded =
        (period.trailing_zeros() - 1).clamp(1, 15) as u16 | ((quantized_phase / quantize_factor) << 4) as u16;
    encoded.to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immortal_extra_is_five_bytes_for_small_values() {
        // era 0x00, nonce compact(0), tip compact(0), mode 0
        assert_eq!(encode_extra(None, 0, 0), vec![0, 0, 0, 0]);
        assert_eq!(encode_extra(None, 1, 0), vec![0, 4, 0, 0]);
    }

    #[test]
    fn mortal_era_matches_substrate_encoding() {
        // Era::mortal(64, 42) encodes as 0xa5 0x02 in Substrate.
        assert_eq!(mortal_era(42, 64), [0xa5, 0x02]);
    }
}
