//! Finney's type paths for the devnet's types. Clients name and special-case types by path
//! (py-substrate-interface decodes headers through `sp_runtime::generic::digest::DigestItem`,
//! polkadot.js derives `SpRuntimeDispatchError` from `sp_runtime::DispatchError`), so the
//! generated metadata carries the real paths, not this crate's module paths.

use scale_info::PortableRegistry;

use super::Spec;

/// Our path (after `taoscope_devnet::runtime::`) → finney's path.
const PATHS: &[(&str, &str)] = &[
    ("types::AccountId32", "sp_core::crypto::AccountId32"),
    ("types::H256", "primitive_types::H256"),
    ("types::FixedI128", "substrate_fixed::FixedI128"),
    ("types::FixedU128", "substrate_fixed::FixedU128"),
    ("types::TickIndex", "pallet_subtensor_swap::tick::TickIndex"),
    ("types::DigestItem", "sp_runtime::generic::digest::DigestItem"),
    ("types::Digest", "sp_runtime::generic::digest::Digest"),
    ("types::Header", "sp_runtime::generic::header::Header"),
    ("types::Block", "sp_runtime::generic::block::Block"),
    ("types::Phase", "frame_system::Phase"),
    ("types::Weight", "sp_weights::weight_v2::Weight"),
    ("types::DispatchClass", "frame_support::dispatch::DispatchClass"),
    ("types::Pays", "frame_support::dispatch::Pays"),
    ("types::ModuleError", "sp_runtime::ModuleError"),
    ("types::TokenError", "sp_runtime::TokenError"),
    ("types::ArithmeticError", "sp_arithmetic::ArithmeticError"),
    ("types::TransactionalError", "sp_runtime::TransactionalError"),
    ("types::TrieError", "sp_runtime::proving_trie::TrieError"),
    ("types::DispatchError233", "sp_runtime::DispatchError"),
    ("types::DispatchError343", "sp_runtime::DispatchError"),
    ("types::AccountData", "pallet_balances::types::AccountData"),
    ("types::ExtraFlags", "pallet_balances::types::ExtraFlags"),
    ("types::AccountInfo", "frame_system::AccountInfo"),
    ("types::LastRuntimeUpgradeInfo233", "frame_system::LastRuntimeUpgradeInfo"),
    ("types::LastRuntimeUpgradeInfo343", "frame_system::LastRuntimeUpgradeInfo"),
    ("types::Cow", "Cow"),
    ("types::MultiAddress", "sp_runtime::multiaddress::MultiAddress"),
    ("types::MultiSignature", "sp_runtime::MultiSignature"),
    ("types::MetadataHashMode", "frame_metadata_hash_extension::Mode"),
    ("types::UncheckedExtrinsic", "sp_runtime::generic::unchecked_extrinsic::UncheckedExtrinsic"),
    ("types::Runtime", "node_subtensor_runtime::Runtime"),
    ("RuntimeVersion", "sp_version::RuntimeVersion"),
    ("RuntimeVersion233", "sp_version::RuntimeVersion"),
    ("RuntimeVersion343", "sp_version::RuntimeVersion"),
    ("apis::DynamicInfo", "pallet_subtensor::rpc_info::dynamic_info::DynamicInfo"),
    ("apis::SubnetIdentityV2", "pallet_subtensor::pallet::SubnetIdentityV2"),
    ("apis::SubnetIdentityV3", "pallet_subtensor::pallet::SubnetIdentityV3"),
    ("events::EventRecord", "frame_system::EventRecord"),
    ("events::SystemEvent", "frame_system::pallet::Event"),
    ("events::BalancesEvent", "pallet_balances::pallet::Event"),
    ("events::TransactionPaymentEvent", "pallet_transaction_payment::pallet::Event"),
    ("events::SudoEvent", "pallet_sudo::pallet::Event"),
    ("events::spec233::SubtensorEvent", "pallet_subtensor::pallet::Event"),
    ("events::spec343::SubtensorEvent", "pallet_subtensor::pallet::Event"),
    ("events::spec233::RuntimeEvent", "node_subtensor_runtime::RuntimeEvent"),
    ("events::spec343::RuntimeEvent", "node_subtensor_runtime::RuntimeEvent"),
    ("calls::SystemCall", "frame_system::pallet::Call"),
    ("calls::TimestampCall", "pallet_timestamp::pallet::Call"),
    ("calls::BalancesCall", "pallet_balances::pallet::Call"),
    ("calls::SubtensorCall", "pallet_subtensor::pallet::Call"),
    ("calls::SudoCall", "pallet_sudo::pallet::Call"),
    ("calls::RuntimeCall", "node_subtensor_runtime::RuntimeCall"),
    ("metadata::RuntimeError", "node_subtensor_runtime::RuntimeError"),
    ("metadata::OpaqueMetadata", "sp_core::OpaqueMetadata"),
    ("extensions::CheckNonZeroSender", "frame_system::extensions::check_non_zero_sender::CheckNonZeroSender"),
    ("extensions::CheckSpecVersion", "frame_system::extensions::check_spec_version::CheckSpecVersion"),
    ("extensions::CheckTxVersion", "frame_system::extensions::check_tx_version::CheckTxVersion"),
    ("extensions::CheckGenesis", "frame_system::extensions::check_genesis::CheckGenesis"),
    ("extensions::CheckMortality", "frame_system::extensions::check_mortality::CheckMortality"),
    ("extensions::CheckNonce", "node_subtensor_runtime::check_nonce::CheckNonce"),
    ("extensions::CheckWeight", "frame_system::extensions::check_weight::CheckWeight"),
    ("extensions::ChargeTransactionPayment", "pallet_transaction_payment::ChargeTransactionPayment"),
    ("extensions::SubtensorSignedExtension", "pallet_subtensor::SubtensorSignedExtension"),
    ("extensions::CommitmentsSignedExtension", "pallet_commitments::CommitmentsSignedExtension"),
    (
        "extensions::SubtensorTransactionExtension",
        "pallet_subtensor::transaction_extension::SubtensorTransactionExtension",
    ),
    ("extensions::DrandPriority", "pallet_drand::drand_priority::DrandPriority"),
    ("extensions::CheckMetadataHash", "frame_metadata_hash_extension::CheckMetadataHash"),
];

const OURS: &str = "taoscope_devnet::runtime::";

fn real_path(ours: &str, spec: Spec) -> Option<String> {
    let local = ours.strip_prefix(OURS)?;
    if local == "types::DispatchInfo" {
        // Renamed (and moved) by finney between the two runtimes; the shape is the same.
        return Some(match spec {
            Spec::Dtao233 => "frame_support::dispatch::DispatchInfo".into(),
            Spec::Swap343 => "frame_system::DispatchEventInfo".into(),
        });
    }
    // substrate-fixed's type-level integers: `typenum` at spec 233, the `substrate_typenum`
    // fork by spec 343.
    let typenum = match spec {
        Spec::Dtao233 => "typenum",
        Spec::Swap343 => "substrate_typenum",
    };
    let real = match local {
        "types::UInt" => [typenum, "uint::UInt"],
        "types::UTerm" => [typenum, "uint::UTerm"],
        "types::B0" => [typenum, "bit::B0"],
        "types::B1" => [typenum, "bit::B1"],
        _ => return PATHS.iter().find(|(o, _)| *o == local).map(|(_, real)| real.to_string()),
    };
    Some(real.join("::"))
}

/// Replaces this crate's paths in `types` with finney's.
pub fn use_real_paths(types: &mut PortableRegistry, spec: Spec) {
    for t in &mut types.types {
        let ours = t.ty.path.segments.join("::");
        if let Some(real) = real_path(&ours, spec) {
            t.ty.path.segments = real.split("::").map(str::to_string).collect();
        } else if ours.starts_with("taoscope_devnet") {
            debug_assert!(false, "no finney path for {ours}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_devnet_type_in_metadata_gets_a_finney_path() {
        for spec in [Spec::Dtao233, Spec::Swap343] {
            for md in [super::super::metadata::v14(spec), super::super::metadata::v15(spec)] {
                let types = match md.1 {
                    frame_metadata::RuntimeMetadata::V14(m) => m.types,
                    frame_metadata::RuntimeMetadata::V15(m) => m.types,
                    _ => unreachable!(),
                };
                for t in &types.types {
                    let p = t.ty.path.segments.join("::");
                    assert!(!p.starts_with("taoscope_devnet"), "{p} in spec {spec:?}");
                }
            }
        }
    }
}
