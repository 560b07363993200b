//! The filter's real `.wasm`, driven through whole HTTP exchanges by a
//! proxy-wasm host on wasmtime (`host.rs`), under Envoy's and Kong's
//! buffer semantics. Build the `.wasm` first: `make build`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../support/corpus.rs"]
mod corpus;
mod fail_closed;
mod host;
mod util;

use aws_masker::config::DETECTOR_FAMILIES;
use aws_masker::mask::BodyKind;
use aws_masker::restore::restore_json;
use aws_masker::stream::{ChunkRestorer, SseRestorer};
use host::{Action, Profile, SharedData, Vm};
use util::*;

const PROFILES: [Profile; 2] = [Profile::Envoy, Profile::Kong];

/// Request headers of a Claude Code POST to the Messages API.
fn post_headers<'a>(content_type: &'a str, len: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        (":method", "POST"),
        (":path", "/v1/messages?beta=true"),
        (":authority", "api.anthropic.com"),
        ("content-type", content_type),
        ("content-length", len),
        ("accept-encoding", "gzip, deflate, br"),
        ("anthropic-version", "2023-06-01"),
        ("x-api-key", TEST_API_KEY),
        ("user-agent", "claude-cli/2.0.14 (external, cli)"),
    ]
}

/// Sends a POST with `body` in `chunks`; returns the exchange id.
fn send_request(vm: &mut Vm, content_type: &str, body: &[u8], chunks: &[&[u8]]) -> u32 {
    let id = vm.new_exchange();
    let len = body.len().to_string();
    vm.request_headers(id, &post_headers(content_type, &len), false);
    vm.request_body(id, chunks);
    id
}

/// No original value in any log line or in what the module printed.
fn assert_logs_clean(vm: &Vm, originals: &[String]) {
    let logs = vm.log_text();
    for o in originals {
        assert!(
            !logs.contains(o.as_str()),
            "original {o:?} appears in the logs:\n{logs}"
        );
    }
}

fn assert_forwarded(vm: &Vm, id: u32) {
    let h = vm.http(id);
    assert!(
        h.local_response.is_none(),
        "unexpected local response {:?}; logs:\n{}",
        h.local_response,
        vm.log_text()
    );
    assert!(
        !h.request_stalled,
        "request paused at end of stream and never resumed"
    );
}

#[test]
fn claude_code_request_is_masked_like_the_native_engine() {
    let (body, originals) = claude_request();
    let config = config_with("");
    let (want, _tokens, report) = native_mask(&config, &body, BodyKind::Json);
    let mut rng = Rng::new(7);
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let mut chunkings: Vec<Vec<&[u8]>> = vec![vec![&body[..]]];
        for max in [1usize, 7, 100, 4096] {
            chunkings.push(rng.chunks(&body, max));
        }
        for chunks in &chunkings {
            let id = send_request(&mut vm, "application/json", &body, chunks);
            assert_forwarded(&vm, id);
            let h = vm.http(id);
            let sent = &h.upstream_body;
            assert_eq!(
                String::from_utf8_lossy(sent),
                String::from_utf8_lossy(&want),
                "{profile:?}: forwarded body differs from the native engine's"
            );
            let text = String::from_utf8_lossy(sent);
            for o in &originals {
                assert!(
                    !text.contains(o.as_str()),
                    "{profile:?}: original {o:?} reached the upstream"
                );
            }
            // Bytes outside string literals are untouched.
            let (outside_in, strings_in) = json_outside_strings(&body);
            let (outside_out, strings_out) = json_outside_strings(sent);
            assert_eq!(outside_in, outside_out, "bytes outside strings changed");
            assert_eq!(strings_in.len(), strings_out.len());
            for (a, b) in strings_in.iter().zip(&strings_out) {
                if a != b {
                    assert!(
                        String::from_utf8_lossy(b).contains("AWS_"),
                        "string changed without a token: {}",
                        String::from_utf8_lossy(b)
                    );
                }
            }
            // Thinking blocks and signatures round-trip byte for byte.
            let vin: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let vout: serde_json::Value = serde_json::from_slice(sent).unwrap();
            assert_eq!(
                vin["messages"][1]["content"][0],
                vout["messages"][1]["content"][0]
            );
            // Headers.
            assert_eq!(h.request_header("content-length"), None);
            assert_eq!(h.request_header("accept-encoding"), Some("identity"));
            assert_eq!(h.request_header("content-type"), Some("application/json"));
            assert_eq!(h.request_headers_action, Some(Action::Continue));
            vm.finish(id);
        }
        let n = chunkings.len() as u64;
        if report.total() > 0 {
            let info = vm.logs_at(2);
            let masked_lines: Vec<_> = info.iter().filter(|l| l.contains("masked")).collect();
            assert_eq!(masked_lines.len() as u64, n, "one info line per request");
            assert!(
                masked_lines[0].contains(&report.summary()),
                "{}",
                masked_lines[0]
            );
            assert_eq!(vm.metric("aws_masker.requests_masked"), Some(n));
        }
        assert_logs_clean(&vm, &originals);
    }
}

/// The `.wasm` scans strings and checks UTF-8 sixteen bytes at a time
/// (SIMD), the native engine otherwise: a string end, escape, control byte
/// or invalid UTF-8 at every offset of a block, before an id, is found
/// alike, so the same bodies are masked the same way and the same ones
/// refused.
#[test]
fn string_scan_agrees_with_native_at_every_offset() {
    let config = config_with("");
    let engine = native_engine(&config);
    let mut vm = Vm::new(Profile::Envoy, &config);
    // Escapes, control bytes, and valid and invalid UTF-8 (a stray byte, a
    // truncated sequence, a surrogate), at every offset of a block.
    let specials: [&[u8]; 17] = [
        b"\\\"",
        b"\\\"n ",
        b"\\\\",
        b"\\n",
        // The `.wasm` passes over `\n` escapes without stopping: an
        // escaped backslash before an `n`, and `\n` next to other escapes.
        b"\\\\n",
        b"\\\\\\n",
        b"\\n\\\"",
        b"\\n\\n\\\\n",
        b"\\\"\\n",
        b"\\u00e9",
        b"\"",
        b"\x01",
        b"\x1f",
        "é".as_bytes(),
        b"\xff",
        b"\xe2\x82",
        b"\xed\xa0\x80",
    ];
    for pad in 0..40 {
        for special in specials {
            let mut text = "x".repeat(pad).into_bytes();
            text.extend_from_slice(special);
            text.extend_from_slice(b"i-0123456789abcdef0 ");
            text.extend_from_slice("y".repeat(40 - pad).as_bytes());
            // In a value, and in a key (always decoded: a wrong idea of its
            // escapes would misplace the token).
            let mut in_value = br#"{"messages":[{"role":"user","content":""#.to_vec();
            in_value.extend_from_slice(&text);
            in_value.extend_from_slice(br#""}]}"#);
            let mut in_key = br#"{"input":{""#.to_vec();
            in_key.extend_from_slice(&text);
            in_key.extend_from_slice(br#"":1}}"#);
            for body in [in_value.as_slice(), in_key.as_slice()] {
                let mut tokens = engine.token_map_for(Some(TEST_API_KEY.as_bytes()));
                let mut report = aws_masker::mask::MaskReport::default();
                let native = engine.mask_body(body, BodyKind::Json, &mut tokens, &mut report);
                let id = send_request(&mut vm, "application/json", body, &[body]);
                let h = vm.http(id);
                match native {
                    Ok(masked) => {
                        assert_forwarded(&vm, id);
                        let want = masked.unwrap_or_else(|| body.to_vec());
                        assert_eq!(
                            String::from_utf8_lossy(&h.upstream_body),
                            String::from_utf8_lossy(&want),
                            "{}",
                            String::from_utf8_lossy(body)
                        );
                        assert!(!String::from_utf8_lossy(&h.upstream_body)
                            .contains("i-0123456789abcdef0"));
                    }
                    Err(e) => {
                        let reply = h.local_response.as_ref();
                        assert_eq!(
                            reply.map(|r| r.status),
                            Some(400),
                            "{}: native refused ({e})",
                            String::from_utf8_lossy(body)
                        );
                        assert!(
                            h.upstream_body.is_empty(),
                            "{}",
                            String::from_utf8_lossy(body)
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn metrics_are_defined_and_counted() {
    let (body, originals) = claude_request();
    let config = config_with("");
    let (_, _, report) = native_mask(&config, &body, BodyKind::Json);
    let mut vm = Vm::new(Profile::Envoy, &config);
    let mut names = vec![
        "aws_masker.requests_masked".to_string(),
        "aws_masker.values_restored".to_string(),
        "aws_masker.responses_passthrough".to_string(),
        "aws_masker.values_masked.custom".to_string(),
        "aws_masker.memo.hits".to_string(),
        "aws_masker.memo.misses".to_string(),
    ];
    for f in DETECTOR_FAMILIES {
        names.push(format!("aws_masker.values_masked.{f}"));
    }
    for r in [
        "too_large",
        "compressed",
        "invalid_json",
        "invalid_utf8",
        "unreadable_body",
    ] {
        names.push(format!("aws_masker.refusals.{r}"));
    }
    for n in &names {
        assert_eq!(vm.metric(n), Some(0), "metric {n} not defined at start");
    }
    assert!(
        vm.metrics().iter().all(|m| m.kind == 0),
        "all metrics are counters"
    );
    let id = send_request(&mut vm, "application/json", &body, &[&body]);
    assert_forwarded(&vm, id);
    assert_eq!(
        vm.metric("aws_masker.requests_masked"),
        Some(u64::from(report.total() > 0))
    );
    let mut sum = 0;
    for f in DETECTOR_FAMILIES.iter().chain(["custom"].iter()) {
        let v = vm.metric(&format!("aws_masker.values_masked.{f}")).unwrap();
        let want = report
            .by_family()
            .iter()
            .find(|(fam, _)| fam.name() == *f)
            .map_or(0, |(_, n)| *n);
        assert_eq!(v, want, "values_masked.{f}");
        sum += v;
    }
    assert_eq!(sum, report.total());
    // The memo: the first request's long texts were scanned (misses); the
    // same request again is served from the memo (as many hits), and
    // masked the same.
    let misses = vm.metric("aws_masker.memo.misses").unwrap();
    assert!(misses > 0, "no long text looked up");
    assert_eq!(vm.metric("aws_masker.memo.hits"), Some(0));
    let first = vm.http(id).upstream_body.clone();
    let again = send_request(&mut vm, "application/json", &body, &[&body]);
    assert_forwarded(&vm, again);
    assert_eq!(vm.metric("aws_masker.memo.hits"), Some(misses));
    assert_eq!(vm.metric("aws_masker.memo.misses"), Some(misses));
    assert_eq!(vm.http(again).upstream_body, first);
    assert_logs_clean(&vm, &originals);
}

#[test]
fn sse_response_is_restored_for_random_chunkings() {
    let (body, originals) = claude_request();
    let config = config_with("");
    let (_, tokens, _) = native_mask(&config, &body, BodyKind::Json);
    let template = fixture_str("wasm_sse_response.txt");
    let stream = render(&template, &tokens, false);
    let expected_blocks = sse_block_texts(render(&template, &tokens, true).as_bytes());
    let restorable: Vec<String> = tokens.iter().map(|(t, _)| t).collect();
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let mut rng = Rng::new(42);
        for round in 0..40 {
            let max = [1usize, 2, 3, 5, 8, 13, 64, 500, 5000][round % 9];
            let chunks = rng.chunks(stream.as_bytes(), max);
            let id = send_request(&mut vm, "application/json", &body, &[&body]);
            assert_forwarded(&vm, id);
            vm.response_headers(
                id,
                &[
                    (":status", "200"),
                    ("content-type", "text/event-stream; charset=utf-8"),
                    ("content-length", &stream.len().to_string()),
                    ("request-id", "req_011CTest"),
                ],
                false,
            );
            vm.response_body(id, &chunks);
            let h = vm.http(id);
            assert!(
                !h.response_stalled,
                "SSE must never be held at end of stream"
            );
            // Kong: streamed, never paused. Envoy keeps a chunk only while
            // the restorer holds a token's start or an incomplete event
            // (it takes no body at trailers after a release), so never the
            // last one.
            match profile {
                Profile::Kong => assert_eq!(h.response_pauses, 0, "SSE paused on Kong"),
                Profile::Envoy => assert!(h.response_pauses < chunks.len()),
            }
            assert_eq!(h.response_header("content-length"), None);
            // The shell adds nothing: same bytes as the native restorer.
            let mut native = SseRestorer::new(tokens.clone(), false);
            let mut want = Vec::new();
            for c in &chunks {
                native.push(c, &mut want);
            }
            native.finish(&mut want);
            assert_eq!(
                String::from_utf8_lossy(&h.downstream_body),
                String::from_utf8_lossy(&want),
                "{profile:?} round {round}: differs from the native restorer"
            );
            // And what the client reads is restored.
            let blocks = sse_block_texts(&h.downstream_body);
            assert_eq!(
                blocks, expected_blocks,
                "{profile:?} round {round} (max chunk {max})"
            );
            for (_, kind, text) in &blocks {
                if kind != "thinking" {
                    for t in &restorable {
                        assert!(!text.contains(t), "token {t} left in {kind} block");
                    }
                }
            }
            vm.finish(id);
        }
        let per_stream = template.matches("{{").count()
            - template.matches("{{!").count()
            - template.matches("..}}").count();
        assert_eq!(
            vm.metric("aws_masker.values_restored"),
            Some(40 * per_stream as u64),
            "{profile:?}"
        );
        assert_logs_clean(&vm, &originals);
    }
}

#[test]
fn json_response_is_restored() {
    let (body, originals) = claude_request();
    let config = config_with("");
    let (_, tokens, _) = native_mask(&config, &body, BodyKind::Json);
    let template = fixture_str("wasm_json_response.json");
    let response = render(&template, &tokens, false);
    let want = render(&template, &tokens, true);
    let restorable = template.matches("{{").count() - template.matches("{{!").count();
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let r = response.as_bytes();
        let chunkings: Vec<Vec<&[u8]>> = vec![
            vec![r],
            vec![&r[..100], &r[100..101], &r[101..400], &r[400..]],
        ];
        for chunks in &chunkings {
            let id = send_request(&mut vm, "application/json", &body, &[&body]);
            vm.response_headers(
                id,
                &[
                    (":status", "200"),
                    ("content-type", "application/json"),
                    ("content-length", &r.len().to_string()),
                ],
                false,
            );
            vm.response_body(id, chunks);
            let h = vm.http(id);
            assert!(!h.response_stalled);
            assert_eq!(h.response_header("content-length"), None);
            // Exactly what the native engine gives; bytes outside the
            // restored literals unchanged; the value the client decodes is
            // the response with originals (thinking untouched).
            let (native, _) = restore_json(&tokens, r, false);
            let native = native.expect("nothing restored natively");
            assert_eq!(
                String::from_utf8_lossy(&h.downstream_body),
                String::from_utf8_lossy(&native),
                "{profile:?}"
            );
            let got: serde_json::Value = serde_json::from_slice(&h.downstream_body).unwrap();
            let expected: serde_json::Value = serde_json::from_str(&want).unwrap();
            assert_eq!(got, expected, "{profile:?}");
            assert_eq!(
                json_outside_strings(&h.downstream_body).0,
                json_outside_strings(r).0
            );
            vm.finish(id);
        }
        assert_eq!(
            vm.metric("aws_masker.values_restored"),
            Some(2 * restorable as u64),
            "{profile:?}"
        );
        assert_logs_clean(&vm, &originals);
    }
}

/// A JSON response larger than `max_body_bytes` is not buffered whole but
/// restored as a stream, with a log line where answers are buffered
/// (Envoy; Kong restores every JSON answer as it passes).
#[test]
fn oversized_json_response_is_streamed() {
    let config = config_with(r#""max_body_bytes": 4096"#);
    let request = br#"{"messages":[{"role":"user","content":"why is i-0abcdef1234567890 down?"}]}"#;
    let (_, tokens, _) = native_mask(&config, request, BodyKind::Json);
    let item = r#"{"text":"instance {{i-0abcdef1234567890}} is fine"}"#;
    let template = format!("[{}]", vec![item; 300].join(",\n"));
    let response = render(&template, &tokens, false);
    let want = render(&template, &tokens, true);
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let id = send_request(&mut vm, "application/json", request, &[request]);
        assert_forwarded(&vm, id);
        vm.response_headers(
            id,
            &[(":status", "200"), ("content-type", "application/json")],
            false,
        );
        let mut rng = Rng::new(3);
        let chunks = rng.chunks(response.as_bytes(), 700);
        vm.response_body(id, &chunks);
        let h = vm.http(id);
        assert!(!h.response_stalled);
        assert_eq!(String::from_utf8_lossy(&h.downstream_body), want);
        assert_eq!(
            vm.logs_at(2).iter().any(|l| l.contains("as a stream")),
            profile == Profile::Envoy,
            "{profile:?}: {}",
            vm.log_text()
        );
    }
}

#[test]
fn text_response_is_restored_as_a_stream() {
    let config = config_with("");
    let request =
        br#"{"messages":[{"role":"user","content":"ping 10.0.1.23 from i-0abcdef1234567890"}]}"#;
    let (_, tokens, _) = native_mask(&config, request, BodyKind::Json);
    let template = "host {{i-0abcdef1234567890}} at {{10.0.1.23}}: ok\n".repeat(20);
    let response = render(&template, &tokens, false);
    let want = render(&template, &tokens, true);
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let mut rng = Rng::new(11);
        for _ in 0..10 {
            let id = send_request(&mut vm, "application/json", request, &[request]);
            vm.response_headers(
                id,
                &[(":status", "200"), ("content-type", "text/plain")],
                false,
            );
            let chunks = rng.chunks(response.as_bytes(), 9);
            vm.response_body(id, &chunks);
            let h = vm.http(id);
            assert!(!h.response_stalled);
            assert_eq!(String::from_utf8_lossy(&h.downstream_body), want);
            vm.finish(id);
        }
    }
}

#[test]
fn binary_and_compressed_responses_pass_through_and_are_counted() {
    let config = config_with("");
    let request = br#"{"messages":[{"role":"user","content":"describe i-0abcdef1234567890"}]}"#;
    let (_, tokens, _) = native_mask(&config, request, BodyKind::Json);
    let token = token_for(&tokens, "i-0abcdef1234567890").to_string();
    let payload = format!("\x1f\u{8b}binary {token} data").into_bytes();
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        for (ct, ce) in [
            ("application/json", Some("gzip")),
            ("text/event-stream", Some("br")),
            ("image/png", None),
        ] {
            let id = send_request(&mut vm, "application/json", request, &[request]);
            let len = payload.len().to_string();
            let mut headers = vec![
                (":status", "200"),
                ("content-type", ct),
                ("content-length", &len),
            ];
            if let Some(ce) = ce {
                headers.push(("content-encoding", ce));
            }
            vm.response_headers(id, &headers, false);
            vm.response_body(id, &[&payload[..5], &payload[5..]]);
            let h = vm.http(id);
            assert_eq!(h.downstream_body, payload, "{ct} {ce:?}");
            assert_eq!(h.response_header("content-length"), Some(len.as_str()));
        }
        // Compressed answers are counted apart: the upstream ignored
        // `accept-encoding: identity`, and their tokens stay unrestored.
        assert_eq!(vm.metric("aws_masker.responses_passthrough"), Some(1));
        assert_eq!(vm.metric("aws_masker.responses_compressed"), Some(2));
        assert_eq!(vm.metric("aws_masker.values_restored"), Some(0));
        assert!(vm.logs_at(3).iter().any(|l| l.contains("compressed")));
    }
}

#[test]
fn requests_without_body_pass_untouched() {
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config_with(""));
        // GET: nothing is changed, not even the headers.
        let id = vm.new_exchange();
        let headers = [
            (":method", "GET"),
            (":path", "/v1/models"),
            ("accept-encoding", "gzip"),
            ("content-length", "0"),
        ];
        vm.request_headers(id, &headers, true);
        let h = vm.http(id);
        assert_eq!(h.request_header("accept-encoding"), Some("gzip"));
        assert_eq!(h.request_header("content-length"), Some("0"));
        assert_eq!(h.request_headers_action, Some(Action::Continue));
        let json = br#"{"data":[{"id":"AWS_EC2_0badc0de"}]}"#;
        vm.response_headers(
            id,
            &[(":status", "200"), ("content-type", "application/json")],
            false,
        );
        vm.response_body(id, &[json]);
        assert_eq!(vm.http(id).downstream_body, json);
        // Headers that end the stream but announce a body (ngx_wasm_module
        // 0.1, Kong 3.4 and 3.5, says end of stream on every request): the
        // body would pass unseen, so the request is refused.
        let id = vm.new_exchange();
        vm.request_headers(id, &post_headers("application/json", "138"), true);
        let h = vm.http(id);
        assert_eq!(h.local_response.as_ref().map(|r| r.status), Some(413));
        assert!(h.upstream_body.is_empty());
        assert_eq!(vm.metric("aws_masker.refusals.unreadable_body"), Some(1));
        // A POST whose body is empty.
        let id = vm.new_exchange();
        vm.request_headers(id, &post_headers("application/json", "0"), false);
        vm.request_body(id, &[]);
        assert_forwarded(&vm, id);
        assert!(vm.http(id).upstream_body.is_empty());
        assert_eq!(vm.metric("aws_masker.requests_masked"), Some(0));
    }
}

/// The method does not decide whether a body is masked: a GET that carries
/// one is masked like a POST.
#[test]
fn a_get_with_a_body_is_masked() {
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config_with(""));
        let id = vm.new_exchange();
        let body = br#"{"q": "where is i-0123456789abcdef0?"}"#;
        let len = body.len().to_string();
        let headers = [
            (":method", "GET"),
            (":path", "/v1/search"),
            ("content-type", "application/json"),
            ("content-length", len.as_str()),
        ];
        vm.request_headers(id, &headers, false);
        vm.request_body(id, &[&body[..]]);
        let up = String::from_utf8(vm.http(id).upstream_body.clone()).unwrap();
        assert!(!up.contains("i-0123456789abcdef0"), "{profile:?}: {up}");
        assert!(up.contains("AWS_EC2_"), "{profile:?}: {up}");
    }
}

struct RefusalCase {
    name: &'static str,
    profiles: &'static [Profile],
    config: String,
    content_type: &'static str,
    content_encoding: Option<&'static str>,
    body: Vec<u8>,
    spilled: bool,
    status: u32,
    error_type: &'static str,
    reason: &'static str,
    needle: &'static str,
}

/// `n` distinct private IPv4 addresses, one per line.
fn distinct_ips(n: usize) -> String {
    (0..n)
        .map(|i| format!("10.{}.{}.{}\n", i / 65536 % 256, i / 256 % 256, i % 256))
        .collect()
}

#[test]
fn refusals_answer_with_an_anthropic_error_and_forward_nothing() {
    let (claude, originals) = claude_request();
    let cases = vec![
        RefusalCase {
            name: "too large",
            profiles: &PROFILES,
            config: config_with(r#""max_body_bytes": 1000"#),
            content_type: "application/json",
            content_encoding: None,
            body: claude.clone(),
            spilled: false,
            status: 413,
            error_type: "request_too_large",
            reason: "too_large",
            needle: "1000",
        },
        RefusalCase {
            name: "compressed",
            profiles: &PROFILES,
            config: config_with(""),
            content_type: "application/json",
            content_encoding: Some("gzip"),
            body: claude.clone(),
            spilled: false,
            status: 415,
            error_type: "invalid_request_error",
            reason: "compressed",
            needle: "gzip",
        },
        RefusalCase {
            name: "invalid JSON",
            profiles: &PROFILES,
            config: config_with(""),
            content_type: "application/json",
            content_encoding: None,
            body: br#"{"messages": [{"content": "i-0abcdef1234567890"}"#.to_vec(),
            spilled: false,
            status: 400,
            error_type: "invalid_request_error",
            reason: "invalid_json",
            needle: "not valid JSON",
        },
        RefusalCase {
            name: "invalid UTF-8",
            profiles: &PROFILES,
            config: config_with(""),
            content_type: "text/plain",
            content_encoding: None,
            body: b"host i-0abcdef1234567890 \xff\xfe".to_vec(),
            spilled: false,
            status: 400,
            error_type: "invalid_request_error",
            reason: "invalid_utf8",
            needle: "UTF-8",
        },
        RefusalCase {
            name: "masked body over max_body_bytes",
            profiles: &PROFILES,
            config: config_with(r#""max_body_bytes": 4096"#),
            content_type: "text/plain",
            content_encoding: None,
            body: distinct_ips(300).into_bytes(),
            spilled: false,
            status: 413,
            error_type: "request_too_large",
            reason: "too_large",
            needle: "masked request body exceeds the limit of 4096",
        },
        RefusalCase {
            name: "too many values",
            profiles: &PROFILES,
            config: config_with(r#""max_values_per_request": 10"#),
            content_type: "application/json",
            content_encoding: None,
            body: serde_json::to_vec(
                &serde_json::json!({"messages": [{"role": "user", "content": distinct_ips(50)}]}),
            )
            .unwrap(),
            spilled: false,
            status: 413,
            error_type: "request_too_large",
            reason: "too_many_values",
            needle: "more than 10 distinct values",
        },
        RefusalCase {
            name: "Kong spilled body",
            profiles: &[Profile::Kong],
            config: config_with(""),
            content_type: "application/json",
            content_encoding: None,
            body: claude.clone(),
            spilled: true,
            status: 413,
            error_type: "request_too_large",
            reason: "unreadable_body",
            needle: "could not be read",
        },
    ];
    for case in &cases {
        for &profile in case.profiles {
            let what = format!("{} ({profile:?})", case.name);
            let mut vm = Vm::new(profile, &case.config);
            let id = vm.new_exchange();
            if case.spilled {
                vm.set_spilled(id);
            }
            let len = case.body.len().to_string();
            let mut headers = post_headers(case.content_type, &len);
            if let Some(ce) = case.content_encoding {
                headers.push(("content-encoding", ce));
            }
            vm.request_headers(id, &headers, false);
            let chunks: Vec<&[u8]> = case.body.chunks(600).collect();
            vm.request_body(id, &chunks);
            let h = vm.http(id);
            let local = h
                .local_response
                .as_ref()
                .unwrap_or_else(|| panic!("{what}: not refused; logs:\n{}", vm.log_text()));
            assert!(h.upstream_body.is_empty(), "{what}: body forwarded");
            assert_eq!(local.status, case.status, "{what}");
            assert!(
                local
                    .headers
                    .iter()
                    .any(|(k, v)| k == "content-type" && v == "application/json"),
                "{what}: {:?}",
                local.headers
            );
            let v = local.json();
            assert_eq!(v["type"], "error", "{what}");
            assert_eq!(v["error"]["type"], case.error_type, "{what}");
            let msg = v["error"]["message"].as_str().unwrap();
            assert!(msg.starts_with("aws-masker: "), "{what}: {msg}");
            assert!(msg.contains(case.needle), "{what}: {msg}");
            assert_eq!(
                vm.metric(&format!("aws_masker.refusals.{}", case.reason)),
                Some(1),
                "{what}"
            );
            let lines: Vec<_> = vm
                .logs_at(3)
                .into_iter()
                .filter(|l| l.contains(case.reason))
                .collect();
            assert_eq!(
                lines.len(),
                1,
                "{what}: one log line naming the reason:\n{}",
                vm.log_text()
            );
            // The response to a refused request is the local reply only.
            vm.response_headers(id, &[(":status", "200")], false);
            assert!(vm.http(id).downstream_body.is_empty());
            vm.finish(id);
            assert_logs_clean(&vm, &originals);
            // The VM still serves the next exchange.
            let ok = br#"{"messages":[]}"#;
            let id = send_request(&mut vm, "application/json", ok, &[ok]);
            assert_forwarded(&vm, id);
            assert_eq!(vm.http(id).upstream_body, ok);
        }
    }
}

#[test]
fn invalid_config_is_rejected_naming_the_field() {
    let cases = [
        (r#"{"max_body_bytes": "big"}"#, "max_body_bytes"),
        (r#"{"detectors": {"ipv9": true}}"#, "detectors.ipv9"),
        (r#"{"secret": "short"}"#, "secret"),
        (r#"{"colour": 1}"#, "colour"),
        (
            r#"{"custom_patterns": [{"name": "x", "regex": "(", "kind": "X"}]}"#,
            "custom_patterns[0].regex",
        ),
        ("not json", "not valid JSON"),
    ];
    for profile in PROFILES {
        for (config, field) in cases {
            let vm = Vm::try_new(profile, config, SharedData::default());
            assert!(!vm.configured, "{config} accepted");
            let errors = vm.logs_at(4);
            assert_eq!(
                errors.len(),
                1,
                "{config}: one error line:\n{}",
                vm.log_text()
            );
            assert!(errors[0].contains(field), "{config}: {}", errors[0]);
            if !field.contains(' ') {
                assert!(errors[0].contains(&format!("`{field}`")), "{}", errors[0]);
            }
        }
        for config in ["", "{}", " \n"] {
            let vm = Vm::try_new(profile, config, SharedData::default());
            assert!(vm.configured, "{config:?} rejected:\n{}", vm.log_text());
            let warnings = vm.logs_at(3);
            assert_eq!(warnings.len(), 1, "{}", vm.log_text());
            let expected = match profile {
                // Envoy's workers share the generated secret (shared data).
                Profile::Envoy => "shared by this gateway's workers",
                // Kong's engine traps on shared data without a zone.
                Profile::Kong => "this worker only",
            };
            assert!(warnings[0].contains(expected), "{}", warnings[0]);
            assert!(vm.logs_at(4).is_empty());
        }
        let vm = Vm::try_new(profile, &config_with(""), SharedData::default());
        assert!(vm.configured);
        assert!(
            vm.logs_at(3).is_empty() && vm.logs_at(4).is_empty(),
            "{}",
            vm.log_text()
        );
    }
}

/// Without a configured secret, workers of one gateway share the secret
/// the first one generated (shared data), so their tokens agree.
#[test]
fn generated_secret_is_shared_between_workers() {
    let (body, originals) = claude_request();
    let shared = SharedData::default();
    let mut a = Vm::with_shared(Profile::Envoy, "{}", shared.clone());
    let mut b = Vm::with_shared(Profile::Envoy, "", shared.clone());
    let stored = shared.lock().unwrap().get("aws_masker.secret").cloned();
    let (secret, _) = stored.expect("secret not stored in shared data");
    assert_eq!(secret.len(), 32);
    let ia = send_request(&mut a, "application/json", &body, &[&body]);
    let ib = send_request(&mut b, "application/json", &body, &[&body]);
    assert_eq!(a.http(ia).upstream_body, b.http(ib).upstream_body);
    // Another gateway (its own shared data) has another secret.
    let mut c = Vm::new(Profile::Envoy, "{}");
    let ic = send_request(&mut c, "application/json", &body, &[&body]);
    if a.http(ia).upstream_body != body {
        assert_ne!(a.http(ia).upstream_body, c.http(ic).upstream_body);
    }
    for vm in [&a, &b, &c] {
        assert_logs_clean(vm, &originals);
        assert!(!vm
            .log_text()
            .contains(&String::from_utf8_lossy(&secret).to_string()));
    }
}

#[test]
fn interleaved_exchanges_keep_separate_token_maps() {
    let config = config_with("");
    let ra = br#"{"messages":[{"role":"user","content":"restart i-0aaaaaaaaaaaaaaaa please"}]}"#;
    let rb = br#"{"messages":[{"role":"user","content":"restart i-0bbbbbbbbbbbbbbbb please"}]}"#;
    let (_, ta, _) = native_mask(&config, ra, BodyKind::Json);
    let (_, tb, _) = native_mask(&config, rb, BodyKind::Json);
    let tok_a = token_for(&ta, "i-0aaaaaaaaaaaaaaaa").to_string();
    let tok_b = token_for(&tb, "i-0bbbbbbbbbbbbbbbb").to_string();
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let a = vm.new_exchange();
        let b = vm.new_exchange();
        let (la, lb) = (ra.len().to_string(), rb.len().to_string());
        vm.request_headers(a, &post_headers("application/json", &la), false);
        vm.request_headers(b, &post_headers("application/json", &lb), false);
        vm.request_body(b, &[rb]);
        vm.request_body(a, &[ra]);
        assert_forwarded(&vm, a);
        assert_forwarded(&vm, b);
        let both = format!(r#"{{"content":[{{"type":"text","text":"{tok_a} and {tok_b}"}}]}}"#);
        vm.response_headers(
            a,
            &[(":status", "200"), ("content-type", "application/json")],
            false,
        );
        vm.response_headers(
            b,
            &[(":status", "200"), ("content-type", "text/plain")],
            false,
        );
        let (ha, hb) = both.as_bytes().split_at(30);
        vm.response_chunk(b, ha, false);
        vm.response_chunk(a, ha, false);
        vm.response_chunk(a, hb, true);
        vm.response_chunk(b, hb, true);
        let out_a = String::from_utf8(vm.http(a).downstream_body.clone()).unwrap();
        let out_b = String::from_utf8(vm.http(b).downstream_body.clone()).unwrap();
        assert_eq!(
            out_a,
            both.replace(&tok_a, "i-0aaaaaaaaaaaaaaaa"),
            "{profile:?}"
        );
        assert_eq!(
            out_b,
            both.replace(&tok_b, "i-0bbbbbbbbbbbbbbbb"),
            "{profile:?}"
        );
        vm.finish(a);
        vm.finish(b);
    }
}

/// A masked body longer than the original must not be cut (Kong's engine
/// truncates new data to the given length).
#[test]
fn longer_masked_body_is_not_truncated() {
    let config = config_with(
        r#""custom_patterns": [{"name": "ticket", "regex": "TKT-[0-9]+", "kind": "TICKET"}]"#,
    );
    let body = br#"{"t":"TKT-1","u":"TKT-2 x"}"#;
    let (want, tokens, _) = native_mask(&config, body, BodyKind::Json);
    assert!(!tokens.is_empty(), "custom pattern did not match natively");
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let id = send_request(&mut vm, "application/json", body, &[body]);
        assert_forwarded(&vm, id);
        assert_eq!(vm.http(id).upstream_body, want, "{profile:?}");
        assert!(want.len() > body.len());
    }
}

/// Random bytes as request and response bodies, under every content type
/// and chunking, never trap the VM; a normal exchange works afterwards.
#[test]
fn random_bytes_never_trap_the_vm() {
    let (claude, originals) = claude_request();
    let config = config_with("");
    let (want, tokens, _) = native_mask(&config, &claude, BodyKind::Json);
    let token_bits: Vec<String> = tokens.iter().map(|(t, _)| t.to_string()).collect();
    let req_types = [
        "application/json",
        "text/plain",
        "",
        "application/octet-stream",
    ];
    let resp_types = [
        "text/event-stream",
        "application/json",
        "text/plain",
        "image/png",
        "",
    ];
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let mut rng = Rng::new(0xdecafbad);
        for round in 0..120 {
            // Requests: random bytes, or JSON-ish text with AWS-like bits.
            let n = rng.below(3000);
            let mut req = rng.bytes(n);
            if round % 3 == 0 {
                req = format!(
                    r#"{{"x":"i-0abcdef1234567890 {}","n":[1,2.5e3,null]}}"#,
                    String::from_utf8_lossy(&req)
                )
                .into_bytes();
            }
            let ct = req_types[rng.below(req_types.len())];
            let max = 1 + rng.below(800);
            let chunks = rng.chunks(&req, max);
            let id = vm.new_exchange();
            let len = req.len().to_string();
            let headers = if ct.is_empty() {
                vec![(":method", "POST"), ("content-length", len.as_str())]
            } else {
                post_headers(ct, &len)
            };
            vm.request_headers(id, &headers, false);
            vm.request_body(id, &chunks);
            // Responses: random bytes with tokens of this VM sprinkled in.
            let mut resp = Vec::new();
            for _ in 0..rng.below(20) {
                let n = rng.below(200);
                resp.extend(rng.bytes(n));
                if !token_bits.is_empty() {
                    let t = &token_bits[rng.below(token_bits.len())];
                    let cut = rng.below(t.len() + 1);
                    resp.extend_from_slice(&t.as_bytes()[..cut]);
                }
                if rng.below(2) == 0 {
                    resp.extend_from_slice(b"\n\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"");
                }
            }
            let rct = resp_types[rng.below(resp_types.len())];
            vm.response_headers(id, &[(":status", "200"), ("content-type", rct)], false);
            let max = 1 + rng.below(300);
            let rchunks = rng.chunks(&resp, max);
            vm.response_body(id, &rchunks);
            assert!(
                !vm.http(id).response_stalled,
                "round {round}: response stalled"
            );
            vm.finish(id);
        }
        let id = send_request(&mut vm, "application/json", &claude, &[&claude]);
        assert_forwarded(&vm, id);
        assert_eq!(
            vm.http(id).upstream_body,
            want,
            "{profile:?}: VM broken after fuzzing"
        );
        assert_logs_clean(&vm, &originals);
    }
}
