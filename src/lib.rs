//! aws-masker: keeps AWS identifiers and secrets out of LLM traffic.
//!
//! A proxy-wasm HTTP filter (Envoy, Kong) that masks every AWS identifier in
//! a request body before it reaches the model provider and restores the
//! originals in the response, streamed or not. The engine in this crate
//! (detection, tokens, JSON walking, stream restoring) is host-agnostic and
//! builds natively; only [`filter`](crate) (compiled for `wasm32`) talks to
//! the proxy-wasm host.
//!
//! ```
//! use aws_masker::{config::Config, mask::Engine, token::TokenMap};
//!
//! let engine = Engine::new(Config::default(), b"a secret shared by all gateways");
//! let mut tokens = TokenMap::new(engine.config().token_prefix.clone());
//! let masked = engine.mask_text("stop i-0123456789abcdef0 now", &mut tokens);
//! assert!(!masked.contains("i-0123456789abcdef0"));
//! let restored = aws_masker::restore::Restorer::new(&tokens).restore_text(&masked);
//! assert_eq!(restored, "stop i-0123456789abcdef0 now");
//! ```
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub(crate) mod chunked;
pub mod config;
pub(crate) mod detect;
pub mod exchange;
pub(crate) mod head_index;
pub mod json;
// Natively only the word starts of propagation use the lanes (as SWAR);
// the `.wasm`'s string scan uses the rest.
#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]
mod lanes;
pub mod mask;
mod masker;
pub(crate) mod propagate;
pub mod restore;
pub mod splice;
pub mod stream;
mod string_scan;
#[cfg(test)]
mod test_rng;
pub mod token;
mod tool_commands;
mod utf8;

pub use detect::{Family, MemoStats};
pub use mask::BodyKind;
pub use masker::{
    restore_json, restore_text, stream_restorer, BuildError, Found, Masked, Masker, MaskerBuilder,
};

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod filter;
