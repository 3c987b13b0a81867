//! End-to-end tests of the `taoscope` binary: devnet → indexer → PostgreSQL → API in one
//! process, signals, and how each kind of bad input is reported.

mod analytics;
mod bad_input;
mod compose;
mod crash;
mod dashboards;
mod export;
mod metadata;
mod support;
mod up;
mod yuma;
