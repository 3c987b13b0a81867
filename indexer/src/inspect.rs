//! Operator tools over a metadata blob: a summary of pallets, storage items and events, and
//! decoding of one storage key and value (`taoscope metadata inspect|decode`).
//!
//! [`load`] accepts the forms a metadata blob is found in (raw `RuntimeMetadataPrefixed`, its
//! `0x` hex, or the `Option<OpaqueMetadata>` that `Metadata_metadata_at_version` returns),
//! [`inspect`] summarises it, and [`decode_storage`] decodes a storage key and value with it,
//! rendering values with [`crate::decode::json`] (accounts as SS58, fixed-point as decimals).

mod storage;
mod summary;
mod type_name;

use std::borrow::Cow;
use std::sync::Arc;

use parity_scale_codec::{Compact, Decode};
use subxt::ext::scale_value::{Composite, Value, ValueDef};
use subxt::metadata::{ArcMetadata, Metadata};

pub use storage::{decode_storage, storage_item_of};
pub use summary::{inspect, inspect_text};
pub use type_name::type_name;

/// `RuntimeMetadataPrefixed` starts with these bytes (`0x6d657461`, "meta").
const MAGIC: &[u8; 4] = b"meta";

/// Why a metadata blob, a storage key or a value could not be used.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The bytes are not runtime metadata in any of the accepted forms.
    #[error(
        "not runtime metadata: {reason} (expected RuntimeMetadataPrefixed bytes starting with 0x6d657461 \"meta\", their 0x hex, or an Option<OpaqueMetadata>)"
    )]
    NotMetadata {
        /// What was found instead.
        reason: String,
    },
    /// Hex text that does not decode.
    #[error("invalid hex: {reason}")]
    Hex {
        /// What was wrong.
        reason: String,
    },
    /// Metadata of a version this tool cannot read.
    #[error("metadata version V{version} is not supported (V14, V15 and V16 are)")]
    UnsupportedVersion {
        /// The version byte after the magic.
        version: u8,
    },
    /// The metadata is truncated or malformed.
    #[error("metadata V{version} does not decode: {reason}")]
    Metadata {
        /// The version byte after the magic.
        version: u8,
        /// Why.
        reason: String,
    },
    /// The runtime version could not be read from the `System.Version` constant.
    #[error("cannot read the spec version from the System.Version constant: {reason}")]
    SpecVersion {
        /// Why.
        reason: String,
    },
    /// A storage item name that is not `Pallet.Item`.
    #[error("storage item {item:?} is not of the form Pallet.Item (e.g. SubtensorModule.SubnetTAO)")]
    ItemName {
        /// What was given.
        item: String,
    },
    /// No pallet of that name, or it has no storage.
    #[error("spec {spec} has no pallet {pallet} with storage")]
    UnknownPallet {
        /// The runtime.
        spec: u32,
        /// The pallet asked for.
        pallet: String,
    },
    /// The pallet has no storage item of that name.
    #[error("spec {spec} has no storage item {pallet}.{item}")]
    UnknownItem {
        /// The runtime.
        spec: u32,
        /// The pallet.
        pallet: String,
        /// The item asked for.
        item: String,
    },
    /// The key does not start with the item's `twox128(pallet) ++ twox128(item)` prefix.
    #[error(
        "key is not a key of {item}: it does not start with 0x{expected}{}",
        match belongs_to { Some(other) => format!(" (it is a key of {other})"), None => String::new() }
    )]
    KeyPrefix {
        /// The item asked for.
        item: String,
        /// The item's prefix, hex.
        expected: String,
        /// The item the key belongs to instead, when the metadata knows it.
        belongs_to: Option<String>,
    },
    /// A key part could not be read.
    #[error("key of {item}, part {part} ({hasher} {ty}): {reason}")]
    KeyPart {
        /// The item.
        item: String,
        /// Which key part (0-based).
        part: usize,
        /// Its hasher.
        hasher: &'static str,
        /// Its type.
        ty: String,
        /// What was wrong.
        reason: String,
    },
    /// Bytes left after every key part was read.
    #[error("key of {item} has {len} bytes left over after its {parts} key part(s): 0x{rest}")]
    KeyLeftover {
        /// The item.
        item: String,
        /// Key parts the item has.
        parts: usize,
        /// How many bytes are left.
        len: usize,
        /// Those bytes, hex.
        rest: String,
    },
    /// The value does not decode as the item's value type.
    #[error("value of {item} does not decode as {ty}: {reason}")]
    Value {
        /// The item.
        item: String,
        /// The value type.
        ty: String,
        /// Why.
        reason: String,
    },
}

/// A decoded metadata blob.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Metadata version (14, 15 or 16).
    pub metadata_version: u8,
    /// The runtime's `spec_version`, from the `System.Version` constant.
    pub spec_version: u32,
    /// The metadata, for decoding (shareable with [`crate::decode::Runtime`]).
    pub metadata: ArcMetadata,
}

/// Reads a metadata blob in any of the forms it is found in: raw `RuntimeMetadataPrefixed`
/// bytes (`state_getMetadata`), `0x` hex text of them (optionally quoted, or the JSON-RPC response
/// object holding it in `result`), or an `Option<OpaqueMetadata>` / `OpaqueMetadata` wrapping
/// them (`Metadata_metadata_at_version`, `Metadata_metadata`).
pub fn load(bytes: &[u8]) -> Result<Loaded, InspectError> {
    let prefixed = unwrap_blob(bytes)?;
    // `unwrap_blob` only returns bytes starting with the magic.
    let version = prefixed.get(MAGIC.len()).copied().ok_or_else(|| not_metadata("no version byte"))?;
    if !(14..=16).contains(&version) {
        return Err(InspectError::UnsupportedVersion { version });
    }
    let mut input = &prefixed[..];
    let metadata = Metadata::decode(&mut input)
        .map_err(|e| InspectError::Metadata { version, reason: e.to_string() })?;
    if !input.is_empty() {
        return Err(InspectError::Metadata {
            version,
            reason: format!("{} bytes left over after the metadata", input.len()),
        });
    }
    let spec_version = spec_version(&metadata)?;
    Ok(Loaded { metadata_version: version, spec_version, metadata: Arc::new(metadata) })
}

/// Hex text (`0x` optional, surrounding whitespace ignored) as bytes.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, InspectError> {
    let text = text.trim();
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    hex::decode(digits).map_err(|e| InspectError::Hex { reason: e.to_string() })
}

fn not_metadata(reason: impl Into<String>) -> InspectError {
    InspectError::NotMetadata { reason: reason.into() }
}

/// The `RuntimeMetadataPrefixed` bytes inside `bytes`.
fn unwrap_blob(bytes: &[u8]) -> Result<Cow<'_, [u8]>, InspectError> {
    if bytes.is_empty() {
        return Err(not_metadata("the input is empty"));
    }
    if let Some(inner) = unwrap_binary(bytes)? {
        return Ok(Cow::Borrowed(inner));
    }
    let Some(text) = std::str::from_utf8(bytes).ok().map(str::trim) else {
        return Err(not_metadata(format!("binary data starting with 0x{}", hex_head(bytes))));
    };
    let hex_text: Cow<'_, str> = if text.starts_with('{') {
        // A saved JSON-RPC response: {"jsonrpc": "2.0", "result": "0x6d657461…", "id": 1}.
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| not_metadata(format!("JSON that does not parse: {e}")))?;
        match json.get("result").and_then(serde_json::Value::as_str) {
            Some(result) => Cow::Owned(result.to_string()),
            None => return Err(not_metadata("a JSON object without a string \"result\"")),
        }
    } else {
        Cow::Borrowed(text.trim_matches('"'))
    };
    let digits = hex_text.strip_prefix("0x").unwrap_or(&hex_text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        let head: String = text.chars().take(16).collect();
        return Err(not_metadata(format!("text that is not hex (starts {head:?})")));
    }
    let decoded = parse_hex(digits)?;
    match unwrap_binary(&decoded)? {
        Some(inner) => Ok(Cow::Owned(inner.to_vec())),
        None => Err(not_metadata(format!("hex of bytes starting with 0x{}", hex_head(&decoded)))),
    }
}

/// Raw prefixed metadata, or the same inside an `Option<OpaqueMetadata>` / `OpaqueMetadata`.
fn unwrap_binary(bytes: &[u8]) -> Result<Option<&[u8]>, InspectError> {
    if bytes.starts_with(MAGIC) {
        return Ok(Some(bytes));
    }
    if bytes == [0] {
        return Err(not_metadata(
            "Option<OpaqueMetadata> is None (the node has no metadata at that version)",
        ));
    }
    if let [1, rest @ ..] = bytes
        && let Some(inner) = opaque(rest)
    {
        return Ok(Some(inner));
    }
    Ok(opaque(bytes))
}

/// The metadata inside an `OpaqueMetadata` (a `Vec<u8>`: a compact length that must cover
/// exactly the rest).
fn opaque(mut input: &[u8]) -> Option<&[u8]> {
    let len = Compact::<u64>::decode(&mut input).ok()?.0;
    (usize::try_from(len).ok()? == input.len() && input.starts_with(MAGIC)).then_some(input)
}

fn hex_head(bytes: &[u8]) -> String {
    hex::encode(&bytes[..bytes.len().min(8)])
}

/// `spec_version` from the `System.Version` constant, a SCALE `RuntimeVersion` whose fourth
/// field (after spec name, impl name and authoring version) is the spec version.
fn spec_version(metadata: &Metadata) -> Result<u32, InspectError> {
    let err = |reason: &str| InspectError::SpecVersion { reason: reason.to_string() };
    let constant = metadata
        .pallet_by_name("System")
        .and_then(|p| p.constant_by_name("Version"))
        .ok_or_else(|| err("the metadata has no System.Version constant"))?;
    let mut bytes = constant.value();
    let value = subxt::ext::scale_value::scale::decode_as_type(&mut bytes, constant.ty(), metadata.types())
        .map_err(|e| InspectError::SpecVersion { reason: e.to_string() })?;
    let ValueDef::Composite(fields) = &value.value else {
        return Err(err("System.Version is not a struct"));
    };
    let field: Option<&Value<u32>> = match fields {
        Composite::Named(named) => named
            .iter()
            .find(|(name, _)| name == "spec_version")
            .map(|(_, v)| v)
            .or_else(|| named.get(3).map(|(_, v)| v)),
        Composite::Unnamed(values) => values.get(3),
    };
    field
        .and_then(Value::as_u128)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| err("System.Version has no u32 spec_version as its fourth field"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for input in [
            &b""[..],
            b"hello",
            b"0x",
            b"0xzz",
            b"{}",
            b"{\"result\": 5}",
            &[0],
            &[1],
            &[1, 8, b'm', b'e'],
            b"meta",
            b"meta\x0e",
            b"meta\x0e\x00\x01",
            &[0xff; 64],
        ] {
            assert!(load(input).is_err(), "{input:?}");
        }
        assert!(matches!(load(b"meta\x0d"), Err(InspectError::UnsupportedVersion { version: 13 })));
        assert!(matches!(load(b"0x6d657461"), Err(InspectError::NotMetadata { .. })));
        assert!(matches!(load(b"0x6d6574610f00"), Err(InspectError::Metadata { version: 15, .. })));
    }

    #[test]
    fn hex_parses_with_or_without_prefix() {
        assert_eq!(parse_hex(" 0x0a0B\n").unwrap(), vec![10, 11]);
        assert_eq!(parse_hex("0a").unwrap(), vec![10]);
        assert!(matches!(parse_hex("0x0"), Err(InspectError::Hex { .. })));
    }
}
