//! Fault injection for resilience tests ([`crate::node::Faults`]): a per-connection RPC
//! middleware that drops the connection (shuts the TCP socket down, so WebSocket clients see it
//! close mid-session) or delays the answer, and [`FaultDice::garble`], which the data-bearing
//! methods apply to their hex answers. Faults draw from their own RNG, never the chain's, and
//! touch only answers: a retry reads the same, correct chain.

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use jsonrpsee::core::middleware::{Batch, Notification, RpcServiceT};
use jsonrpsee::types::Request;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::node::Faults;

/// The faults in force, the RNG that decides them and how many were injected.
pub struct FaultDice {
    faults: Faults,
    rng: Mutex<ChaCha8Rng>,
    drops: AtomicU64,
    slows: AtomicU64,
    garbles: AtomicU64,
}

/// How many faults a server injected (so a test can tell that it really met them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Connections shut down.
    pub drops: u64,
    /// Answers delayed.
    pub slows: u64,
    /// Answers corrupted.
    pub garbles: u64,
}

impl FaultDice {
    /// Dice for `faults`, seeded apart from the chain's RNG.
    pub fn new(faults: Faults, seed: u64) -> FaultDice {
        FaultDice {
            faults,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0xfa01_75fa_0175_fa01)),
            drops: AtomicU64::new(0),
            slows: AtomicU64::new(0),
            garbles: AtomicU64::new(0),
        }
    }

    /// Faults injected so far.
    pub fn counts(&self) -> FaultCounts {
        FaultCounts {
            drops: self.drops.load(Ordering::Relaxed),
            slows: self.slows.load(Ordering::Relaxed),
            garbles: self.garbles.load(Ordering::Relaxed),
        }
    }

    fn count(counter: &AtomicU64, happened: bool) -> bool {
        if happened {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        happened
    }

    fn roll(&self, p: f64) -> bool {
        p > 0.0 && self.rng.lock().expect("fault rng").random_bool(p.min(1.0))
    }

    /// Whether to corrupt this answer.
    pub fn garbage(&self) -> bool {
        Self::count(&self.garbles, self.roll(self.faults.garbage))
    }

    /// Corrupts a `0x` hex answer when the dice say so: the bytes are cut to half their length
    /// (an empty value becomes one stray byte), so SCALE decoding runs out of input.
    pub fn garble(&self, hex: String) -> String {
        if self.garbage() { corrupt(&hex) } else { hex }
    }
}

/// `hex` with its bytes cut in half.
pub fn corrupt(hex: &str) -> String {
    let bytes = hex.len().saturating_sub(2) / 2;
    if bytes == 0 { "0x00".into() } else { hex[..2 + bytes / 2 * 2].to_string() }
}

/// One connection's RPC service with drop and slow faults.
#[derive(Clone)]
pub struct FaultService<S> {
    /// The wrapped service.
    pub inner: S,
    /// The dice.
    pub dice: Arc<FaultDice>,
    /// A handle on the connection's socket, to shut it down.
    pub socket: Option<Arc<TcpStream>>,
}

impl<S> FaultService<S> {
    /// Rolls for a drop (shutting the socket down at once) and returns the delay to apply.
    fn before_answer(&self) -> Option<std::time::Duration> {
        let dice = &self.dice;
        if let Some(socket) = &self.socket
            && FaultDice::count(&dice.drops, dice.roll(dice.faults.drop))
        {
            tracing::debug!("fault injection: dropping a connection");
            let _ = socket.shutdown(Shutdown::Both);
        }
        FaultDice::count(&dice.slows, dice.roll(dice.faults.slow)).then_some(dice.faults.slow_delay)
    }
}

impl<S> RpcServiceT for FaultService<S>
where
    S: RpcServiceT + Send + Sync + Clone + 'static,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        let delay = self.before_answer();
        let inner = self.inner.clone();
        async move {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            inner.call(request).await
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        let delay = self.before_answer();
        let inner = self.inner.clone();
        async move {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            inner.batch(batch).await
        }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.inner.notification(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corruption_halves_the_bytes() {
        assert_eq!(corrupt("0x0102030405"), "0x0102");
        assert_eq!(corrupt("0x01"), "0x");
        assert_eq!(corrupt("0x"), "0x00");
        let dice = FaultDice::new(Faults { garbage: 1.0, ..Faults::default() }, 1);
        assert_eq!(dice.garble("0xaabbccdd".into()), "0xaabb");
        let none = FaultDice::new(Faults::default(), 1);
        assert_eq!(none.garble("0xaabbccdd".into()), "0xaabbccdd");
    }
}
