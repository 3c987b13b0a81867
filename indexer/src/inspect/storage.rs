//! `taoscope metadata decode`: one storage key (and value) read with a runtime's metadata.
//!
//! A key is `twox128(pallet prefix) ++ twox128(item)` followed by one part per hasher:
//! `Blake2_128Concat` and `Twox64Concat` parts carry their hash then the SCALE key (the hash is
//! checked), `Identity` parts are the SCALE key itself, and the opaque hashers (`Blake2_128`,
//! `Blake2_256`, `Twox128`, `Twox256`) keep only the hash, which is shown as hex.

use scale_info::PortableRegistry;
use serde_json::{Map, Value as Json, json};
use sp_crypto_hashing::{blake2_128, twox_64, twox_128};
use subxt::metadata::{StorageEntryMetadata, StorageHasher};

use super::summary::hasher_name;
use super::{InspectError, Loaded, type_name};
use crate::decode::json::decode_json;

/// The 32-byte prefix of every key of an item.
fn item_prefix(pallet_prefix: &str, item: &str) -> [u8; 32] {
    let mut prefix = [0; 32];
    prefix[..16].copy_from_slice(&twox_128(pallet_prefix.as_bytes()));
    prefix[16..].copy_from_slice(&twox_128(item.as_bytes()));
    prefix
}

/// The storage item (`"Pallet.Item"`) whose prefix `key` starts with, if the metadata has one.
pub fn storage_item_of(loaded: &Loaded, key: &[u8]) -> Option<String> {
    let head = key.get(..32)?;
    loaded.metadata.pallets().find_map(|p| {
        let storage = p.storage()?;
        storage
            .entries()
            .iter()
            .find(|e| item_prefix(storage.prefix(), e.name()) == head)
            .map(|e| format!("{}.{}", p.name(), e.name()))
    })
}

/// Decodes `key` (and `value`, when given) as storage item `item` (`"Pallet.Item"`):
/// `{"item": "Swap.AlphaSqrtPrice", "keys": [1], "value": "0.109…"}`. Key parts and the value
/// are rendered by [`crate::decode::json`]: accounts as SS58, fixed-point numbers as exact
/// decimals, bytes as hex; a part behind an opaque hasher is its hash as hex. Without a value
/// the output has no `"value"`.
pub fn decode_storage(
    loaded: &Loaded,
    item: &str,
    key: &[u8],
    value: Option<&[u8]>,
) -> Result<Json, InspectError> {
    let (pallet_name, item_name) = item
        .split_once('.')
        .filter(|(p, i)| !p.is_empty() && !i.is_empty() && !i.contains('.'))
        .ok_or_else(|| InspectError::ItemName { item: item.to_string() })?;
    let spec = loaded.spec_version;
    let storage = loaded
        .metadata
        .pallet_by_name(pallet_name)
        .and_then(|p| p.storage())
        .ok_or_else(|| InspectError::UnknownPallet { spec, pallet: pallet_name.to_string() })?;
    let entry = storage.entry_by_name(item_name).ok_or_else(|| InspectError::UnknownItem {
        spec,
        pallet: pallet_name.to_string(),
        item: item_name.to_string(),
    })?;

    let prefix = item_prefix(storage.prefix(), item_name);
    let Some(mut rest) = key.strip_prefix(&prefix[..]) else {
        return Err(InspectError::KeyPrefix {
            item: item.to_string(),
            expected: hex::encode(prefix),
            belongs_to: storage_item_of(loaded, key),
        });
    };
    let types = loaded.metadata.types();
    let keys = key_parts(types, item, entry, &mut rest)?;
    if !rest.is_empty() {
        return Err(InspectError::KeyLeftover {
            item: item.to_string(),
            parts: entry.keys().len(),
            len: rest.len(),
            rest: hex::encode(rest),
        });
    }

    let mut out = Map::new();
    out.insert("item".into(), json!(item));
    out.insert("keys".into(), Json::Array(keys));
    if let Some(bytes) = value {
        out.insert("value".into(), decode_value(types, item, entry.value_ty(), bytes)?);
    }
    Ok(Json::Object(out))
}

fn key_parts(
    types: &PortableRegistry,
    item: &str,
    entry: &StorageEntryMetadata,
    rest: &mut &[u8],
) -> Result<Vec<Json>, InspectError> {
    let mut parts = Vec::with_capacity(entry.keys().len());
    for (part, info) in entry.keys().enumerate() {
        let err = |reason: String| InspectError::KeyPart {
            item: item.to_string(),
            part,
            hasher: hasher_name(info.hasher),
            ty: type_name(types, info.key_id),
            reason,
        };
        let hash_len = info.hasher.len_excluding_key();
        if rest.len() < hash_len {
            return Err(err(format!("needs {hash_len} hash bytes, {} left", rest.len())));
        }
        let (hash, after) = rest.split_at(hash_len);
        *rest = after;
        if !info.hasher.ends_with_key() {
            // Opaque hashers (Blake2_128, Blake2_256, Twox128, Twox256): only the hash is there.
            parts.push(json!(format!("0x{}", hex::encode(hash))));
            continue;
        }
        let before = *rest;
        let value = decode_json(rest, info.key_id, types).map_err(err)?;
        let encoded = &before[..before.len() - rest.len()];
        if let Some(expected) = concat_hash(info.hasher, encoded)
            && expected != hash
        {
            return Err(err(format!(
                "hash 0x{} is not the hash of the key bytes 0x{}",
                hex::encode(hash),
                hex::encode(encoded)
            )));
        }
        parts.push(value);
    }
    Ok(parts)
}

/// The hash a `*Concat` hasher puts before the key bytes (none for `Identity`).
fn concat_hash(hasher: StorageHasher, encoded: &[u8]) -> Option<Vec<u8>> {
    match hasher {
        StorageHasher::Blake2_128Concat => Some(blake2_128(encoded).to_vec()),
        StorageHasher::Twox64Concat => Some(twox_64(encoded).to_vec()),
        _ => None,
    }
}

fn decode_value(types: &PortableRegistry, item: &str, ty: u32, bytes: &[u8]) -> Result<Json, InspectError> {
    let err =
        |reason: String| InspectError::Value { item: item.to_string(), ty: type_name(types, ty), reason };
    let mut input = bytes;
    let value = decode_json(&mut input, ty, types).map_err(err)?;
    if !input.is_empty() {
        return Err(err(format!("{} of {} bytes left over", input.len(), bytes.len())));
    }
    Ok(value)
}
