//! Storage values recorded from finney (`fixtures/finney/rpc_recordings.json`: the Bittensor SDK's
//! `state_getStorageAt` / `state_queryStorageAt` answers, CHAIN.md §4.3) decoded with
//! `inspect::decode_storage` and the metadata of the runtime that produced them.
//!
//! Which blob decodes which recording: the recordings span specs 208, 274, 315, 320 and 343.
//! Spec 315, 320 and 343 answers use the blob of the same spec. There is no blob for 208 (the
//! pre-dTAO runtime of `weights`, `bonds`, `tempo`, `get_balance`, `get_delegate_take`, …), so those
//! use the nearest later one, finney spec 224: the items read there (`Weights`, `Bonds`, `Tempo`,
//! `Delegates`, `System.Account`, …) have the same keys and value types in every blob from 224 to
//! 365 (see `metadata_fixtures.rs`). No storage answer was recorded at spec 274.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Value as Json, json};
use taoscope_indexer::inspect::{self, InspectError, Loaded};
use taoscope_schema::AccountId;

/// `{scenario: {rpc_method: entries}}`, where entries are `{json_params: response}` (as stored)
/// or `[[json_params, response], ...]`.
fn recordings() -> Option<&'static Json> {
    static RECORDINGS: OnceLock<Option<Json>> = OnceLock::new();
    RECORDINGS
        .get_or_init(|| {
            let path = taoscope_schema::testing::fixtures_dir()?.join("finney/rpc_recordings.json");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Some(serde_json::from_str(&text).expect("recordings are JSON"))
        })
        .as_ref()
}

/// The recorded `(params, result)` pairs of one method in one scenario.
fn calls(scenario: &str, method: &str) -> Vec<(Json, Json)> {
    let recorded = &recordings().unwrap()[scenario][method];
    let pair = |params: &Json, response: &Json| {
        let params = match params {
            Json::String(s) => serde_json::from_str(s).expect("params are JSON"),
            other => other.clone(),
        };
        (params, response["result"].clone())
    };
    match recorded {
        Json::Object(map) => map.iter().map(|(p, r)| pair(&json!(p), r)).collect(),
        Json::Array(list) => list.iter().map(|e| pair(&e[0], &e[1])).collect(),
        _ => Vec::new(),
    }
}

/// The spec version every `state_getRuntimeVersion` of a scenario answered.
fn recorded_spec(scenario: &str) -> u32 {
    let specs: Vec<u64> = calls(scenario, "state_getRuntimeVersion")
        .iter()
        .map(|(_, r)| r["specVersion"].as_u64().unwrap())
        .collect();
    assert!(!specs.is_empty() && specs.iter().all(|s| *s == specs[0]), "{scenario}: {specs:?}");
    specs[0] as u32
}

fn bytes(hex_text: &str) -> Vec<u8> {
    inspect::parse_hex(hex_text).unwrap()
}

/// Every recorded `(key, value)` of a scenario (value `None`: the item was empty).
fn storage(scenario: &str) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    for (params, result) in calls(scenario, "state_getStorageAt") {
        out.push((bytes(params[0].as_str().unwrap()), result.as_str().map(bytes)));
    }
    for (_, result) in calls(scenario, "state_queryStorageAt") {
        for set in result.as_array().unwrap() {
            for change in set["changes"].as_array().unwrap() {
                out.push((bytes(change[0].as_str().unwrap()), change[1].as_str().map(bytes)));
            }
        }
    }
    out
}

/// The blob for a recorded spec: the same spec, or 224 for the pre-dTAO spec 208 (module docs).
fn metadata(recorded_spec: u32) -> &'static Loaded {
    static BLOBS: OnceLock<std::sync::Mutex<BTreeMap<u32, &'static Loaded>>> = OnceLock::new();
    let spec = if recorded_spec == 208 { 224 } else { recorded_spec };
    let mut cache = BLOBS.get_or_init(Default::default).lock().unwrap();
    cache.entry(spec).or_insert_with(|| {
        let dir = taoscope_schema::testing::fixtures_dir().unwrap();
        let path = dir.join(format!("finney/metadata/finney_spec{spec}_v14.scale"));
        let loaded = inspect::load(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(loaded.spec_version, spec);
        Box::leak(Box::new(loaded))
    })
}

/// Decodes every recorded answer of `scenario` for `item`, with the blob of the recorded spec.
fn decoded(scenario: &str, item: &str) -> Vec<Json> {
    let loaded = metadata(recorded_spec(scenario));
    storage(scenario)
        .into_iter()
        .filter(|(key, _)| inspect::storage_item_of(loaded, key).as_deref() == Some(item))
        .map(|(key, value)| {
            inspect::decode_storage(loaded, item, &key, value.as_deref())
                .unwrap_or_else(|e| panic!("{scenario} {item} 0x{}: {e}", hex::encode(&key)))
        })
        .collect()
}

fn one(scenario: &str, item: &str) -> Json {
    let all = decoded(scenario, item);
    assert_eq!(all.len(), 1, "{scenario} {item}: {all:?}");
    all.into_iter().next().unwrap()
}

#[test]
fn alpha_sqrt_price_of_all_128_subnets_at_spec_315() {
    if recordings().is_none() {
        return;
    }
    assert_eq!(recorded_spec("get_all_subnets_info"), 315);
    let all = decoded("get_all_subnets_info", "Swap.AlphaSqrtPrice");
    assert_eq!(all.len(), 128);
    let mut prices = BTreeMap::new();
    for d in &all {
        let [netuid] = &d["keys"].as_array().unwrap()[..] else { panic!("{d}") };
        // U64F64 rendered as an exact decimal string.
        let sqrt: f64 = d["value"].as_str().unwrap().parse().unwrap();
        let price = sqrt * sqrt;
        assert!(price.is_finite() && price >= 0.0, "{d}");
        prices.insert(netuid.as_u64().unwrap(), price);
    }
    assert_eq!(prices.keys().copied().collect::<Vec<_>>(), (1..=128).collect::<Vec<_>>());
    // CHAIN.md §4.3: sn1 ≈ 0.01191, sn4 ≈ 0.04716 TAO per alpha.
    assert!((prices[&1] - 0.01191).abs() < 1e-4, "sn1 {}", prices[&1]);
    assert!((prices[&4] - 0.04716).abs() < 1e-4, "sn4 {}", prices[&4]);
    // The cheapest and dearest subnets then: sn71 at 0.000487, sn115 at 27.51 TAO per alpha.
    let (cheapest, dearest) = prices.iter().fold((0, 0), |(lo, hi), (n, p)| {
        let lo = if lo == 0 || *p < prices[&lo] { *n } else { lo };
        let hi = if hi == 0 || *p > prices[&hi] { *n } else { hi };
        (lo, hi)
    });
    assert_eq!((cheapest, dearest), (71, 115));
    assert!((prices[&71] - 0.000487).abs() < 1e-6, "sn71 {}", prices[&71]);
    assert!((prices[&115] - 27.514).abs() < 1e-3, "sn115 {}", prices[&115]);
    // The exact rendering of sn1's sqrt price 0x1bf164a9bc7d2fad / 2^64.
    let sn1 = all.iter().find(|d| d["keys"] == json!([1])).unwrap();
    assert_eq!(sn1["value"], "0.1091521181483485713440036157795276494653080590069293975830078125");
}

#[test]
fn weights_and_bonds_of_netuid_23() {
    if recordings().is_none() {
        return;
    }
    assert_eq!(recorded_spec("weights"), 208);
    // Weights (netuid 23, uid 10): one row with a single self-weight of 65535.
    assert_eq!(
        one("weights", "SubtensorModule.Weights"),
        json!({"item": "SubtensorModule.Weights", "keys": [23, 10], "value": [[10, 65535]]})
    );
    // Bonds of netuid 23: 19 uids (0..=18), all empty rows.
    assert_eq!(recorded_spec("bonds"), 208);
    let bonds = decoded("bonds", "SubtensorModule.Bonds");
    assert_eq!(bonds.len(), 19);
    for (uid, b) in bonds.iter().enumerate() {
        assert_eq!(b["keys"], json!([23, uid]));
        assert_eq!(b["value"], json!([]));
    }
    // The `neurons` scenario read the same state one block later.
    assert_eq!(decoded("neurons", "SubtensorModule.Bonds").len(), 19);
    assert_eq!(one("neurons", "SubtensorModule.Weights")["value"], json!([[10, 65535]]));
}

#[test]
fn subnet_parameters() {
    if recordings().is_none() {
        return;
    }
    let value = |scenario: &str, item: &str| {
        let d = one(scenario, item);
        (d["keys"].clone(), d["value"].clone())
    };
    assert_eq!(value("tempo", "SubtensorModule.Tempo"), (json!([23]), json!(1000)));
    assert_eq!(value("immunity_period", "SubtensorModule.ImmunityPeriod"), (json!([23]), json!(5000)));
    assert_eq!(value("difficulty", "SubtensorModule.Difficulty"), (json!([23]), json!(10_000_000)));
    assert_eq!(value("max_weight_limit", "SubtensorModule.MaxWeightsLimit"), (json!([23]), json!(65535)));
    assert_eq!(value("recycle", "SubtensorModule.Burn"), (json!([23]), json!(1)));
    assert_eq!(value("get_total_subnets", "SubtensorModule.TotalNetworks"), (json!([]), json!(247)));
    // SubnetworkN of netuid 1 at spec 315, recorded twice (two scenarios).
    assert_eq!(recorded_spec("subnetwork_n"), 315);
    assert_eq!(value("subnetwork_n", "SubtensorModule.SubnetworkN"), (json!([1]), json!(1024)));
    assert_eq!(value("get_all_subnets_info", "SubtensorModule.SubnetworkN"), (json!([1]), json!(1024)));
    // NetworksAdded: the 100-key page of `get_all_subnets_netuid` (spec 208), all true.
    let added = decoded("get_all_subnets_netuid", "SubtensorModule.NetworksAdded");
    assert_eq!(added.len(), 100);
    assert!(added.iter().all(|d| d["value"] == json!(true)));
    assert_eq!(added[0]["keys"], json!([0]));
}

#[test]
fn last_update_of_netuid_1_at_spec_320() {
    if recordings().is_none() {
        return;
    }
    assert_eq!(recorded_spec("blocks_since_last_update"), 320);
    let d = one("blocks_since_last_update", "SubtensorModule.LastUpdate");
    assert_eq!(d["keys"], json!([1]));
    let blocks: Vec<u64> = d["value"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap()).collect();
    // One entry per uid: SubnetworkN of netuid 1 was 1024 then.
    assert_eq!(blocks.len(), 1024);
    assert_eq!(blocks[0], 2_543_521);
    // No update is later than the recorded block 6,553,223.
    assert!(blocks.iter().all(|b| *b <= 6_553_223));
}

#[test]
fn account_keyed_items_render_accounts_as_ss58() {
    if recordings().is_none() {
        return;
    }
    // Uids (netuid Identity, hotkey Blake2_128Concat) at spec 315: the hotkey is uid 29 on netuid 14.
    // Its key is 0x0e00 ++ blake2_128(hotkey) ++ hotkey.
    let hotkey = AccountId(
        hex::decode("1a33474e4a857009da52aaa4080f176465f99c09763e03b9cd5ee038cec4093e")
            .unwrap()
            .try_into()
            .unwrap(),
    );
    let uids = one("get_neuron_for_pubkey_and_subnet", "SubtensorModule.Uids");
    assert_eq!(uids["keys"], json!([14, hotkey.to_ss58()]));
    assert_eq!(uids["value"], 29);

    // Delegates (hotkey Blake2_128Concat) at spec 208: take 11796 (≈ 18 %).
    let take = one("get_delegate_take", "SubtensorModule.Delegates");
    assert_eq!(take["value"], 11796);
    assert!(take["keys"][0].as_str().unwrap().starts_with('5'));

    // System.Account at spec 208: nonce 141 and a balance of 7.450117072 TAO free.
    let account = one("get_balance", "System.Account");
    assert_eq!(account["value"]["nonce"], 141);
    assert_eq!(account["value"]["data"]["free"], 7_450_117_072u64);
    assert_eq!(account["value"]["data"]["reserved"], 100_000_000);
    // ExtraFlags(u128) wider than 64 bits: a decimal string.
    assert_eq!(account["value"]["data"]["flags"], (1u128 << 127).to_string());
}

#[test]
fn every_recorded_storage_value_decodes() {
    let Some(recordings) = recordings() else { return };
    let mut decoded_values = 0;
    for scenario in recordings.as_object().unwrap().keys() {
        let answers = storage(scenario);
        if answers.is_empty() {
            continue;
        }
        let loaded = metadata(recorded_spec(scenario));
        for (key, value) in answers {
            let Some(value) = value else { continue };
            let item = inspect::storage_item_of(loaded, &key)
                .unwrap_or_else(|| panic!("{scenario}: no item for key 0x{}", hex::encode(&key)));
            inspect::decode_storage(loaded, &item, &key, Some(&value))
                .unwrap_or_else(|e| panic!("{scenario}: {e}"));
            decoded_values += 1;
        }
    }
    // 128 prices, 3 × 100 IsNetworkMember pages, 100 NetworksAdded, 2 × 19 bonds and 27 more;
    // empty answers (value null) are skipped.
    assert_eq!(decoded_values, 593);
}

#[test]
fn mismatched_keys_and_values_are_errors() {
    if recordings().is_none() {
        return;
    }
    let loaded = metadata(208);
    let weights_key = storage("weights").into_iter().map(|(k, _)| k).find(|k| k.len() == 36).unwrap();
    // A Weights key offered as Bonds names the item it belongs to.
    match inspect::decode_storage(loaded, "SubtensorModule.Bonds", &weights_key, None) {
        Err(e @ InspectError::KeyPrefix { .. }) => {
            assert!(e.to_string().contains("it is a key of SubtensorModule.Weights"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    // Without a value, only the keys.
    assert_eq!(
        inspect::decode_storage(loaded, "SubtensorModule.Weights", &weights_key, None).unwrap(),
        json!({"item": "SubtensorModule.Weights", "keys": [23, 10]})
    );
    let mut long = weights_key.clone();
    long.push(0);
    assert!(matches!(
        inspect::decode_storage(loaded, "SubtensorModule.Weights", &long, None),
        Err(InspectError::KeyLeftover { len: 1, .. })
    ));
    assert!(matches!(
        inspect::decode_storage(loaded, "SubtensorModule.Weights", &weights_key[..35], None),
        Err(InspectError::KeyPart { part: 1, .. })
    ));
    assert!(matches!(
        inspect::decode_storage(loaded, "SubtensorModule.Weights", &weights_key, Some(&[0x04, 0x0a])),
        Err(InspectError::Value { .. })
    ));
    assert!(matches!(
        inspect::decode_storage(
            loaded,
            "SubtensorModule.Weights",
            &weights_key,
            Some(&[0x04, 0x0a, 0, 0xff, 0xff, 0])
        ),
        Err(InspectError::Value { .. })
    ));
    assert!(matches!(
        inspect::decode_storage(loaded, "SubtensorModule.Nope", &weights_key, None),
        Err(InspectError::UnknownItem { spec: 224, .. })
    ));
    assert!(matches!(
        inspect::decode_storage(loaded, "Swap.AlphaSqrtPrice", &weights_key, None),
        Err(InspectError::UnknownPallet { spec: 224, .. })
    ));
    for bad in ["Weights", "SubtensorModule.", ".Weights", "A.B.C"] {
        assert!(matches!(
            inspect::decode_storage(loaded, bad, &weights_key, None),
            Err(InspectError::ItemName { .. })
        ));
    }

    // A Blake2_128Concat part whose hash does not match its key bytes.
    let (mut uids_key, _) = storage("get_neuron_for_pubkey_and_subnet").remove(0);
    let last = uids_key.len() - 1;
    uids_key[last] ^= 1;
    let loaded = metadata(315);
    match inspect::decode_storage(loaded, "SubtensorModule.Uids", &uids_key, None) {
        Err(e @ InspectError::KeyPart { part: 1, .. }) => {
            assert!(e.to_string().contains("is not the hash"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}
