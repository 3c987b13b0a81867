//! A running devnet: the chain, the simulator that extends it, the block clock, and forks.
//!
//! Forks: [`Devnet::fork`] replaces the last `depth` (unfinalized) blocks with a different branch
//! one block longer, built from a copy of the simulator as it was after the fork point with its
//! RNG reseeded by a fork counter. Copies are kept only for the blocks a fork can return to (the
//! last `finality_lag + 1`). The same seed and the same sequence of `produce`/`fork` calls give
//! the same chain.

mod faults;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use self::faults::{Faults, FaultsParseError};
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
    /// Forks [`Devnet::run`] makes while producing (`None`: never).
    pub forks: Option<ForkSchedule>,
    /// Faults the RPC server injects into answers (none by default).
    pub faults: Faults,
}

/// A live fork schedule: after every `every` produced blocks, fork with `depth`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForkSchedule {
    /// Produced blocks between forks.
    pub every: u32,
    /// Blocks each fork replaces (below `finality_lag`).
    pub depth: u32,
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
            forks: None,
            faults: Faults::default(),
        }
    }
}

/// Why a devnet could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// A setting is out of range.
    #[error("invalid devnet setting: {0}")]
    InvalidConfig(String),
    /// A fork would replace finalized blocks (or none).
    #[error(
        "cannot fork {depth} blocks: best is #{best}, finalized #{finalized}; a fork replaces 1 to {max} unfinalized blocks"
    )]
    InvalidFork {
        /// The depth asked for.
        depth: u32,
        /// The best block number.
        best: u32,
        /// The finalized block number.
        finalized: u32,
        /// The deepest fork possible now.
        max: u32,
    },
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
        if let Some(f) = self.forks {
            if f.every == 0 {
                return bad("--forks: every must be at least 1".into());
            }
            if f.depth == 0 || f.depth >= self.finality_lag {
                return bad(format!(
                    "--forks: depth must be 1..{} (below the finality lag {}), got {}",
                    self.finality_lag, self.finality_lag, f.depth
                ));
            }
        }
        self.faults.validate()?;
        Ok(())
    }
}

/// The simulator and the copies of it a fork can return to.
struct Builder {
    sim: Simulator,
    /// `(n, simulator after block n)` for the last `finality_lag + 1` blocks.
    snapshots: VecDeque<(u32, Simulator)>,
    /// Forks made so far (seeds each new branch).
    forks: u64,
    /// Blocks produced by [`Devnet::step`].
    steps: u64,
}

/// A devnet chain that grows by one block per [`Devnet::produce`].
pub struct Devnet {
    chain: RwLock<Chain>,
    builder: Mutex<Builder>,
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
        let snapshots = VecDeque::from([(0, sim.clone())]);
        let builder = Mutex::new(Builder { sim, snapshots, forks: 0, steps: 0 });
        let devnet = Arc::new(Devnet { chain: RwLock::new(chain), builder, best, config });
        {
            let mut b = devnet.builder();
            let mut chain = devnet.chain.write().expect("chain lock");
            let keep_from = devnet.config.prebuilt.saturating_sub(devnet.config.finality_lag);
            for n in 1..=devnet.config.prebuilt {
                devnet.build_onto(&mut b, &mut chain, n >= keep_from);
            }
            chain.shrink_to_fit();
            devnet.best.send_replace(devnet.config.prebuilt);
        }
        Ok(devnet)
    }

    fn builder(&self) -> MutexGuard<'_, Builder> {
        self.builder.lock().expect("builder lock")
    }

    /// Builds the next block on the best one; keeps a simulator copy when `snapshot` (a fork
    /// may return to this block).
    fn build_onto(&self, b: &mut Builder, chain: &mut Chain, snapshot: bool) -> u32 {
        let built = b.sim.build_block(chain.best().hash);
        let number = chain.push(built).header.number;
        if snapshot {
            b.snapshots.push_back((number, b.sim.clone()));
            while b.snapshots.len() > self.config.finality_lag as usize + 1 {
                b.snapshots.pop_front();
            }
        }
        number
    }

    /// Builds and imports the next block; returns its number.
    pub fn produce(&self) -> u32 {
        let mut b = self.builder();
        let number = self.build_onto(&mut b, &mut self.chain.write().expect("chain lock"), true);
        self.best.send_replace(number);
        number
    }

    /// Replaces the last `depth` blocks of the best chain (all above the finalized head) with a
    /// different branch of `depth + 1` blocks; returns the new best number. The abandoned
    /// blocks stay retrievable by hash; their state is gone (storage queries at them fail as on
    /// a pruned node).
    pub fn fork(&self, depth: u32) -> Result<u32, DevnetError> {
        let mut b = self.builder();
        let mut chain = self.chain.write().expect("chain lock");
        let (best, finalized) = (chain.best().header.number, chain.finalized().header.number);
        let max = (best - finalized).min(self.config.finality_lag);
        let base = best.checked_sub(depth).filter(|_| (1..=max).contains(&depth));
        let snapshot = base.and_then(|base| b.snapshots.iter().find(|(n, _)| *n == base));
        let (Some(base), Some((_, sim))) = (base, snapshot) else {
            return Err(DevnetError::InvalidFork { depth, best, finalized, max });
        };
        b.sim = sim.clone();
        b.snapshots.retain(|(n, _)| *n <= base);
        b.forks += 1;
        let fork = b.forks;
        b.sim.reseed(fork);
        chain.rewind(base);
        let mut number = base;
        for _ in 0..=depth {
            number = self.build_onto(&mut b, &mut chain, true);
        }
        tracing::debug!(depth, base, best = number, fork, "devnet forked");
        drop(chain);
        self.best.send_replace(number);
        Ok(number)
    }

    /// Forks made so far.
    pub fn fork_count(&self) -> u64 {
        self.builder().forks
    }

    /// One tick of the block clock: produces a block, then forks when the schedule says so.
    /// Returns the best block number.
    pub fn step(&self) -> Result<u32, DevnetError> {
        let mut number = self.produce();
        let steps = {
            let mut b = self.builder();
            b.steps += 1;
            b.steps
        };
        if let Some(f) = self.config.forks
            && steps.is_multiple_of(u64::from(f.every))
        {
            number = self.fork(f.depth)?;
        }
        Ok(number)
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

    /// Produces a block every `block_time` (forking on the schedule) until cancelled.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(self.config.block_time);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tick.tick() => {
                    let me = self.clone();
                    match tokio::task::spawn_blocking(move || me.step()).await.expect("block production") {
                        Ok(n) => tracing::debug!(block = n, "devnet produced block"),
                        Err(e) => tracing::warn!(error = %e, "devnet fork skipped"),
                    }
                }
            }
        }
    }
}
