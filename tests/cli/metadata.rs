//! `taoscope metadata inspect|decode` on real finney metadata, and its bad-input errors.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{assert_one_line_error, run, taoscope};

fn blob(name: &str) -> Option<PathBuf> {
    Some(taoscope_schema::testing::fixtures_dir()?.join("finney/metadata").join(name))
}

fn metadata(args: &[&str]) -> std::process::Output {
    run({
        let mut c = taoscope();
        c.arg("metadata").args(args);
        c
    })
}

fn stdout_json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

#[test]
fn inspect_summarises_a_blob() {
    let Some(path) = blob("finney_spec343_v15.scale") else { return };
    let path = path.to_str().unwrap();
    let summary = stdout_json(&metadata(&["inspect", path, "--json"]));
    assert_eq!(summary["spec_version"], 343);
    assert_eq!(summary["metadata_version"], 15);
    let pallets = summary["pallets"].as_array().unwrap();
    assert_eq!(summary["pallet_count"], pallets.len());
    let subtensor = pallets.iter().find(|p| p["name"] == "SubtensorModule").unwrap();
    assert_eq!(subtensor["index"], 7);
    let tao = subtensor["storage"].as_array().unwrap().iter().find(|s| s["name"] == "SubnetTAO").unwrap();
    assert_eq!(tao["hashers"], json!(["Identity"]));

    let out = metadata(&["inspect", path]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("spec_version 343, metadata V15, "), "{text:.80}");
    assert!(text.contains("\n[28] Swap\n"));
}

#[test]
fn decode_renders_a_recorded_alpha_sqrt_price() {
    let Some(path) = blob("finney_spec315_v14.scale") else { return };
    // Swap.AlphaSqrtPrice of netuid 1 at finney block ~6,515,548 (spec 315), from rpc_recordings.json.
    let key = "0x746cc6d1e9dbcf1d03868e492c1d836e0366558e06667059cde5be67d7c3e2d1f1577fbf1d628fdd0100";
    let value = "0xad2f7dbca964f11b0000000000000000";
    let path = path.to_str().unwrap();
    let args = ["decode", "--metadata", path, "--item", "Swap.AlphaSqrtPrice", "--key", key];
    let decoded = stdout_json(&metadata(&[&args[..], &["--value", value]].concat()));
    assert_eq!(decoded["item"], "Swap.AlphaSqrtPrice");
    assert_eq!(decoded["keys"], json!([1]));
    let sqrt: f64 = decoded["value"].as_str().unwrap().parse().unwrap();
    assert!((sqrt * sqrt - 0.01191).abs() < 1e-4, "{sqrt}");
    // Without --value: the keys only.
    assert_eq!(stdout_json(&metadata(&args)), json!({"item": "Swap.AlphaSqrtPrice", "keys": [1]}));
}

#[test]
fn bad_input_is_a_one_line_error() {
    let Some(path) = blob("finney_spec315_v14.scale") else { return };
    let path = path.to_str().unwrap();
    let key = "0x746cc6d1e9dbcf1d03868e492c1d836e0366558e06667059cde5be67d7c3e2d1f1577fbf1d628fdd0100";

    assert_one_line_error(
        &metadata(&["inspect", "/nonexistent/meta.scale"]),
        "cannot read /nonexistent/meta.scale",
    );

    let dir = std::env::temp_dir().join(format!("taoscope-metadata-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("notes.txt");
    std::fs::write(&text, "these are not metadata\n").unwrap();
    let text = text.to_str().unwrap();
    assert_one_line_error(&metadata(&["inspect", text, "--json"]), "not runtime metadata");
    let decode = |item: &str, key: &str, value: Option<&str>| {
        let mut args = vec!["decode", "--metadata", path, "--item", item, "--key", key];
        args.extend(value.iter().flat_map(|v| ["--value", v]));
        metadata(&args)
    };
    assert_one_line_error(
        &metadata(&["decode", "--metadata", text, "--item", "Swap.AlphaSqrtPrice", "--key", key]),
        "not runtime metadata",
    );
    assert_one_line_error(&decode("Swap.Nope", key, None), "spec 315 has no storage item Swap.Nope");
    assert_one_line_error(&decode("Nope.Nope", key, None), "spec 315 has no pallet Nope");
    assert_one_line_error(&decode("Swap", key, None), "not of the form Pallet.Item");
    assert_one_line_error(
        &decode("SubtensorModule.SubnetTAO", key, None),
        "is not a key of SubtensorModule.SubnetTAO",
    );
    assert_one_line_error(&decode("Swap.AlphaSqrtPrice", "0xzz", None), "--key: invalid hex");
    assert_one_line_error(
        &decode("Swap.AlphaSqrtPrice", key, Some("0x01")),
        "does not decode as FixedU128<U64>",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
