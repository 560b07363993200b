//! The jobs whose instructions `make bench-v8` (in Node's V8, the
//! `.wasm` of this package) and `make bench-native` (natively,
//! benches/instructions.rs) count under callgrind: the same code in both,
//! on the same files, which `instructions write DIR` writes from the
//! realistic bodies of tests/support/realistic.rs.
//!
//! A job runs `n` times; the scripts count `n = 1` and `n = 4` and divide
//! the difference by 3, which leaves out start-up, reading the files and
//! building the token map an answer is restored with.

use aws_masker::config::Config;
use aws_masker::mask::{Engine, MaskReport};
use aws_masker::restore::restore_json;
use aws_masker::stream::{ChunkRestorer, JsonStreamRestorer, SseRestorer};
use aws_masker::token::TokenMap;

/// The token secret of every job, so the `.wasm` and the native harness
/// issue the same tokens as the files were written with.
pub const SECRET: &[u8] = b"instruction bench secret, 16 bytes or more";

/// An engine with the detection memo holding `memo_texts` texts (0: every
/// text is scanned as never seen).
pub fn engine(memo_texts: u32) -> Engine {
    let config =
        Config::from_json(format!(r#"{{"memo_texts": {memo_texts}}}"#).as_bytes()).expect("config");
    Engine::new(config, SECRET)
}

fn read(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(format!("{dir}/{name}")).unwrap_or_else(|e| panic!("{dir}/{name}: {e}"))
}

/// The tokens the answers in `dir` hold: those of masking `answer.txt`.
fn answer_tokens(dir: &str) -> TokenMap {
    let text = String::from_utf8(read(dir, "answer.txt")).expect("UTF-8");
    let e = engine(0);
    let mut tokens = e.new_token_map();
    let _ = e.mask_text(&text, &mut tokens);
    tokens
}

/// Runs `job` (`args[0]`, with its arguments) `n` times on the files in
/// `dir`; returns the bytes written, so nothing is optimized away. With
/// `n = 0` it runs once and returns a digest (FNV-1a) of what it wrote,
/// which the scripts compare between the `.wasm` and the native build.
///
/// - `mask BODY new|resent`: masks `BODY.json`, each time with a fresh
///   token map, with the memo off (`new`: as never seen) or on (`resent`:
///   the first request fills it, the others are served by it);
/// - `restore-json`: restores `answer.json`, a 1 MB answer echoing about
///   500 tokens;
/// - `restore-json-stream`: the same answer restored as it passes, in
///   chunks of 16 KiB (as Kong hands it over);
/// - `restore-sse small|large`: restores `stream-small.sse` (deltas of 1
///   to 32 bytes, as Claude streams) or `stream-large.sse` (1 to 2048),
///   the same answer, pushed one event at a time as the upstream flushes
///   them.
pub fn run(dir: &str, args: &[String], n: usize) -> u64 {
    let arg = |i: usize| args.get(i).map_or("", String::as_str);
    let check = n == 0;
    let n = n.max(1);
    let mut total = if check { 0xcbf2_9ce4_8422_2325 } else { 0 };
    let mut sink = |out: &[u8]| {
        if check {
            for &b in out {
                total = (total ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
        } else {
            total += out.len() as u64;
        }
    };
    match arg(0) {
        "mask" => {
            let body = read(dir, &format!("{}.json", arg(1)));
            let e = engine(if arg(2) == "resent" { 4096 } else { 0 });
            for _ in 0..n {
                let mut tokens = e.new_token_map();
                let masked = e
                    .mask_json(&body, &mut tokens, &mut MaskReport::default())
                    .expect("the body is JSON");
                sink(masked.as_deref().unwrap_or(&body));
            }
        }
        "restore-json" => {
            let tokens = answer_tokens(dir);
            let answer = read(dir, "answer.json");
            for _ in 0..n {
                let (out, restored) = restore_json(&tokens, &answer, false);
                assert!(restored >= 400, "only {restored} tokens restored");
                sink(out.as_deref().unwrap_or(&answer));
            }
        }
        "restore-json-stream" => {
            // As Kong hands an answer over: chunks of 16 KiB, restored as
            // they pass.
            let tokens = answer_tokens(dir);
            let answer = read(dir, "answer.json");
            let mut out = Vec::with_capacity(answer.len() + answer.len() / 4);
            for _ in 0..n {
                out.clear();
                let mut r = JsonStreamRestorer::new(tokens.clone(), false);
                for chunk in answer.chunks(16 * 1024) {
                    r.push(chunk, &mut out);
                }
                r.finish(&mut out);
                assert!(r.restored() >= 400, "only {} tokens restored", r.restored());
                sink(&out);
            }
        }
        "restore-sse" => {
            let tokens = answer_tokens(dir);
            let stream = read(dir, &format!("stream-{}.sse", arg(1)));
            // One event per push: its lines up to the blank line.
            let mut events: Vec<&[u8]> = Vec::new();
            let mut at = 0;
            while let Some(k) = stream[at..].windows(2).position(|w| w == b"\n\n") {
                events.push(&stream[at..at + k + 2]);
                at += k + 2;
            }
            let mut out = Vec::with_capacity(stream.len() + stream.len() / 4);
            for _ in 0..n {
                out.clear();
                let mut r = SseRestorer::new(tokens.clone(), false);
                for e in &events {
                    r.push(e, &mut out);
                }
                r.finish(&mut out);
                assert!(r.restored() >= 400, "only {} tokens restored", r.restored());
                sink(&out);
            }
        }
        other => panic!("unknown job {other:?}"),
    }
    total
}
