//! Engine tests on realistic fixtures and random inputs, natively: a Claude
//! Code request in which no original survives masking and which restores
//! byte for byte, a clean corpus in which nothing is masked, and property
//! tests (no leak, round trip, idempotence, JSON validity).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod properties;
mod raw_literals;
mod real_world;
// Only `next` is used here.
#[allow(dead_code)]
#[path = "../support/splitmix.rs"]
mod splitmix;
#[path = "../support/tool_result.rs"]
mod tool_result;
mod vocabulary;

use aws_masker::config::Config;
use aws_masker::mask::{BodyKind, Engine, MaskReport};
use aws_masker::restore::{restore_json, Restorer};
use aws_masker::token::TokenMap;

const SECRET: &[u8] = b"engine tests secret, 32 bytes...";

fn engine() -> Engine {
    Engine::new(Config::default(), SECRET)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn originals() -> Vec<String> {
    String::from_utf8(fixture("claude_code_request.originals.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn claude_code_request_leaks_nothing_and_round_trips() {
    let e = engine();
    let input = fixture("claude_code_request.json");
    let mut tokens = e.new_token_map();
    let mut report = MaskReport::default();
    let masked = e
        .mask_body(&input, BodyKind::Json, &mut tokens, &mut report)
        .unwrap()
        .expect("the fixture is full of AWS identifiers");
    let masked_text = String::from_utf8(masked.clone()).unwrap();

    let leaks: Vec<String> = originals()
        .into_iter()
        .filter(|o| masked_text.contains(o.as_str()))
        .collect();
    assert!(leaks.is_empty(), "originals survived masking: {leaks:?}");

    // Still JSON, same shape; protected fields byte-identical.
    let before: serde_json::Value = serde_json::from_slice(&input).unwrap();
    let after: serde_json::Value = serde_json::from_slice(&masked).unwrap();
    let thinking = &before["messages"][1]["content"][0];
    assert_eq!(&after["messages"][1]["content"][0], thinking);
    let image = &before["messages"][4]["content"][3];
    assert_eq!(&after["messages"][4]["content"][3], image);
    assert_eq!(after["max_tokens"], before["max_tokens"]);
    assert!(report.total() >= 40, "{}", report.summary());

    // Restoring the masked request gives back the input byte for byte.
    let (restored, count) = restore_json(&tokens, &masked, false);
    assert!(count > 0);
    assert_eq!(
        String::from_utf8(restored.unwrap()).unwrap(),
        String::from_utf8(input).unwrap()
    );
}

#[test]
fn masking_is_deterministic_across_exchanges_and_engines() {
    let input = fixture("claude_code_request.json");
    let run = |e: &Engine| {
        let mut tokens = e.new_token_map();
        e.mask_body(
            &input,
            BodyKind::Json,
            &mut tokens,
            &mut MaskReport::default(),
        )
        .unwrap()
        .unwrap()
    };
    let first = run(&engine());
    assert_eq!(first, run(&engine()), "same secret, same tokens");
    let other = Engine::new(Config::default(), b"another secret for another fleet");
    assert_ne!(first, run(&other), "tokens depend on the secret");
}

#[test]
fn clean_corpus_is_left_alone() {
    let e = engine();
    let corpus = String::from_utf8(fixture("clean_corpus.txt")).unwrap();
    let mut tokens = e.new_token_map();
    let mut report = MaskReport::default();
    let masked = e.mask_text_report(&corpus, &mut tokens, &mut report);
    let issued: Vec<(String, &str)> = tokens.iter().collect();
    assert!(
        issued.is_empty(),
        "false positives in clean text: {issued:?} ({})",
        report.summary()
    );
    assert_eq!(masked, corpus);
}

#[test]
fn text_bodies_round_trip_exactly() {
    let e = engine();
    let text = String::from_utf8(fixture("claude_code_request.json")).unwrap();
    let mut tokens = e.new_token_map();
    let masked = e.mask_text(&text, &mut tokens);
    for o in originals() {
        assert!(!masked.contains(o.as_str()), "{o} survived text masking");
    }
    assert_eq!(Restorer::new(&tokens).restore_text(&masked), text);
}

#[test]
fn tokens_in_the_input_are_not_masked_again() {
    let e = engine();
    let input = fixture("claude_code_request.json");
    let mut tokens = e.new_token_map();
    let masked = e
        .mask_body(
            &input,
            BodyKind::Json,
            &mut tokens,
            &mut MaskReport::default(),
        )
        .unwrap()
        .unwrap();
    let mut again = e.new_token_map();
    let second = e
        .mask_body(
            &masked,
            BodyKind::Json,
            &mut again,
            &mut MaskReport::default(),
        )
        .unwrap();
    assert_eq!(second, None, "masking a masked body changes nothing");
    assert!(again.is_empty());
}

#[test]
fn invalid_bodies_are_errors_not_panics() {
    let e = engine();
    let mut tokens = TokenMap::new("AWS_".into());
    let mut r = MaskReport::default();
    let cases: &[(&[u8], BodyKind)] = &[
        (b"{\"a\": \"i-0123456789abcdef0\"", BodyKind::Json),
        (b"{\"a\": \"\xff\"}", BodyKind::Json),
        (b"plain \xc3\x28 text", BodyKind::Text),
        (b"\xff\xfe", BodyKind::Unknown),
    ];
    for (body, kind) in cases {
        assert!(
            e.mask_body(body, *kind, &mut tokens, &mut r).is_err(),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
    // Unknown content type: JSON when it parses, text otherwise.
    let text = e
        .mask_body(
            b"host 10.1.2.3 down",
            BodyKind::Unknown,
            &mut tokens,
            &mut r,
        )
        .unwrap()
        .unwrap();
    assert!(!String::from_utf8(text).unwrap().contains("10.1.2.3"));
}
