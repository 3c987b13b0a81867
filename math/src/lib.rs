//! taoscope-math: the economics of the Bittensor chain (subtensor) as pure functions.
//!
//! Written once and shared by the devnet simulator (which runs it every block) and the analytics
//! replay (which re-runs it on indexed data). No I/O, no global state, std only; every function is
//! total (no panics on degenerate input).
//!
//! - [`decimal`]: exact decimal renderings of fixed-point values and era prices, for storage.
//! - [`fixed`]: the chain's fixed-point storage encodings (I96F32, U64F64, I64F64, u16 proportions).
//! - [`pool`]: subnet pools — constant-product swaps, fees, and the Uniswap-v3 sqrt-price/tick view.
//! - [`emission`]: halving schedule, TAO split among subnets, per-subnet alpha emission and its split.
//! - [`moving_price`]: the subnet price EMA.
//! - [`yuma`]: the Yuma Consensus epoch (Yuma 2), in `f64` or in the chain's exact `I32F32`.
//!
//! Each item names the subtensor release (and runtime `spec_version`) whose code it follows.

pub mod decimal;
pub mod emission;
pub mod fixed;
pub mod moving_price;
pub mod pool;
pub mod yuma;

mod wide;
