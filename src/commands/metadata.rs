//! `taoscope metadata inspect|decode`: operator tools over a runtime metadata blob.

use crate::cli::MetadataCmd;

/// Runs the command.
pub fn run(args: MetadataCmd) -> anyhow::Result<()> {
    match args {
        MetadataCmd::Inspect { file, .. } | MetadataCmd::Decode { metadata: file, .. } => {
            anyhow::bail!("metadata tools are not built yet ({})", file.display())
        }
    }
}
