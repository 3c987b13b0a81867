//! `taoscope metadata inspect`: what a runtime offers to an indexer — pallets with their index,
//! storage items (modifier, hashers, key and value types) and events (index, fields).

use std::fmt::Write;

use serde_json::{Value as Json, json};
use subxt::metadata::{PalletMetadata, StorageHasher};

use super::{Loaded, type_name};

/// One storage item.
struct Storage {
    name: String,
    modifier: &'static str,
    hashers: Vec<&'static str>,
    keys: Vec<String>,
    value: String,
}

/// One event field.
struct Field {
    name: Option<String>,
    ty: String,
}

/// One event.
struct Event {
    name: String,
    index: u8,
    fields: Vec<Field>,
}

/// One pallet.
struct Pallet {
    name: String,
    index: u8,
    storage: Vec<Storage>,
    events: Vec<Event>,
}

/// The name metadata and Substrate use for a hasher.
pub(super) fn hasher_name(h: StorageHasher) -> &'static str {
    match h {
        StorageHasher::Blake2_128 => "Blake2_128",
        StorageHasher::Blake2_256 => "Blake2_256",
        StorageHasher::Blake2_128Concat => "Blake2_128Concat",
        StorageHasher::Twox128 => "Twox128",
        StorageHasher::Twox256 => "Twox256",
        StorageHasher::Twox64Concat => "Twox64Concat",
        StorageHasher::Identity => "Identity",
    }
}

fn pallet(loaded: &Loaded, p: PalletMetadata<'_>) -> Pallet {
    let types = loaded.metadata.types();
    let storage = p
        .storage()
        .map(|s| {
            s.entries()
                .iter()
                .map(|e| Storage {
                    name: e.name().to_string(),
                    // frame-decode keeps a default value exactly for `ValueQuery` (Default) items.
                    modifier: if e.default_value().is_some() { "Default" } else { "Optional" },
                    hashers: e.keys().map(|k| hasher_name(k.hasher)).collect(),
                    keys: e.keys().map(|k| type_name(types, k.key_id)).collect(),
                    value: type_name(types, e.value_ty()),
                })
                .collect()
        })
        .unwrap_or_default();
    let events = p
        .event_variants()
        .unwrap_or_default()
        .iter()
        .map(|v| Event {
            name: v.name.clone(),
            index: v.index,
            fields: v
                .fields
                .iter()
                .map(|f| Field { name: f.name.clone(), ty: type_name(types, f.ty.id) })
                .collect(),
        })
        .collect();
    Pallet { name: p.name().to_string(), index: p.call_index(), storage, events }
}

fn pallets(loaded: &Loaded) -> Vec<Pallet> {
    let mut pallets: Vec<Pallet> = loaded.metadata.pallets().map(|p| pallet(loaded, p)).collect();
    pallets.sort_by_key(|p| p.index);
    pallets
}

/// The summary as JSON:
/// `{"spec_version", "metadata_version", "pallet_count", "pallets": [{"name", "index",
/// "storage": [{"name", "modifier", "hashers", "keys", "value"}], "events": [{"name", "index",
/// "fields": [{"name", "type"}]}]}]}`, pallets in index order.
pub fn inspect(loaded: &Loaded) -> Json {
    let pallets: Vec<Json> = pallets(loaded)
        .into_iter()
        .map(|p| {
            json!({
                "name": p.name,
                "index": p.index,
                "storage": p.storage.into_iter().map(|s| json!({
                    "name": s.name,
                    "modifier": s.modifier,
                    "hashers": s.hashers,
                    "keys": s.keys,
                    "value": s.value,
                })).collect::<Vec<_>>(),
                "events": p.events.into_iter().map(|e| json!({
                    "name": e.name,
                    "index": e.index,
                    "fields": e.fields.into_iter().map(|f| json!({ "name": f.name, "type": f.ty })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "spec_version": loaded.spec_version,
        "metadata_version": loaded.metadata_version,
        "pallet_count": pallets.len(),
        "pallets": pallets,
    })
}

/// The summary as text, one line per pallet, storage item and event.
pub fn inspect_text(loaded: &Loaded) -> String {
    let pallets = pallets(loaded);
    let mut out = format!(
        "spec_version {}, metadata V{}, {} pallets\n",
        loaded.spec_version,
        loaded.metadata_version,
        pallets.len()
    );
    // `write!` into a String cannot fail.
    for p in pallets {
        let _ = writeln!(out, "\n[{}] {}", p.index, p.name);
        if !p.storage.is_empty() {
            let _ = writeln!(out, "  storage ({}):", p.storage.len());
        }
        for s in &p.storage {
            let keys: Vec<String> = s.hashers.iter().zip(&s.keys).map(|(h, k)| format!("{h}({k})")).collect();
            let keys = if keys.is_empty() { String::new() } else { format!("{} ", keys.join(", ")) };
            let _ = writeln!(out, "    {}: {keys}-> {} [{}]", s.name, s.value, s.modifier);
        }
        if !p.events.is_empty() {
            let _ = writeln!(out, "  events ({}):", p.events.len());
        }
        for e in &p.events {
            let fields: Vec<String> = e
                .fields
                .iter()
                .map(|f| match &f.name {
                    Some(n) => format!("{n}: {}", f.ty),
                    None => f.ty.clone(),
                })
                .collect();
            let _ = writeln!(out, "    {:>3} {}({})", e.index, e.name, fields.join(", "));
        }
    }
    out
}
