//! An embedded subtensor-like chain that Substrate clients cannot tell from a node.
//!
//! The devnet generates its own metadata (scale-info + frame-metadata) with finney's pallet and
//! item names and SCALE types, simulates dTAO economics (pools, stakers, emission, epochs running
//! Yuma Consensus, registrations, weights, a runtime upgrade) deterministically from a seed, and
//! serves it over the Substrate JSON-RPC API (WebSocket and HTTP on one port).

pub mod chain;
pub mod extrinsic;
pub mod node;
pub mod rpc;
pub mod runtime;
pub mod sim;

pub use node::{Devnet, DevnetConfig, DevnetError, Faults, FaultsParseError, ForkSchedule};
pub use rpc::{FaultCounts, RpcServer, serve};
