//! Integration tests of the API router, each against its own fresh PostgreSQL database and
//! driven through `tower::ServiceExt::oneshot` (no sockets, except the `serve` test).

mod blocks;
mod probes;
mod sdl;
mod serve;
mod status;
mod support;
