//! `taoscope`: the one binary. Subcommands wire the library crates together: `up` runs
//! everything on one machine, `devnet`, `index`, `serve` and `migrate` run one part each.

mod cli;
mod commands;
mod database;
mod progress;
mod shutdown;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, LogFormat};

/// mimalloc: decoding and row building allocate many small short-lived values, which the
/// system allocator serves markedly slower (measured by `taoscope bench index`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_tracing(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(progress::interactive())
        .with_writer(|| progress::LogWriter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_target(false).init(),
    }
}

/// The error as one line: its message and its causes, outermost first.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        // Skip causes already contained in the previous message (thiserror `#[error("...: {0}")]`).
        if !parts.last().is_some_and(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log, cli.log_format);
    let result = match cli.command {
        Command::Up(args) => commands::up::run(args).await,
        Command::Devnet(args) => commands::devnet::run(args).await,
        Command::Index(args) => commands::index::run(args).await,
        Command::Serve(args) => commands::serve::run(args).await,
        Command::Analytics(args) => commands::analytics::run(args).await,
        Command::Migrate(args) => commands::migrate::run(args).await,
        Command::Metadata(args) => commands::metadata::run(args),
        Command::Bench(args) => commands::bench::run(args).await,
        Command::Yuma(args) => commands::yuma::run(args),
        Command::Export(args) => commands::export::run(args).await,
        Command::Model(args) => commands::model::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn errors_render_on_one_line_without_repeating_causes() {
        let inner = std::io::Error::other("connection refused");
        let e = anyhow::Error::new(inner).context("cannot connect to node");
        assert_eq!(one_line(&e), "cannot connect to node: connection refused");
        let e = anyhow::anyhow!("a\\nb");
        assert_eq!(one_line(&e), "a\\nb");
    }
}
