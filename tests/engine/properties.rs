//! Property tests: random text with embedded AWS identifiers.

use super::SECRET;
use aws_masker::config::Config;
use aws_masker::mask::{Engine, MaskReport};
use aws_masker::restore::{restore_json, Restorer};
use proptest::prelude::*;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(Config::default(), SECRET))
}

/// An engine with the detection memo off: scans every text.
fn scanning_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(Config::from_json(br#"{"memo_texts": 0}"#).unwrap(), SECRET))
}

fn hex(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(b"0123456789abcdef".to_vec()), len)
        .prop_map(|v| String::from_utf8(v).unwrap())
}

/// An AWS identifier of one of several families, freshly generated.
fn identifier() -> impl Strategy<Value = String> {
    let prefix = proptest::sample::select(vec![
        "i", "vpc", "subnet", "sg", "ami", "vol", "snap", "eni", "igw", "rtb", "nat",
    ]);
    let ec2 = (prefix, prop_oneof![hex(8), hex(17)]).prop_map(|(p, h)| format!("{p}-{h}"));
    let ipv4 = (10u8..=10, any::<u8>(), any::<u8>(), 1u8..=254)
        .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}"));
    let public_ip = (11u8..=99, any::<u8>(), any::<u8>(), 1u8..=254)
        .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}"));
    let upper = proptest::collection::vec(
        proptest::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".to_vec()),
        16,
    )
    .prop_map(|v| String::from_utf8(v).unwrap());
    let access_key = (
        proptest::sample::select(vec!["AKIA", "ASIA", "AROA"]),
        upper,
    )
        .prop_map(|(p, s)| format!("{p}{s}"));
    let account = proptest::collection::vec(0u8..10, 12)
        .prop_map(|d| d.iter().map(|n| char::from(b'0' + n)).collect::<String>());
    let arn = (
        proptest::sample::select(vec!["iam", "lambda", "s3", "sqs", "rds"]),
        account.clone(),
        "[a-z][a-z0-9-]{2,20}",
    )
        .prop_map(|(svc, acct, name)| format!("arn:aws:{svc}:us-east-1:{acct}:thing/{name}"));
    prop_oneof![ec2, ipv4, public_ip, access_key, arn]
}

/// Filler that cannot glue onto an identifier: words and separators.
fn filler() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ \n\t,;()\\[\\]{}\"'=:]{1,3}".prop_map(|s| s),
        "[ ,;(]{1}[a-zA-Z ]{0,20}[ ,;)]{1}".prop_map(|s| s),
        "[ (]{1}[é中😀 ]{0,4}[ )]{1}".prop_map(|s| s),
    ]
}

/// Text with identifiers embedded between filler, and the identifiers.
fn text_with_ids() -> impl Strategy<Value = (String, Vec<String>)> {
    proptest::collection::vec((filler(), identifier()), 1..12).prop_flat_map(|parts| {
        filler().prop_map(move |tail| {
            let mut text = String::new();
            let mut ids = Vec::new();
            for (f, id) in &parts {
                text.push_str(f);
                text.push_str(id);
                ids.push(id.clone());
            }
            text.push_str(&tail);
            (text, ids)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn embedded_ids_never_leak((text, ids) in text_with_ids()) {
        let e = engine();
        let mut tokens = e.new_token_map();
        let masked = e.mask_text(&text, &mut tokens);
        for id in &ids {
            prop_assert!(!masked.contains(id.as_str()), "{id} leaked from {text:?}: {masked:?}");
        }
    }

    #[test]
    fn restore_of_mask_is_identity(
        (text, _ids) in text_with_ids(),
        noise in "\\PC{0,40}",
    ) {
        let e = engine();
        let input = format!("{noise}{text}{noise}");
        let mut tokens = e.new_token_map();
        let masked = e.mask_text(&input, &mut tokens);
        prop_assert_eq!(Restorer::new(&tokens).restore_text(&masked), input.as_str());
    }

    /// A text long enough to be remembered masks the same when the memo
    /// serves it (second time) as when it is scanned (memo off), in text
    /// and in JSON bodies.
    #[test]
    fn remembered_texts_mask_like_scanned_ones(
        (text, _ids) in text_with_ids(),
        pad in "[a-z ]{256,300}",
    ) {
        let input = format!("{pad}{text}");
        let body = serde_json::to_vec(&serde_json::json!({"content": input})).unwrap();
        let mask = |e: &Engine| {
            let mut tokens = e.new_token_map();
            let text = e.mask_text(&input, &mut tokens).into_owned();
            let json = e.mask_json(&body, &mut tokens, &mut MaskReport::default()).unwrap();
            (text, json)
        };
        let scanned = mask(scanning_engine());
        let first = mask(engine());
        let hits = engine().memo_stats().hits;
        let remembered = mask(engine());
        prop_assert!(engine().memo_stats().hits >= hits + 2, "the memo served neither text");
        prop_assert_eq!(&first, &scanned);
        prop_assert_eq!(&remembered, &scanned);
    }

    #[test]
    fn masking_is_idempotent((text, _ids) in text_with_ids()) {
        let e = engine();
        let mut tokens = e.new_token_map();
        let once = e.mask_text(&text, &mut tokens).into_owned();
        let mut fresh = e.new_token_map();
        let twice = e.mask_text(&once, &mut fresh);
        prop_assert_eq!(twice.as_ref(), once.as_str());
        prop_assert!(fresh.is_empty());
    }

    #[test]
    fn json_stays_valid_and_round_trips(
        items in proptest::collection::vec((text_with_ids(), "[a-zA-Z_]{1,10}", any::<i32>()), 1..6),
    ) {
        let e = engine();
        let mut obj = serde_json::Map::new();
        for (i, ((text, _), key, n)) in items.iter().enumerate() {
            obj.insert(format!("{key}{i}"), serde_json::json!({"text": text, "n": n, "list": [text, null, true]}));
        }
        let doc = serde_json::Value::Object(obj);
        for body in [serde_json::to_vec(&doc).unwrap(), serde_json::to_vec_pretty(&doc).unwrap()] {
            let mut tokens = e.new_token_map();
            let masked = e
                .mask_json(&body, &mut tokens, &mut MaskReport::default())
                .unwrap()
                .unwrap_or_else(|| body.clone());
            let parsed: serde_json::Value = serde_json::from_slice(&masked).unwrap();
            prop_assert_eq!(parsed.as_object().map(|o| o.len()), doc.as_object().map(|o| o.len()));
            let (restored, _) = restore_json(&tokens, &masked, false);
            let restored = restored.unwrap_or(masked);
            prop_assert_eq!(String::from_utf8(restored).unwrap(), String::from_utf8(body).unwrap());
        }
    }
}
