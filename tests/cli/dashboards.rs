//! The Grafana dashboard in `dashboards/` parses, and every metric it charts is one the indexer
//! or the API emits (a renamed metric would otherwise leave an empty panel).

use std::collections::BTreeSet;
use std::path::Path;

fn sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).expect("readable source tree").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).expect("a source file"));
        }
    }
}

/// `taoscope_…` names in a PromQL expression, without the histogram series suffixes.
fn metrics(expr: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("taoscope_") {
        let name: String =
            rest[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        rest = &rest[at + name.len()..];
        let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(&name);
        found.push(base.to_string());
    }
    found
}

#[test]
fn every_charted_metric_is_emitted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut code = String::new();
    for crate_dir in ["src", "indexer/src", "api/src", "analytics/src"] {
        sources(&root.join(crate_dir), &mut code);
    }
    let text = std::fs::read_to_string(root.join("dashboards/taoscope.json")).expect("the dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    let ids: BTreeSet<i64> = panels.iter().map(|p| p["id"].as_i64().expect("a panel id")).collect();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    let mut charted = BTreeSet::new();
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        let targets = panel["targets"].as_array().unwrap_or_else(|| panic!("no targets: {}", panel["title"]));
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().expect("a PromQL expression");
            let names = metrics(expr);
            assert!(!names.is_empty(), "{expr}");
            charted.extend(names);
        }
    }
    for name in &charted {
        assert!(code.contains(&format!("\"{name}\"")), "the dashboard charts {name}, which nothing emits");
    }
    // Both services are on it.
    assert!(charted.iter().any(|m| m.starts_with("taoscope_api_")));
    assert!(charted.contains("taoscope_indexed_height"));
}
