//! Analytics over indexed history (DESIGN.md §Data flow 4): candles, TWAP, market caps,
//! emissions per subnet per day, net TAO flows, rankings and the Yuma replay and audit, computed
//! with Polars lazy frames from PostgreSQL and written back to analytics tables and Parquet.
//!
//! The crate is part of the workspace from the first slice so that the dependency graph is the
//! final one (`schema` and `math` below it, the binary above it); its jobs arrive with the
//! analytics issue, together with the tables the indexer fills for them.
