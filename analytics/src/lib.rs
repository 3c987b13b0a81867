//! Analytics over indexed history (DESIGN.md §Data flow 4): candles, TWAP, market caps,
//! emissions per subnet per day, net TAO flows, rankings and the Yuma replay and audit, computed
//! with Polars lazy frames from PostgreSQL and written back to analytics tables and Parquet.
//!
//! [`yuma_replay`] replays Yuma Consensus over a sequence of epochs given as JSON
//! (`taoscope yuma`); the other jobs arrive with the rest of the analytics issue.

pub mod yuma_replay;
