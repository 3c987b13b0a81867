//! Every real metadata blob in `fixtures/finney/metadata` (finney specs 224–365 and devnet
//! builds 240–381, metadata V14/V15/V16) loads with `inspect::load`, reports the spec and metadata
//! versions its file name states, and shows the pallet indices and event shapes an indexer relies
//! on (CHAIN.md §0, §4.3).

use std::path::PathBuf;

use parity_scale_codec::{Compact, Encode};
use serde_json::Value as Json;
use taoscope_indexer::inspect::{self, InspectError, Loaded};
use taoscope_indexer::state::dynamic_info::answer_type;

/// A blob and what its name says: `{chain}_spec{spec}_v{version}.scale`.
struct Blob {
    path: PathBuf,
    chain: String,
    spec: u32,
    version: u8,
}

fn blobs() -> Option<Vec<Blob>> {
    let dir = taoscope_schema::testing::fixtures_dir()?.join("finney/metadata");
    let mut blobs: Vec<Blob> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "scale"))
        .map(|path| {
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            let [chain, spec, version] = stem.split('_').collect::<Vec<_>>()[..] else {
                panic!("unexpected fixture name {stem}");
            };
            Blob {
                chain: chain.to_string(),
                spec: spec.strip_prefix("spec").unwrap().parse().unwrap(),
                version: version.strip_prefix('v').unwrap().parse().unwrap(),
                path,
            }
        })
        .collect();
    blobs.sort_by_key(|b| (b.chain.clone(), b.spec, b.version));
    Some(blobs)
}

fn load(blob: &Blob) -> Loaded {
    let bytes = std::fs::read(&blob.path).unwrap();
    inspect::load(&bytes).unwrap_or_else(|e| panic!("{}: {e}", blob.path.display()))
}

fn finney(spec: u32, version: u8) -> Option<Loaded> {
    let blobs = blobs()?;
    let blob = blobs.iter().find(|b| b.chain == "finney" && b.spec == spec && b.version == version);
    Some(load(blob.unwrap_or_else(|| panic!("no finney_spec{spec}_v{version}.scale"))))
}

fn pallet<'a>(summary: &'a Json, name: &str) -> Option<&'a Json> {
    summary["pallets"].as_array().unwrap().iter().find(|p| p["name"] == name)
}

fn event<'a>(summary: &'a Json, pallet_name: &str, name: &str) -> &'a Json {
    let pallet = pallet(summary, pallet_name).unwrap_or_else(|| panic!("no pallet {pallet_name}"));
    pallet["events"].as_array().unwrap().iter().find(|e| e["name"] == name).unwrap()
}

fn field_types(event: &Json) -> Vec<&str> {
    event["fields"].as_array().unwrap().iter().map(|f| f["type"].as_str().unwrap()).collect()
}

#[test]
fn every_blob_loads_with_the_versions_its_name_states() {
    let Some(blobs) = blobs() else { return };
    assert_eq!(blobs.len(), 12, "12 metadata fixtures");
    let mut versions_seen = std::collections::BTreeSet::new();
    for blob in &blobs {
        let loaded = load(blob);
        let name = blob.path.display();
        assert_eq!(loaded.spec_version, blob.spec, "{name}: spec from System.Version");
        assert_eq!(loaded.metadata_version, blob.version, "{name}: metadata version");
        assert!(loaded.metadata.pallets().len() >= 26, "{name}: pallets");
        versions_seen.insert(loaded.metadata_version);
    }
    assert_eq!(versions_seen.into_iter().collect::<Vec<_>>(), vec![14, 15, 16]);
}

#[test]
fn pallet_indices_on_finney() {
    let Some(blobs) = blobs() else { return };
    let finney: Vec<&Blob> = blobs.iter().filter(|b| b.chain == "finney").collect();
    assert_eq!(finney.len(), 9);
    for blob in finney {
        let summary = inspect::inspect(&load(blob));
        let name = blob.path.display();
        assert_eq!(pallet(&summary, "SubtensorModule").unwrap()["index"], 7, "{name}");
        match pallet(&summary, "Swap") {
            // The swap pallet arrived with spec 283 (CHAIN.md §0); our blobs straddle it.
            Some(swap) => {
                assert!(blob.spec >= 315, "{name}: Swap before spec 283");
                assert_eq!(swap["index"], 28, "{name}");
            }
            None => assert!(blob.spec < 283, "{name}: no Swap pallet"),
        }
    }
}

#[test]
fn stake_added_gains_a_fee_field() {
    let (Some(s224), Some(s233), Some(s343)) = (finney(224, 14), finney(233, 15), finney(343, 14)) else {
        return;
    };
    // The first dTAO runtime on finney (224) already had the five-field shape of the RAO launch
    // (233): (coldkey, hotkey, tao, alpha, netuid). Spec 257 added the fee (CHAIN.md §0).
    let five = ["AccountId32", "AccountId32", "u64", "u64", "u16"];
    for summary in [inspect::inspect(&s224), inspect::inspect(&s233)] {
        let e = event(&summary, "SubtensorModule", "StakeAdded");
        assert_eq!(field_types(e), five, "spec {}", summary["spec_version"]);
        assert_eq!(e["index"], 2);
    }
    let summary = inspect::inspect(&s343);
    let e = event(&summary, "SubtensorModule", "StakeAdded");
    assert_eq!(field_types(e), [&five[..], &["u64"]].concat());
    assert_eq!(e["index"], 2);
    // Unnamed fields carry no name.
    assert!(e["fields"][0]["name"].is_null());
    // Named fields do.
    let auto = event(&summary, "SubtensorModule", "AutoStakeAdded");
    assert_eq!(auto["fields"][0]["name"], "netuid");
}

#[test]
fn inspect_lists_storage_with_hashers_and_type_names() {
    let Some(loaded) = finney(343, 14) else { return };
    let summary = inspect::inspect(&loaded);
    assert_eq!(summary["spec_version"], 343);
    assert_eq!(summary["metadata_version"], 14);
    assert_eq!(summary["pallet_count"], 26);
    let item = |pallet_name: &str, name: &str| -> Json {
        let pallet = pallet(&summary, pallet_name).unwrap();
        pallet["storage"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone()
    };
    assert_eq!(
        item("SubtensorModule", "SubnetTAO"),
        serde_json::json!({"name": "SubnetTAO", "modifier": "Default", "hashers": ["Identity"], "keys": ["u16"], "value": "u64"})
    );
    let weights = item("SubtensorModule", "Weights");
    assert_eq!(weights["hashers"], serde_json::json!(["Identity", "Identity"]));
    assert_eq!(weights["value"], "Vec<(u16, u16)>");
    assert_eq!(item("SubtensorModule", "SubnetMovingPrice")["value"], "FixedI128<U32>");
    assert_eq!(item("SubtensorModule", "Uids")["modifier"], "Optional");
    let alpha = item("SubtensorModule", "Alpha");
    assert_eq!(alpha["hashers"], serde_json::json!(["Blake2_128Concat", "Blake2_128Concat", "Identity"]));
    assert_eq!(alpha["keys"], serde_json::json!(["AccountId32", "AccountId32", "u16"]));
    assert_eq!(alpha["value"], "FixedU128<U64>");
    let price = item("Swap", "AlphaSqrtPrice");
    assert_eq!(price["hashers"], serde_json::json!(["Twox64Concat"]));
    assert_eq!(price["value"], "FixedU128<U64>");
    assert_eq!(item("System", "Account")["value"], "AccountInfo<u32, AccountData<u64>>");

    let text = inspect::inspect_text(&loaded);
    assert!(text.starts_with("spec_version 343, metadata V14, 26 pallets\n"), "{text:.80}");
    assert!(text.contains("\n[7] SubtensorModule\n"));
    assert!(text.contains("    SubnetTAO: Identity(u16) -> u64 [Default]\n"));
    assert!(text.contains("      2 StakeAdded(AccountId32, AccountId32, u64, u64, u16, u64)\n"));
}

#[test]
fn hex_and_opaque_wrapped_blobs_load_the_same() {
    let Some(blobs) = blobs() else { return };
    let blob = blobs.iter().find(|b| b.chain == "finney" && b.spec == 343 && b.version == 15).unwrap();
    let raw = std::fs::read(&blob.path).unwrap();
    let expected = inspect::inspect(&inspect::load(&raw).unwrap());

    // As `state_getMetadata` saved to a file: hex text with a trailing newline.
    let hex_text = format!("0x{}\n", hex::encode(&raw));
    // As `Metadata_metadata_at_version(15)` returns it: Option<OpaqueMetadata>.
    let mut at_version = vec![1u8];
    Compact(raw.len() as u64).encode_to(&mut at_version);
    at_version.extend_from_slice(&raw);
    // A whole JSON-RPC response.
    let response = format!("{{\"jsonrpc\":\"2.0\",\"result\":\"0x{}\",\"id\":1}}", hex::encode(&raw));
    for (form, bytes) in [
        ("hex", hex_text.into_bytes()),
        ("hex without 0x", hex::encode(&raw).into_bytes()),
        ("Option<OpaqueMetadata>", at_version.clone()),
        ("OpaqueMetadata", at_version[1..].to_vec()),
        ("hex of Option<OpaqueMetadata>", format!("0x{}", hex::encode(&at_version)).into_bytes()),
        ("JSON-RPC response", response.into_bytes()),
    ] {
        let loaded = inspect::load(&bytes).unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(inspect::inspect(&loaded), expected, "{form}");
    }

    // Damaged blobs are errors, not panics.
    assert!(matches!(inspect::load(&raw[..raw.len() / 2]), Err(InspectError::Metadata { version: 15, .. })));
    let mut trailing = raw.clone();
    trailing.push(0);
    assert!(matches!(inspect::load(&trailing), Err(InspectError::Metadata { .. })));
    let mut wrong_length = at_version.clone();
    wrong_length.pop();
    assert!(matches!(inspect::load(&wrong_length), Err(InspectError::NotMetadata { .. })));
    assert!(matches!(inspect::load(&[0]), Err(InspectError::NotMetadata { .. })));
}

#[test]
fn every_real_dynamic_info_type_compiles_to_a_layout() {
    let Some(blobs) = blobs() else { return };
    let mut with_api = 0;
    for blob in &blobs {
        let loaded = load(blob);
        let md = &loaded.metadata;
        let Some(ty) = answer_type(md) else {
            continue;
        };
        let layout = taoscope_indexer::state::dynamic_info::Layout::compile(md.types(), ty)
            .unwrap_or_else(|| panic!("{}: DynamicInfo does not compile", blob.path.display()));
        // Every real runtime reports the pool and the subnet's identity.
        let reads = layout.reads();
        for field in [
            "netuid",
            "tao_in",
            "alpha_in",
            "alpha_out",
            "moving_price",
            "subnet_name",
            "token_symbol",
            "owner_hotkey",
            "owner_coldkey",
            "network_registered_at",
            "tempo",
        ] {
            assert!(reads.contains(&field), "{}: {field} not read ({reads:?})", blob.path.display());
        }
        with_api += 1;
    }
    assert!(with_api >= 6, "blobs with the dynamic-info API: {with_api}");
}
