//! `taoscope metadata inspect|decode`: operator tools over a runtime metadata blob.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use taoscope_indexer::inspect::{self, Loaded};

use crate::cli::MetadataCmd;

/// Runs the command.
pub fn run(args: MetadataCmd) -> anyhow::Result<()> {
    let out = match args {
        MetadataCmd::Inspect { file, json } => {
            let loaded = read(&file)?;
            if json { format!("{:#}\n", inspect::inspect(&loaded)) } else { inspect::inspect_text(&loaded) }
        }
        MetadataCmd::Decode { metadata, item, key, value } => {
            let loaded = read(&metadata)?;
            let key = inspect::parse_hex(&key).context("--key")?;
            let value = value.map(|v| inspect::parse_hex(&v)).transpose().context("--value")?;
            let decoded = inspect::decode_storage(&loaded, &item, &key, value.as_deref())
                .with_context(|| format!("{}", metadata.display()))?;
            format!("{decoded}\n")
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()) {
        // The reader went away (`| head`): what it wanted was printed.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

fn read(path: &Path) -> anyhow::Result<Loaded> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    inspect::load(&bytes).with_context(|| format!("{}", path.display()))
}
