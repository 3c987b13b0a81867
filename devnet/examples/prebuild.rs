//! Builds a devnet and prints how long it took and how much memory it holds:
//! `cargo run --release -p taoscope-devnet --example prebuild -- 20000 64`.

use std::time::Instant;

use taoscope_devnet::{Devnet, DevnetConfig};

fn rss_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let blocks: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let subnets: u16 = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let start = Instant::now();
    let devnet = Devnet::new(DevnetConfig { subnets, prebuilt: blocks, ..DevnetConfig::default() })
        .expect("valid settings");
    let took = start.elapsed();
    let chain = devnet.chain();
    println!(
        "{subnets} subnets x {blocks} blocks: built in {:.1} s ({:.0} blocks/s), RSS {:.0} MB (peak {:.0} MB)",
        took.as_secs_f64(),
        f64::from(blocks) / took.as_secs_f64(),
        rss_mb("VmRSS:"),
        rss_mb("VmHWM:"),
    );
    println!("state: {}", chain.state_stats());
}
