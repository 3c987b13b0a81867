//! `taoscope yuma --input FILE.json`: the Yuma Consensus replay, JSON in, JSON out.

use std::io::{Read, Write};

use anyhow::Context;

use crate::cli::YumaArgs;

/// Runs the command.
pub fn run(args: YumaArgs) -> anyhow::Result<()> {
    let text = if args.input.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read standard input")?;
        text
    } else {
        std::fs::read_to_string(&args.input)
            .with_context(|| format!("cannot read {}", args.input.display()))?
    };
    let output = taoscope_analytics::yuma_replay::replay_json(&text)
        .with_context(|| format!("{}", args.input.display()))?;
    let mut stdout = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut stdout, &output)
        .map_err(std::io::Error::from)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    match written {
        // The reader went away (`| head`).
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}
