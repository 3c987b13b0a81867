//! `taoscope export`: a seeded database written as Parquet files (then read by pyarrow, when
//! `TAOSCOPE_PYARROW_PYTHON` names a Python that has it), the JSON summary, and failures that
//! leave no file behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use taoscope_schema::testing::TestDb;

use crate::support::{assert_one_line_error, run, taoscope};

const SEED: &str = "
INSERT INTO runtime_versions (spec_version, spec_name, impl_version, transaction_version, metadata_version,
                              metadata, first_block)
VALUES (100, 'node-subtensor', 1, 1, 15, '\\x00'::bytea, 0);
INSERT INTO blocks (number, hash, parent_hash, state_root, extrinsics_root, timestamp, spec_version,
                    event_count, extrinsic_count)
SELECT n, sha256(int8send(n)), sha256(int8send(n - 1)), '\\x00'::bytea, '\\x00'::bytea,
       CASE WHEN n > 0 THEN timestamptz '2025-01-01 00:00:00+00' + n * interval '12 s' END, 100, 0, 1
  FROM generate_series(0::bigint, 50) n;
SELECT taoscope_ensure_partitions(0, 50);
INSERT INTO pool_state (block_number, netuid, tao, alpha_in, alpha_out, price, price_source, moving_price,
                        volume)
SELECT b, n, 1000000000::bigint * b, 2000000000, 0, round(b::numeric / 3, 24), 'reserves',
       CASE WHEN b % 2 = 0 THEN 0.5 END, b * 1000
  FROM generate_series(1, 50) b, generate_series(0, 2) n;
INSERT INTO emissions_daily (netuid, day, first_block, last_block, blocks, tao_in, alpha_in, alpha_out,
                             owner_alpha, miner_alpha, validator_alpha, root_alpha, tao_share, cum_tao_in,
                             cum_alpha_in, cum_alpha_out, era)
VALUES (1, '2025-01-01', 1, 50, 50, 1000000000, 2, 3, 4, 5, 6, 7, 1.0, 1000000000, 2, 3, 'dtao');
INSERT INTO yuma_audit (netuid, block_number, uids, validators, bonds_model, tolerance, uids_beyond, status)
VALUES (1, 10, 4, 1, 'yuma2', 0.001, ARRAY[2, 3], 'deviates'), (1, 20, 4, 1, 'yuma2', 0.001, '{}', 'exact');
";

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taoscope-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `[["name", "type"], ...]`: the expected columns, in file order.
fn columns(pairs: &[(&str, &str)]) -> Value {
    Value::Array(pairs.iter().map(|(n, t)| json!([n, t])).collect())
}

fn export(url: &str, out: &Path, args: &[&str]) -> std::process::Output {
    let mut c = taoscope();
    c.arg("export").args(args).arg("--out").arg(out).args(["--database-url", url]);
    run(c)
}

/// Reads `file` with pyarrow and compares it with `expected` (see tests/exports/check_parquet.py),
/// when `TAOSCOPE_PYARROW_PYTHON` is set.
fn pyarrow_check(file: &Path, expected: &Value) {
    let Some(python) = std::env::var_os("TAOSCOPE_PYARROW_PYTHON") else {
        eprintln!(
            "skipping the pyarrow check: TAOSCOPE_PYARROW_PYTHON is not set (scripts/export-check sets it)"
        );
        return;
    };
    let spec = file.with_extension("expected.json");
    std::fs::write(&spec, expected.to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exports/check_parquet.py");
    let out = Command::new(python).arg(script).arg(file).arg(&spec).output().expect("run python");
    assert!(
        out.status.success(),
        "pyarrow check failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_typed_parquet_files() {
    let db = TestDb::migrated().await;
    db.client().await.batch_execute(SEED).await.unwrap();
    let dir = scratch("ok");

    let out = dir.join("pool_state.parquet");
    let run = export(db.url(), &out, &["pool_state", "--netuid", "1", "--from-block", "2"]);
    assert!(run.status.success(), "stderr: {}", String::from_utf8_lossy(&run.stderr));
    let summary: Value = serde_json::from_slice(&run.stdout).expect("one JSON line");
    assert_eq!(summary["dataset"], "pool_state");
    assert_eq!(summary["rows"], 49);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(summary["bytes"], bytes.len());
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    assert!(summary["seconds"].as_f64().is_some() && summary["rows_per_s"].as_f64().is_some(), "{summary}");
    assert_eq!(files_in(&dir), vec!["pool_state.parquet"], "no temporary file left");

    let pool_columns = columns(&[
        ("block_number", "int64"),
        ("timestamp", "timestamp[us, tz=UTC]"),
        ("netuid", "int32"),
        ("tao_rao", "int64"),
        ("tao", "float64"),
        ("alpha_in_rao", "int64"),
        ("alpha_in", "float64"),
        ("alpha_out_rao", "int64"),
        ("alpha_out", "float64"),
        ("price", "float64"),
        ("price_source", "string"),
        ("moving_price", "float64"),
        ("sqrt_price", "float64"),
        ("balancer_quote", "float64"),
        ("tao_in_emission_rao", "int64"),
        ("tao_in_emission", "float64"),
        ("alpha_in_emission_rao", "int64"),
        ("alpha_in_emission", "float64"),
        ("alpha_out_emission_rao", "int64"),
        ("alpha_out_emission", "float64"),
        ("volume_rao", "float64"),
        ("volume", "float64"),
    ]);
    pyarrow_check(
        &out,
        &json!({
            "rows": 49,
            "columns": pool_columns.clone(),
            "values": {
                "block_number": [2, 3],
                "timestamp": ["2025-01-01T00:00:24+00:00", "2025-01-01T00:00:36+00:00"],
                "tao": [2.0, 3.0],
                "moving_price": [0.5, null],
                "price_source": ["reserves", "reserves"],
            },
        }),
    );

    let out = dir.join("emissions.parquet");
    let run = export(db.url(), &out, &["emissions"]);
    assert!(run.status.success(), "stderr: {}", String::from_utf8_lossy(&run.stderr));
    let amount = |name: &str| [(format!("{name}_rao"), "int64"), (name.to_string(), "float64")];
    let mut emission_columns: Vec<(String, &str)> = [
        ("netuid", "int32"),
        ("day", "date32"),
        ("first_block", "int64"),
        ("last_block", "int64"),
        ("blocks", "int32"),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t))
    .collect();
    for name in
        ["tao_in", "alpha_in", "alpha_out", "owner_alpha", "miner_alpha", "validator_alpha", "root_alpha"]
    {
        emission_columns.extend(amount(name));
    }
    emission_columns.push(("tao_share".to_string(), "float64"));
    for name in ["cum_tao_in", "cum_alpha_in", "cum_alpha_out"] {
        emission_columns.extend(amount(name));
    }
    emission_columns.push(("era".to_string(), "string"));
    let emission_columns: Vec<(&str, &str)> =
        emission_columns.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    pyarrow_check(
        &out,
        &json!({ "rows": 1, "columns": columns(&emission_columns), "values": { "tao_in": [1.0] } }),
    );

    let out = dir.join("yuma_audit.parquet");
    let run = export(db.url(), &out, &["yuma_audit", "--netuid", "1"]);
    assert!(run.status.success(), "stderr: {}", String::from_utf8_lossy(&run.stderr));
    pyarrow_check(
        &out,
        &json!({
            "rows": 2,
            "columns": columns(&[
                ("netuid", "int32"),
                ("block_number", "int64"),
                ("timestamp", "timestamp[us, tz=UTC]"),
                ("uids", "int32"),
                ("validators", "int32"),
                ("bonds_model", "string"),
                ("tolerance", "float64"),
                ("max_incentive_dev", "float64"),
                ("max_dividends_dev", "float64"),
                ("max_deviation", "float64"),
                ("uids_beyond", "list<int32>"),
                ("status", "string"),
                ("note", "string"),
            ]),
            "values": { "uids_beyond": [[2, 3], []], "note": [null, null] },
        }),
    );

    // Nothing matches: still a valid file, with every column.
    let out = dir.join("empty.parquet");
    let run = export(db.url(), &out, &["pool_state", "--from-block", "1000"]);
    assert!(run.status.success(), "stderr: {}", String::from_utf8_lossy(&run.stderr));
    let summary: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["rows"], 0);
    pyarrow_check(&out, &json!({ "rows": 0, "columns": pool_columns }));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failed_exports_leave_no_file() {
    let dir = scratch("failed");
    let out = dir.join("x.parquet");

    let run = export("postgres://postgres@127.0.0.1:1/taoscope", &out, &["pool_state"]);
    assert_one_line_error(&run, "127.0.0.1:1");
    let run = export("postgres://postgres@127.0.0.1:1/taoscope", &out, &["nope"]);
    assert_one_line_error(&run, "unknown dataset \"nope\"");
    let run = export("postgres://postgres@127.0.0.1:1/taoscope", &out, &["blocks", "--netuid", "1"]);
    assert_one_line_error(&run, "`netuid` does not apply");
    let run = export("postgres://postgres@127.0.0.1:1/taoscope", &out, &["candles", "--interval", "2h"]);
    assert_one_line_error(&run, "`interval` must be one of");
    assert!(files_in(&dir).is_empty(), "{:?}", files_in(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}
