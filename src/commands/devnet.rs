//! `taoscope devnet`: the embedded chain on a port, producing blocks until stopped.

use crate::cli::DevnetCmd;

/// Runs the command.
pub async fn run(args: DevnetCmd) -> anyhow::Result<()> {
    let cancel = crate::shutdown::on_signal();
    let config = args.devnet.config(args.prebuilt);
    let devnet = tokio::task::spawn_blocking(move || taoscope_devnet::Devnet::new(config)).await??;
    let server = taoscope_devnet::serve(devnet.clone(), args.listen).await?;
    println!(
        "devnet: {} (HTTP {}), {} subnets, best block #{}, a block every {}",
        server.ws_url(),
        server.http_url(),
        args.devnet.subnets,
        devnet.chain().best().header.number,
        humantime::format_duration(args.devnet.block_time),
    );
    devnet.run(cancel).await;
    server.stop().await;
    Ok(())
}
