//! `mask_requests(n, memo_texts)`: masks the 1 MB Claude-like body of the
//! gateway benchmark `n` times with one engine (the detection memo holding
//! `memo_texts` texts: 0 for never-seen text, more for resent text) and
//! returns the total size of the masked bodies. `scripts/bench_v8.sh` runs
//! it in Node's V8 under callgrind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use aws_masker::config::Config;
use aws_masker::mask::{Engine, MaskReport};

include!("../../../tests/gateway/claude_like_body.rs");

#[no_mangle]
pub extern "C" fn mask_requests(n: u32, memo_texts: u32) -> u64 {
    let config =
        Config::from_json(format!(r#"{{"memo_texts": {memo_texts}}}"#).as_bytes()).expect("config");
    let engine = Engine::new(config, b"v8 bench secret, 16 bytes or more");
    let body = claude_like_body(1_000_000);
    let mut total = 0u64;
    for _ in 0..n {
        let mut tokens = engine.new_token_map();
        let masked = engine
            .mask_json(&body, &mut tokens, &mut MaskReport::default())
            .expect("the benchmark body is valid JSON");
        total += masked.map_or(0, |m| m.len() as u64);
    }
    total
}
