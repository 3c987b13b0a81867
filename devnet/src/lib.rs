//! taoscope-devnet
