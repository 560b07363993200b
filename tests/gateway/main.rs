//! Gateway tests: the filter in a real Envoy (end to end, against a mock
//! Anthropic API), the Envoy configuration files, and the Kong files
//! (schema, declarative configs) checked against the filter's own parser.
//!
//! Envoy comes from `AWS_MASKER_ENVOY` (default `.venv/bin/envoy`, `make
//! envoy`), the filter from `AWS_MASKER_WASM` (default the release build,
//! `make build`); either missing fails the tests. `make test` sets both.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod bench;
#[path = "../support/claude_like.rs"]
mod claude_like;
mod client;
mod clients;
#[path = "../support/corpus.rs"]
mod corpus;
mod envoy;
mod envoy_config;
mod fail_closed;
mod fixtures;
mod h2;
mod harness;
mod kong;
mod kong_conf;
mod mock;
#[path = "../support/realistic.rs"]
mod realistic;
mod schema;
mod scripted;
#[path = "../support/splitmix.rs"]
mod splitmix;
