//! `taoscope yuma --input FILE.json`: JSON in, JSON out, and its bad-input errors.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::support::{assert_one_line_error, run, taoscope};

fn yuma(input: &str) -> std::process::Output {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "taoscope-yuma-{}-{}.json",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::File::create(&path).and_then(|mut f| f.write_all(input.as_bytes())).unwrap();
    let out = run({
        let mut c = taoscope();
        c.arg("yuma").arg("--input").arg(&path);
        c
    });
    let _ = std::fs::remove_file(&path);
    out
}

#[test]
fn replays_epochs_and_prints_json() {
    let input = json!({
        "version": "yuma3", "kappa": 0.5, "bond_penalty": 0.0, "bonds_moving_average": 0.975,
        "liquid_alpha": {"alpha_low": 0.1, "alpha_high": 0.3, "steepness": 1000}, "max_validators": 3,
        "epochs": [
            {"stake": [8, 1, 1, 0, 0], "weights": {"0": [[3, 1], [4, 0]], "1": [[3, 1], [4, 0]], "2": [[3, 1], [4, 0]]}},
            {"stake": [8, 1, 1, 0, 0], "weights": {"0": [[3, 0], [4, 1]], "1": [[3, 1], [4, 0]], "2": [[3, 1], [4, 0]]}}
        ]
    });
    let out = yuma(&input.to_string());
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let output: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let epochs = output["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 2);
    for key in ["consensus", "incentive", "dividends", "validator_trust", "emission_share"] {
        assert_eq!(epochs[1][key].as_array().unwrap().len(), 5, "{key}");
    }
    // subtensor's test_yuma_3_kappa_moves_first, second epoch: the big validator moved first.
    let dividends: Vec<f64> =
        epochs[1]["dividends"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!((dividends[0] - 1.0).abs() < 1e-3, "{dividends:?}");
    assert!(epochs[1]["bonds"]["0"].is_array());
}

#[test]
fn bad_input_is_one_clear_line() {
    let out = yuma("{\"version\": \"yuma2\"");
    assert_one_line_error(&out, "invalid input");
    let input = json!({"version": "yuma2", "kappa": 2.0, "bond_penalty": 1.0, "bonds_moving_average": 0.9,
                       "max_validators": 8, "epochs": [{"stake": [1.0], "weights": {}}]});
    let out = yuma(&input.to_string());
    assert_one_line_error(&out, "kappa must be in [0, 1], got 2");
    let out = run({
        let mut c = taoscope();
        c.args(["yuma", "--input", "/nonexistent/input.json"]);
        c
    });
    assert_one_line_error(&out, "cannot read /nonexistent/input.json");
}
