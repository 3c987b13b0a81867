//! A running devnet: the chain, the simulator that extends it, and the block clock.

use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::chain::Chain;
use crate::sim::{SimConfig, Simulator};

/// Settings of a devnet (`taoscope devnet` flags).
#[derive(Clone, Debug)]
pub struct DevnetConfig {
    /// Dynamic subnets (1–128).
    pub subnets: u16,
    /// Blocks built before serving.
    pub prebuilt: u32,
    /// RNG seed: the same seed gives the same chain, hash for hash.
    pub seed: u64,
    /// Wall-clock time between live blocks.
    pub block_time: Duration,
    /// How many blocks the finalized head trails the best head.
    pub finality_lag: u32,
    /// Block that upgrades the runtime from spec 233 to 343 (`None`: never).
    pub upgrade_at: Option<u32>,
    /// Subnet tempo.
    pub tempo: u16,
    /// Uids per subnet.
    pub max_uids: u16,
    /// Mean stake trades per block.
    pub trades_per_block: u32,
}

impl Default for DevnetConfig {
    fn default() -> Self {
        DevnetConfig {
            subnets: 16,
            prebuilt: 0,
            seed: 42,
            block_time: Duration::from_secs(1),
            finality_lag: 2,
            upgrade_at: Some(200),
            tempo: 99,
            max_uids: 32,
            trades_per_block: 6,
        }
    }
}

/// Why a devnet could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// A setting is out of range.
    #[error("invalid devnet setting: {0}")]
    InvalidConfig(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl DevnetConfig {
    /// Checks the ranges a real chain would allow.
    pub fn validate(&self) -> Result<(), DevnetError> {
        let bad = |m: String| Err(DevnetError::InvalidConfig(m));
        if !(1..=128).contains(&self.subnets) {
            return bad(format!("--subnets must be 1..=128, got {}", self.subnets));
        }
        if self.tempo == 0 {
            return bad("--tempo must be at least 1".into());
        }
        if !(8..=4096).contains(&self.max_uids) {
            return bad(format!("max uids must be 8..=4096, got {}", self.max_uids));
        }
        if self.block_time < Duration::from_millis(10) {
            return bad(format!("--block-time must be at least 10ms, got {:?}", self.block_time));
        }
        if self.upgrade_at == Some(0) {
            return bad("the runtime upgrade block must be at least 1".into());
        }
        Ok(())
    }
}

/// A devnet chain that grows by one block per [`Devnet::produce`].
pub struct Devnet {
    chain: RwLock<Chain>,
    sim: Mutex<Simulator>,
    best: watch::Sender<u32>,
    config: DevnetConfig,
}

impl Devnet {
    /// Builds genesis and the prebuilt history.
    pub fn new(config: DevnetConfig) -> Result<Arc<Devnet>, DevnetError> {
        config.validate()?;
        let (sim, genesis) = Simulator::genesis(SimConfig {
            subnets: config.subnets,
            seed: config.seed,
            tempo: config.tempo,
            max_uids: config.max_uids,
            upgrade_at: config.upgrade_at,
            trades_per_block: config.trades_per_block,
        });
        let chain = Chain::new(genesis, config.finality_lag);
        let (best, _) = watch::channel(0);
        let devnet = Arc::new(Devnet { chain: RwLock::new(chain), sim: Mutex::new(sim), best, config });
        for _ in 0..devnet.config.prebuilt {
            devnet.produce();
        }
        devnet.chain.write().expect("chain lock").shrink_to_fit();
        Ok(devnet)
    }

    /// Builds and imports the next block; returns its number.
    pub fn produce(&self) -> u32 {
        let mut sim = self.sim.lock().expect("simulator lock");
        let parent = self.chain().best().hash;
        let built = sim.build_block(parent);
        let number = self.chain.write().expect("chain lock").push(built).header.number;
        self.best.send_replace(number);
        number
    }

    /// Read access to the chain.
    pub fn chain(&self) -> RwLockReadGuard<'_, Chain> {
        self.chain.read().expect("chain lock")
    }

    /// Notified with the best block number after each import.
    pub fn subscribe(&self) -> watch::Receiver<u32> {
        self.best.subscribe()
    }

    /// The settings.
    pub fn config(&self) -> &DevnetConfig {
        &self.config
    }

    /// Produces a block every `block_time` until cancelled.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(self.config.block_time);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tick.tick() => {
                    let me = self.clone();
                    let n = tokio::task::spawn_blocking(move || me.produce()).await.expect("block production");
                    tracing::debug!(block = n, "devnet produced block");
                }
            }
        }
    }
}
