//! Builds each runtime's metadata (V14 and V15) from the declarations in this module's siblings.
//!
//! Like a real node, `state_getMetadata` answers V14 and `Metadata_metadata_at_version(15)` V15;
//! both describe the same pallets, storage, calls, events and extensions.

use frame_metadata::RuntimeMetadataPrefixed;
use frame_metadata::v14::{
    ExtrinsicMetadata as ExtrinsicV14, PalletCallMetadata, PalletConstantMetadata, PalletEventMetadata,
    PalletMetadata as PalletV14, PalletStorageMetadata, RuntimeMetadataV14, SignedExtensionMetadata,
};
use frame_metadata::v15::{
    CustomMetadata, ExtrinsicMetadata as ExtrinsicV15, OuterEnums, PalletMetadata as PalletV15,
    RuntimeApiMetadata, RuntimeApiMethodMetadata, RuntimeApiMethodParamMetadata, RuntimeMetadataV15,
};
use parity_scale_codec::Encode;
use scale_info::{MetaType, TypeInfo, meta_type};

use super::apis::{DynamicInfo233, DynamicInfo343};
use super::calls::{BalancesCall, RuntimeCall, SubtensorCall, SudoCall, SystemCall, TimestampCall};
use super::events::{BalancesEvent, SudoEvent, SystemEvent, TransactionPaymentEvent, spec233, spec343};
use super::extensions::{Extra233, Extra343, extensions};
use super::paths::use_real_paths;
use super::storage::{Declared, declared};
use super::types::{
    Address, Block, DispatchError233, DispatchError343, MultiSignature, Runtime, UncheckedExtrinsic,
};
use super::{RuntimeVersion233, RuntimeVersion343, Spec};

/// `node_subtensor_runtime::RuntimeError`: the devnet declares no pallet errors.
#[derive(TypeInfo)]
pub enum RuntimeError {}

/// `sp_core::OpaqueMetadata`.
#[derive(TypeInfo)]
pub struct OpaqueMetadata(pub Vec<u8>);

/// A pallet in runtime-neutral form.
struct Pallet {
    name: &'static str,
    index: u8,
    calls: Option<MetaType>,
    event: Option<MetaType>,
    constants: Vec<PalletConstantMetadata>,
}

fn constant<T: TypeInfo + Encode + 'static>(name: &'static str, value: T) -> PalletConstantMetadata {
    PalletConstantMetadata { name, ty: meta_type::<T>(), value: value.encode(), docs: vec![] }
}

fn pallets(spec: Spec) -> Vec<Pallet> {
    let (system_event, subtensor_event, sudo_event) = match spec {
        Spec::Dtao233 => (
            meta_type::<SystemEvent<DispatchError233>>(),
            meta_type::<spec233::SubtensorEvent>(),
            meta_type::<SudoEvent<DispatchError233>>(),
        ),
        Spec::Swap343 => (
            meta_type::<SystemEvent<DispatchError343>>(),
            meta_type::<spec343::SubtensorEvent>(),
            meta_type::<SudoEvent<DispatchError343>>(),
        ),
    };
    let mut list = vec![
        Pallet {
            name: "System",
            index: 0,
            calls: Some(meta_type::<SystemCall>()),
            event: Some(system_event),
            constants: vec![
                constant("BlockHashCount", 4096u32),
                constant("Version", spec.version()),
                constant("SS58Prefix", 42u16),
            ],
        },
        Pallet {
            name: "Timestamp",
            index: 2,
            calls: Some(meta_type::<TimestampCall>()),
            event: None,
            constants: vec![constant("MinimumPeriod", 6_000u64)],
        },
        Pallet {
            name: "Balances",
            index: 5,
            calls: Some(meta_type::<BalancesCall>()),
            event: Some(meta_type::<BalancesEvent>()),
            constants: vec![constant("ExistentialDeposit", 500u64)],
        },
        Pallet {
            name: "TransactionPayment",
            index: 6,
            calls: None,
            event: Some(meta_type::<TransactionPaymentEvent>()),
            constants: vec![],
        },
        Pallet {
            name: "SubtensorModule",
            index: 7,
            calls: Some(meta_type::<SubtensorCall>()),
            event: Some(subtensor_event),
            constants: vec![],
        },
        Pallet {
            name: "Sudo",
            index: 12,
            calls: Some(meta_type::<SudoCall>()),
            event: Some(sudo_event),
            constants: vec![],
        },
    ];
    if spec == Spec::Swap343 {
        list.push(Pallet { name: "Swap", index: 28, calls: None, event: None, constants: vec![] });
    }
    list
}

fn storage_of(pallet: &'static str, items: &[&'static dyn Declared]) -> Option<PalletStorageMetadata> {
    let entries: Vec<_> = items.iter().filter(|d| d.pallet() == pallet).map(|d| d.entry()).collect();
    // Storage prefixes equal pallet names on subtensor.
    (!entries.is_empty()).then_some(PalletStorageMetadata { prefix: pallet, entries })
}

fn signed_extensions_v14(spec: Spec) -> Vec<SignedExtensionMetadata> {
    extensions(spec)
        .into_iter()
        .map(|e| SignedExtensionMetadata {
            identifier: e.identifier,
            ty: e.ty,
            additional_signed: e.implicit,
        })
        .collect()
}

fn signed_extensions_v15(spec: Spec) -> Vec<frame_metadata::v15::SignedExtensionMetadata> {
    signed_extensions_v14(spec)
        .into_iter()
        .map(|e| frame_metadata::v15::SignedExtensionMetadata {
            identifier: e.identifier,
            ty: e.ty,
            additional_signed: e.additional_signed,
        })
        .collect()
}

fn event_enum(spec: Spec) -> MetaType {
    match spec {
        Spec::Dtao233 => meta_type::<spec233::RuntimeEvent>(),
        Spec::Swap343 => meta_type::<spec343::RuntimeEvent>(),
    }
}

type Unchecked<Extra> = UncheckedExtrinsic<Address, RuntimeCall, MultiSignature, Extra>;

/// The runtime's `UncheckedExtrinsic<Address, Call, Signature, Extra>` type.
fn unchecked_extrinsic(spec: Spec) -> MetaType {
    match spec {
        Spec::Dtao233 => meta_type::<Unchecked<Extra233>>(),
        Spec::Swap343 => meta_type::<Unchecked<Extra343>>(),
    }
}

/// The runtime's `Block<Header, UncheckedExtrinsic>` type.
fn block(spec: Spec) -> MetaType {
    match spec {
        Spec::Dtao233 => meta_type::<Block<Unchecked<Extra233>>>(),
        Spec::Swap343 => meta_type::<Block<Unchecked<Extra343>>>(),
    }
}

fn extra_type(spec: Spec) -> MetaType {
    match spec {
        Spec::Dtao233 => meta_type::<Extra233>(),
        Spec::Swap343 => meta_type::<Extra343>(),
    }
}

/// The pallets of `spec` in V14 form (V15 adds only documentation).
fn pallets_v14(spec: Spec) -> Vec<PalletV14> {
    let items = declared(spec);
    pallets(spec)
        .into_iter()
        .map(|p| PalletV14 {
            name: p.name,
            storage: storage_of(p.name, &items),
            calls: p.calls.map(|ty| PalletCallMetadata { ty }),
            event: p.event.map(|ty| PalletEventMetadata { ty }),
            constants: p.constants,
            error: None,
            index: p.index,
        })
        .collect()
}

/// V14 metadata of `spec`.
pub fn v14(spec: Spec) -> RuntimeMetadataPrefixed {
    let pallets = pallets_v14(spec);
    let extrinsic = ExtrinsicV14 {
        ty: unchecked_extrinsic(spec),
        version: 4,
        signed_extensions: signed_extensions_v14(spec),
    };
    // V14 has no outer-enum list: clients find `RuntimeEvent` through `System.Events` and
    // `RuntimeCall` through the extrinsic type, by name.
    let mut md = RuntimeMetadataV14::new(pallets, extrinsic, meta_type::<Runtime>());
    use_real_paths(&mut md.types, spec);
    md.into()
}

/// V15 metadata of `spec`.
pub fn v15(spec: Spec) -> RuntimeMetadataPrefixed {
    let pallets = pallets_v14(spec)
        .into_iter()
        .map(|p| PalletV15 {
            name: p.name,
            storage: p.storage,
            calls: p.calls,
            event: p.event,
            constants: p.constants,
            error: p.error,
            index: p.index,
            docs: vec![],
        })
        .collect();
    let extrinsic = ExtrinsicV15 {
        version: 4,
        address_ty: meta_type::<Address>(),
        call_ty: meta_type::<RuntimeCall>(),
        signature_ty: meta_type::<MultiSignature>(),
        extra_ty: extra_type(spec),
        signed_extensions: signed_extensions_v15(spec),
    };
    let outer_enums = OuterEnums {
        call_enum_ty: meta_type::<RuntimeCall>(),
        event_enum_ty: event_enum(spec),
        error_enum_ty: meta_type::<RuntimeError>(),
    };
    let mut md = RuntimeMetadataV15::new(
        pallets,
        extrinsic,
        meta_type::<Runtime>(),
        runtime_apis(spec),
        outer_enums,
        CustomMetadata { map: Default::default() },
    );
    use_real_paths(&mut md.types, spec);
    md.into()
}

fn method(
    name: &'static str,
    inputs: Vec<RuntimeApiMethodParamMetadata>,
    output: MetaType,
) -> RuntimeApiMethodMetadata {
    RuntimeApiMethodMetadata { name, inputs, output, docs: vec![] }
}

/// `SubnetInfoRuntimeApi`'s dynamic-info methods with `spec`'s `DynamicInfo`.
fn subnet_info_api(spec: Spec) -> RuntimeApiMetadata {
    let (one, all) = match spec {
        Spec::Dtao233 => (meta_type::<Option<DynamicInfo233>>(), meta_type::<Vec<Option<DynamicInfo233>>>()),
        Spec::Swap343 => (meta_type::<Option<DynamicInfo343>>(), meta_type::<Vec<Option<DynamicInfo343>>>()),
    };
    RuntimeApiMetadata {
        name: "SubnetInfoRuntimeApi",
        methods: vec![
            method("get_all_dynamic_info", vec![], all),
            method(
                "get_dynamic_info",
                vec![RuntimeApiMethodParamMetadata { name: "netuid", ty: meta_type::<u16>() }],
                one,
            ),
        ],
        docs: vec![],
    }
}

/// The runtime APIs the devnet answers through `state_call` (plus `Core.execute_block`, whose
/// argument is how V15 clients find the block and extrinsic types).
fn runtime_apis(spec: Spec) -> Vec<RuntimeApiMetadata> {
    vec![
        RuntimeApiMetadata {
            name: "Core",
            methods: vec![
                method(
                    "version",
                    vec![],
                    match spec {
                        Spec::Dtao233 => meta_type::<RuntimeVersion233>(),
                        Spec::Swap343 => meta_type::<RuntimeVersion343>(),
                    },
                ),
                method(
                    "execute_block",
                    vec![RuntimeApiMethodParamMetadata { name: "block", ty: block(spec) }],
                    meta_type::<()>(),
                ),
            ],
            docs: vec![],
        },
        RuntimeApiMetadata {
            name: "Metadata",
            methods: vec![
                method("metadata", vec![], meta_type::<OpaqueMetadata>()),
                method(
                    "metadata_at_version",
                    vec![RuntimeApiMethodParamMetadata { name: "version", ty: meta_type::<u32>() }],
                    meta_type::<Option<OpaqueMetadata>>(),
                ),
                method("metadata_versions", vec![], meta_type::<Vec<u32>>()),
            ],
            docs: vec![],
        },
        subnet_info_api(spec),
    ]
}
