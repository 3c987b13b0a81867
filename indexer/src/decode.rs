//! Decoding a fetched block with the metadata of the runtime that executed it: extrinsics
//! (pallet, call, signer, arguments), events (phase, pallet, name, fields) and the block's
//! timestamp, as rows ready to write.

pub mod json;

use std::sync::Arc;

use parity_scale_codec::Decode;
use scale_info::PortableRegistry;
use serde_json::Value as Json;
use subxt::client::OfflineClient;
use subxt::config::{Config, DefaultTransactionExtensions, SubstrateConfig};
use subxt::events::Phase;
use subxt::metadata::{ArcMetadata, Metadata};
use taoscope_schema::AccountId;

use crate::node::RawBlock;
use crate::rows::Failure;

/// A runtime's decoding context.
#[derive(Clone, Debug)]
pub struct Runtime {
    /// `spec_version`.
    pub spec_version: u32,
    /// `transaction_version`.
    pub transaction_version: u32,
    /// Metadata (as subxt understands it).
    pub metadata: ArcMetadata,
}

impl Runtime {
    /// Parses `RuntimeMetadataPrefixed` bytes (V14, V15 or V16).
    pub fn from_metadata_bytes(
        spec_version: u32,
        transaction_version: u32,
        bytes: &[u8],
    ) -> Result<Runtime, String> {
        let metadata = Metadata::decode(&mut &bytes[..]).map_err(|e| e.to_string())?;
        Ok(Runtime { spec_version, transaction_version, metadata: Arc::new(metadata) })
    }
}

/// subxt configuration pinned to one runtime, so offline decoding uses exactly that metadata
/// whatever block number it is asked about (the parent's runtime on an upgrade block).
#[derive(Clone, Debug)]
struct Pinned(Runtime);

impl Config for Pinned {
    type AccountId = <SubstrateConfig as Config>::AccountId;
    type Address = <SubstrateConfig as Config>::Address;
    type Signature = <SubstrateConfig as Config>::Signature;
    type Hasher = <SubstrateConfig as Config>::Hasher;
    type Header = <SubstrateConfig as Config>::Header;
    type TransactionExtensions = DefaultTransactionExtensions<Self>;
    type AssetId = <SubstrateConfig as Config>::AssetId;

    fn spec_and_transaction_version_for_block_number(&self, _block: u64) -> Option<(u32, u32)> {
        Some((self.0.spec_version, self.0.transaction_version))
    }

    fn metadata_for_spec_version(&self, spec_version: u32) -> Option<ArcMetadata> {
        (spec_version == self.0.spec_version).then(|| self.0.metadata.clone())
    }
}

/// An extrinsic row.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtrinsicRow {
    /// Position in the block.
    pub index: i32,
    /// blake2-256 of the encoded extrinsic.
    pub hash: [u8; 32],
    /// Pallet name (None: undecodable).
    pub pallet: Option<String>,
    /// Call name (None: undecodable).
    pub call: Option<String>,
    /// Signer as SS58 (None: unsigned).
    pub signer: Option<String>,
    /// From `ExtrinsicSuccess`/`ExtrinsicFailed`.
    pub success: Option<bool>,
    /// The encoded extrinsic.
    pub raw: Vec<u8>,
    /// Call arguments.
    pub args: Option<Json>,
}

/// An event row.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    /// Position in the block.
    pub index: i32,
    /// `initialization`, `apply_extrinsic` or `finalization`.
    pub phase: &'static str,
    /// The extrinsic it belongs to.
    pub extrinsic_index: Option<i32>,
    /// Pallet name.
    pub pallet: String,
    /// Event name.
    pub name: String,
    /// Pallet index, variant index and field bytes.
    pub raw: Vec<u8>,
    /// Fields.
    pub data: Json,
}

/// A decoded block.
#[derive(Clone, Debug)]
pub struct DecodedBlock {
    /// `Timestamp.set` in milliseconds.
    pub timestamp_ms: Option<u64>,
    /// Extrinsics.
    pub extrinsics: Vec<ExtrinsicRow>,
    /// Events.
    pub events: Vec<EventRow>,
}

fn fields_json(
    bytes: &[u8],
    fields: &[scale_info::Field<scale_info::form::PortableForm>],
    types: &PortableRegistry,
) -> Result<Json, String> {
    json::decode_fields_json(bytes, fields, types)
}

fn signer(address: &[u8]) -> String {
    // MultiAddress::Id (0x00 ++ 32 bytes) or a bare AccountId32.
    let id = match address {
        [0, rest @ ..] if rest.len() == 32 => rest,
        rest if rest.len() == 32 => rest,
        other => return format!("0x{}", hex::encode(other)),
    };
    AccountId(id.try_into().expect("32 bytes")).to_ss58()
}

/// Decodes `raw` with `runtime` (which must be the runtime that executed it). What does not
/// decode is returned as failures (a block's events as a whole, or one extrinsic), with the
/// raw bytes; the rest of the block is still decoded.
pub async fn decode_block(raw: &RawBlock, runtime: &Runtime) -> (DecodedBlock, Vec<Failure>) {
    let mut failures = Vec::new();
    let client = OfflineClient::new_with_config(Pinned(runtime.clone()));
    let at = match client.at_block(raw.number) {
        Ok(at) => at,
        Err(e) => {
            failures.push(Failure {
                kind: "events",
                item: String::new(),
                reason: e.to_string(),
                raw: raw.events.clone(),
            });
            return (DecodedBlock { timestamp_ms: None, extrinsics: vec![], events: vec![] }, failures);
        }
    };
    let md = &runtime.metadata;
    let types = md.types();
    let (events, outcome) = match decode_events(&at, raw, md, types) {
        Ok(decoded) => decoded,
        Err(reason) => {
            failures.push(Failure { kind: "events", item: String::new(), reason, raw: raw.events.clone() });
            (vec![], vec![None; raw.extrinsics.len()])
        }
    };

    let mut extrinsics = Vec::with_capacity(raw.extrinsics.len());
    let mut timestamp_ms = None;
    let decoded = at.extrinsics().from_bytes(raw.extrinsics.clone()).await;
    for (index, x) in decoded.iter().enumerate() {
        let bytes = raw.extrinsics[index].clone();
        let hash = sp_crypto_hashing::blake2_256(&bytes);
        let row = match x {
            Ok(x) => {
                let args = md
                    .pallet_by_call_index(x.pallet_index())
                    .and_then(|p| p.call_variant_by_index(x.call_index()))
                    .and_then(|v| fields_json(x.call_data_field_bytes(), &v.fields, types).ok());
                if (x.pallet_name(), x.call_name()) == ("Timestamp", "set") {
                    timestamp_ms = args.as_ref().and_then(|a| a.get("now")).and_then(Json::as_u64);
                }
                ExtrinsicRow {
                    index: index as i32,
                    hash,
                    pallet: Some(x.pallet_name().to_string()),
                    call: Some(x.call_name().to_string()),
                    signer: x.address_bytes().map(signer),
                    success: outcome[index],
                    raw: bytes,
                    args,
                }
            }
            Err(e) => {
                tracing::warn!(block = raw.number, index, error = %e, "extrinsic does not decode; keeping raw bytes");
                failures.push(Failure {
                    kind: "extrinsic",
                    item: index.to_string(),
                    reason: e.to_string(),
                    raw: bytes.clone(),
                });
                ExtrinsicRow {
                    index: index as i32,
                    hash,
                    pallet: None,
                    call: None,
                    signer: None,
                    success: outcome[index],
                    raw: bytes,
                    args: None,
                }
            }
        };
        extrinsics.push(row);
    }
    (DecodedBlock { timestamp_ms, extrinsics, events }, failures)
}

type Outcomes = Vec<Option<bool>>;

/// Decodes a block's events; also returns each extrinsic's success flag.
fn decode_events(
    at: &subxt::client::ClientAtBlock<Pinned, subxt::client::OfflineClientAtBlockImpl<Pinned>>,
    raw: &RawBlock,
    md: &Metadata,
    types: &PortableRegistry,
) -> Result<(Vec<EventRow>, Outcomes), String> {
    // subxt's iterator ends quietly where the bytes do (and reads a bad count as zero), so a
    // truncated value would pass for a block with fewer events: hold it to its own count.
    let mut cursor = &raw.events[..];
    let declared = if raw.events.is_empty() {
        0
    } else {
        parity_scale_codec::Compact::<u32>::decode(&mut cursor)
            .map_err(|e| format!("the events count does not decode: {e}"))?
            .0
    };
    let mut events = Vec::new();
    let mut consumed = raw.events.len() - cursor.len();
    let mut outcome: Outcomes = vec![None; raw.extrinsics.len()];
    for (index, ev) in at.events().from_bytes(raw.events.clone()).iter().enumerate() {
        let ev = ev.map_err(|e| e.to_string())?;
        let variant = md
            .pallet_by_event_index(ev.pallet_index())
            .and_then(|p| p.event_variant_by_index(ev.event_index()))
            .ok_or_else(|| format!("unknown event {}:{}", ev.pallet_index(), ev.event_index()))?;
        let data = fields_json(ev.field_bytes(), &variant.fields, types)
            .map_err(|e| format!("{}.{}: {e}", ev.pallet_name(), ev.event_name()))?;
        let (phase, extrinsic_index) = match ev.phase() {
            Phase::ApplyExtrinsic(i) => ("apply_extrinsic", Some(i as i32)),
            Phase::Initialization => ("initialization", None),
            Phase::Finalization => ("finalization", None),
        };
        if let (Some(i), "System") = (extrinsic_index, ev.pallet_name()) {
            match (ev.event_name(), outcome.get_mut(i as usize)) {
                ("ExtrinsicSuccess", Some(s)) => *s = Some(true),
                ("ExtrinsicFailed", Some(s)) => *s = Some(false),
                _ => {}
            }
        }
        events.push(EventRow {
            index: index as i32,
            phase,
            extrinsic_index,
            pallet: ev.pallet_name().to_string(),
            name: ev.event_name().to_string(),
            raw: ev.bytes().to_vec(),
            data,
        });
        consumed += ev.bytes().len();
    }
    if events.len() != declared as usize {
        return Err(format!("the value holds {declared} events but only {} decode", events.len()));
    }
    if consumed != raw.events.len() {
        return Err(format!("{} bytes follow the last of {declared} events", raw.events.len() - consumed));
    }
    Ok((events, outcome))
}
