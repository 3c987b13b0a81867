//! Integration tests of the API router, each against its own fresh PostgreSQL database and
//! driven through `tower::ServiceExt::oneshot` (no sockets, except the `serve` test).

mod audit;
mod blocks;
mod cache;
mod exports;
mod hostile;
mod live;
mod probes;
mod queries;
mod sdl;
mod serve;
mod status;
mod support;
mod world;
