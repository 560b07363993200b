//! Fail-closed paths of the filter: bodies that end with trailers, answers
//! that would restore past what the host holds, streams without event
//! ends, token scopes, and Kong without shared memory.

use super::*;

/// A request with ids and an ARN, and the originals it holds.
fn ids_request() -> (Vec<u8>, Vec<&'static str>) {
    let originals = vec![
        "i-0aaaa1111bbbb2222",
        "arn:aws:iam::123456789012:role/deploy",
    ];
    let body = serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5",
        "stream": true,
        "messages": [{"role": "user", "content": format!(
            "trailers case {} assumes {}", originals[0], originals[1])}],
    }))
    .unwrap();
    (body, originals)
}

/// An HTTP/2 request body that ends with trailers instead of an
/// end-of-stream body call is masked when the trailers arrive: exactly as
/// the native engine masks it, whatever the chunking.
#[test]
fn a_body_that_ends_with_trailers_is_masked() {
    let (body, originals) = ids_request();
    let config = config_with("");
    let (want, _, _) = native_mask(&config, &body, BodyKind::Json);
    assert_ne!(want, body);
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        for chunks in [
            vec![&body[..]],
            vec![&body[..10], &body[10..57], &body[57..]],
        ] {
            let id = vm.new_exchange();
            let len = body.len().to_string();
            vm.request_headers(id, &post_headers("application/json", &len), false);
            vm.request_body_then_trailers(id, &chunks);
            assert_forwarded(&vm, id);
            let up = &vm.http(id).upstream_body;
            assert_eq!(String::from_utf8_lossy(up), String::from_utf8_lossy(&want));
            for o in &originals {
                assert!(!String::from_utf8_lossy(up).contains(o), "{profile:?}: {o}");
            }
            vm.finish(id);
        }
    }
}

/// A refusal decided at the trailers (the body is over the limit of
/// values) forwards nothing.
#[test]
fn a_body_refused_at_its_trailers_forwards_nothing() {
    let (body, _) = ids_request();
    let config = config_with(r#""max_values_per_request": 1"#);
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let id = vm.new_exchange();
        vm.request_headers(id, &post_headers("application/json", "0"), false);
        vm.request_body_then_trailers(id, &[&body]);
        let h = vm.http(id);
        assert!(h.upstream_body.is_empty(), "{profile:?}");
        assert_eq!(h.local_response.as_ref().map(|r| r.status), Some(413));
        assert_eq!(vm.metric("aws_masker.refusals.too_many_values"), Some(1));
    }
}

/// The issued tokens and the answer that echoes them.
fn echo(config: &str, body: &[u8], originals: &[&str]) -> (TokenMap, String, String) {
    let (_, tokens, _) = native_mask(config, body, BodyKind::Json);
    let template = format!(
        r#"{{"type":"message","content":[{{"type":"text","text":"{}"}}]}}"#,
        originals
            .iter()
            .map(|o| format!("see {{{{{o}}}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    (
        tokens.clone(),
        render(&template, &tokens, false),
        render(&template, &tokens, true),
    )
}

use aws_masker::token::TokenMap;

/// Response trailers end a buffered JSON answer: it is restored then, not
/// released with its tokens.
#[test]
fn a_json_answer_that_ends_with_trailers_is_restored() {
    let (body, originals) = ids_request();
    let config = config_with("");
    let (_, answer, want) = echo(&config, &body, &originals);
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let id = send_request(&mut vm, "application/json", &body, &[&body]);
        vm.response_headers(
            id,
            &[(":status", "200"), ("content-type", "application/json")],
            false,
        );
        let a = answer.as_bytes();
        vm.response_body_then_trailers(id, &[&a[..20], &a[20..]]);
        let h = vm.http(id);
        assert!(!h.response_stalled);
        assert_eq!(
            String::from_utf8_lossy(&h.downstream_body),
            want,
            "{profile:?}"
        );
    }
}

/// Response trailers end an SSE stream whose last delta holds a token cut
/// in two: the held-back part is released, restored, at the trailers.
#[test]
fn an_sse_stream_that_ends_with_trailers_is_flushed() {
    let (body, originals) = ids_request();
    let config = config_with("");
    let (_, tokens, _) = native_mask(&config, &body, BodyKind::Json);
    let token = token_for(&tokens, originals[0]).to_string();
    let a = &token[..9];
    let delta = |s: &str| {
        format!("event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{s}\"}}}}\n\n")
    };
    // The stream ends inside a token: no content_block_stop follows.
    let first = delta(&format!("id {token} and "));
    let second = delta(a);
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let id = send_request(&mut vm, "application/json", &body, &[&body]);
        vm.response_headers(
            id,
            &[(":status", "200"), ("content-type", "text/event-stream")],
            false,
        );
        vm.response_body_then_trailers(id, &[first.as_bytes(), second.as_bytes()]);
        let got = String::from_utf8_lossy(&vm.http(id).downstream_body).into_owned();
        assert!(got.contains(&format!("id {} and ", originals[0])), "{got}");
        // Only a proper prefix of the token was held: it comes back as it
        // was (it is not a whole token), in a delta of its own.
        assert!(got.contains(a), "{profile:?}: held-back tail lost:\n{got}");
        assert_eq!(vm.metric("aws_masker.responses_incomplete"), Some(0));
    }
}

/// A text answer streamed in pieces that ends with trailers while the
/// restorer holds a token's first half: the tail reaches the client at the
/// trailers, on Envoy (which takes no body write then unless the chunk was
/// kept) as on Kong; only the chunk that ends in a possible token is kept.
#[test]
fn a_text_stream_that_ends_with_trailers_keeps_its_tail() {
    let (body, originals) = ids_request();
    let config = config_with("");
    let (_, tokens, _) = native_mask(&config, &body, BodyKind::Json);
    let token = token_for(&tokens, originals[0]).to_string();
    let cut = &token[..token.len() - 3];
    let chunks = [
        format!("found {token}\n"),
        "and nothing else\n".to_string(),
        format!("cut {cut}"),
    ];
    let chunks: Vec<&[u8]> = chunks.iter().map(|c| c.as_bytes()).collect();
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let id = send_request(&mut vm, "application/json", &body, &[&body]);
        vm.response_headers(
            id,
            &[(":status", "200"), ("content-type", "text/plain")],
            false,
        );
        vm.response_body_then_trailers(id, &chunks);
        let h = vm.http(id);
        let got = String::from_utf8_lossy(&h.downstream_body).into_owned();
        assert_eq!(
            got,
            format!("found {}\nand nothing else\ncut {cut}", originals[0]),
            "{profile:?}"
        );
        assert!(!h.response_stalled, "{profile:?}");
        let kept = if profile == Profile::Envoy { 1 } else { 0 };
        assert_eq!(h.response_pauses, kept, "{profile:?}: chunks kept");
        assert_eq!(vm.metric("aws_masker.responses_incomplete"), Some(0));
    }
}

/// A 64 KiB `max_body_bytes`, a request naming a long role ARN, and the
/// ARN's token: an answer of such tokens restores to several times more.
struct LongArn {
    limit: usize,
    config: String,
    arn: String,
    request: Vec<u8>,
    token: String,
}

fn long_arn() -> LongArn {
    let limit = 64 * 1024;
    let config = config_with(&format!(r#""max_body_bytes": {limit}"#));
    let arn = format!(
        "arn:aws:iam::123456789012:role/{}",
        "service-role/".repeat(9)
    );
    let request = serde_json::to_vec(&serde_json::json!({
        "messages": [{"role": "user", "content": format!("assume {arn}")}]
    }))
    .unwrap();
    let (_, tokens, _) = native_mask(&config, &request, BodyKind::Json);
    let token = token_for(&tokens, &arn).to_string();
    LongArn {
        limit,
        config,
        arn,
        request,
        token,
    }
}

/// A JSON answer whose restore could outgrow `max_body_bytes` is never
/// handed to the host whole: it is restored as a stream, and every write
/// stays within the limit, whatever the chunking.
#[test]
fn an_answer_that_restores_past_the_limit_is_streamed_within_it() {
    let LongArn {
        limit,
        config,
        arn,
        request,
        token,
    } = long_arn();
    // 40 KiB of tokens: restores to several times the limit.
    let n = 40 * 1024 / (token.len() + 1);
    let answer = format!("{{\"text\":\"{}\"}}", vec![token.as_str(); n].join(" "));
    let want = format!("{{\"text\":\"{}\"}}", vec![arn.as_str(); n].join(" "));
    assert!(want.len() > 3 * limit);
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let mut rng = Rng::new(5);
        for chunk_max in [512, 4096] {
            let id = send_request(&mut vm, "application/json", &request, &[&request]);
            vm.response_headers(
                id,
                &[(":status", "200"), ("content-type", "application/json")],
                false,
            );
            let chunks = rng.chunks(answer.as_bytes(), chunk_max);
            vm.response_body(id, &chunks);
            let h = vm.http(id);
            assert!(!h.response_stalled);
            assert_eq!(
                String::from_utf8_lossy(&h.downstream_body),
                want,
                "{profile:?}"
            );
            assert!(
                h.max_response_write <= limit,
                "{profile:?}: wrote {} bytes at once, limit {limit}",
                h.max_response_write
            );
            vm.finish(id);
        }
    }
}

/// An answer that arrives in one piece and would restore past the limit
/// passes with its tokens in place (nothing leaks, nothing breaks), is
/// counted, and the VM keeps serving, on every host and for every kind of
/// answer (Kong's JSON answers are restored as they pass, like streams).
#[test]
fn an_answer_too_large_to_restore_passes_with_its_tokens() {
    let LongArn {
        limit,
        config,
        arn: _,
        request,
        token,
    } = long_arn();
    let n = 40 * 1024 / (token.len() + 1);
    let answer = format!("{{\"text\":\"{}\"}}", vec![token.as_str(); n].join(" "));
    for profile in PROFILES {
        for ct in ["application/json", "text/plain", "text/event-stream"] {
            let mut vm = Vm::new(profile, &config);
            let id = send_request(&mut vm, "application/json", &request, &[&request]);
            vm.response_headers(id, &[(":status", "200"), ("content-type", ct)], false);
            vm.response_body(id, &[answer.as_bytes()]);
            let h = vm.http(id);
            assert!(!h.response_stalled);
            assert!(h.max_response_write <= limit, "{profile:?} {ct}");
            assert_eq!(
                String::from_utf8_lossy(&h.downstream_body),
                answer,
                "{profile:?} {ct}"
            );
            assert_eq!(vm.metric("aws_masker.responses_too_large"), Some(1));
            assert!(vm.logs_at(3).iter().any(|l| l.contains("unrestored")));
            vm.finish(id);
            let ok = br#"{"messages":[]}"#;
            let id = send_request(&mut vm, "application/json", ok, &[ok]);
            assert_forwarded(&vm, id);
        }
    }
}

/// An SSE answer with no blank line is not held whole: past the event cap
/// the stream ends with an Anthropic error event, counted and logged.
#[test]
fn an_sse_answer_without_event_ends_is_cut_with_an_error_event() {
    let (body, originals) = ids_request();
    let config = config_with("");
    let (_, tokens, _) = native_mask(&config, &body, BodyKind::Json);
    let token = token_for(&tokens, originals[0]).to_string();
    let line = format!("data: {token} and more text without a blank line\n");
    let chunk = line.repeat(64 * 1024 / line.len());
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let id = send_request(&mut vm, "application/json", &body, &[&body]);
        vm.response_headers(
            id,
            &[(":status", "200"), ("content-type", "text/event-stream")],
            false,
        );
        for _ in 0..40 {
            vm.response_chunk(id, chunk.as_bytes(), false);
        }
        vm.response_chunk(id, b"", true);
        let got = String::from_utf8_lossy(&vm.http(id).downstream_body).into_owned();
        assert!(got.starts_with("event: error\ndata: "), "{profile:?}");
        assert!(got.len() < 1024, "{profile:?}: {} bytes", got.len());
        assert_eq!(vm.metric("aws_masker.responses_aborted"), Some(1));
        assert!(vm.logs_at(3).iter().any(|l| l.contains("size cap")));
    }
}

/// A `text/plain` body that holds JSON is masked as JSON: an id written
/// with a JSON escape does not slip past.
#[test]
fn a_text_body_holding_json_is_masked_through_its_escapes() {
    let config = config_with("");
    let body = br#"{"note": "restart i\u002d0123456789abcdef0 now"}"#;
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config);
        let id = send_request(&mut vm, "text/plain", body, &[body]);
        assert_forwarded(&vm, id);
        let up: serde_json::Value = serde_json::from_slice(&vm.http(id).upstream_body).unwrap();
        let note = up["note"].as_str().unwrap();
        assert!(!note.contains("i-0123456789abcdef0"), "{profile:?}: {note}");
        assert!(note.contains("AWS_EC2_"), "{profile:?}: {note}");
    }
}

/// Masks `body` as a client with `api_key` and returns the token of
/// `value`.
fn token_seen_by(vm: &mut Vm, api_key: Option<&str>, body: &[u8], value: &str) -> String {
    let id = vm.new_exchange();
    let len = body.len().to_string();
    let mut headers: Vec<(&str, &str)> = post_headers("application/json", &len)
        .into_iter()
        .filter(|(k, _)| *k != "x-api-key")
        .collect();
    if let Some(k) = api_key {
        headers.push(("x-api-key", k));
    }
    vm.request_headers(id, &headers, false);
    vm.request_body(id, &[body]);
    assert_forwarded(vm, id);
    let up = String::from_utf8_lossy(&vm.http(id).upstream_body).into_owned();
    assert!(!up.contains(value));
    let start = up.find("AWS_EC2_").expect("a token upstream");
    let token = up[start..start + "AWS_EC2_".len() + 8].to_string();
    vm.finish(id);
    token
}

/// Tokens are scoped per client credential by default: the same client
/// always gets the same token, another client another one; `gateway`
/// scope gives every client the same. The credential is never logged.
#[test]
fn tokens_are_scoped_per_client() {
    let value = "i-0123456789abcdef0";
    let body = format!(r#"{{"messages":[{{"role":"user","content":"stop {value}"}}]}}"#);
    let body = body.as_bytes();
    for profile in PROFILES {
        let mut vm = Vm::new(profile, &config_with(""));
        let alice = token_seen_by(&mut vm, Some("sk-ant-alice-0001"), body, value);
        assert_eq!(
            alice,
            token_seen_by(&mut vm, Some("sk-ant-alice-0001"), body, value)
        );
        let bob = token_seen_by(&mut vm, Some("sk-ant-bob-0002"), body, value);
        assert_ne!(alice, bob, "{profile:?}");
        let anonymous = token_seen_by(&mut vm, None, body, value);
        assert_ne!(anonymous, alice);
        for secret in ["sk-ant-alice-0001", "sk-ant-bob-0002"] {
            assert!(!vm.log_text().contains(secret));
        }
        let mut gw = Vm::new(profile, &config_with(r#""token_scope": "gateway""#));
        let a = token_seen_by(&mut gw, Some("sk-ant-alice-0001"), body, value);
        assert_eq!(
            a,
            token_seen_by(&mut gw, Some("sk-ant-bob-0002"), body, value)
        );
        assert_ne!(a, alice);
        let mut tenant = Vm::new(
            profile,
            &config_with(r#""token_scope": "header", "token_scope_header": "x-api-key""#),
        );
        assert_eq!(
            token_seen_by(&mut tenant, Some("t-1"), body, value),
            token_seen_by(&mut tenant, Some("t-1"), body, value)
        );
    }
}

/// Kong without an `shm_kv` zone: with no secret configured the filter
/// still loads (it never calls shared data there, which would trap), and
/// warns that tokens are per worker. With the default zone and
/// `secret_sharing: "shared_data"`, Kong's workers share one secret.
#[test]
fn kong_without_shared_memory_never_traps() {
    let (body, _) = claude_request();
    for config in [
        "{}",
        "",
        r#"{"secret_sharing": "auto"}"#,
        r#"{"secret_sharing": "none"}"#,
    ] {
        let mut vm = Vm::new(Profile::Kong, config);
        assert!(
            vm.logs_at(3).iter().any(|l| l.contains("this worker only")),
            "{config}: {}",
            vm.log_text()
        );
        let id = send_request(&mut vm, "application/json", &body, &[&body]);
        assert_forwarded(&vm, id);
        assert_ne!(vm.http(id).upstream_body, body);
    }
    let shared = SharedData::default();
    let cfg = r#"{"secret_sharing": "shared_data"}"#;
    let mut a = Vm::kong_with_zone(cfg, shared.clone());
    let mut b = Vm::kong_with_zone(cfg, shared.clone());
    assert!(shared.lock().unwrap().contains_key("aws_masker.secret"));
    let ia = send_request(&mut a, "application/json", &body, &[&body]);
    let ib = send_request(&mut b, "application/json", &body, &[&body]);
    assert_eq!(a.http(ia).upstream_body, b.http(ib).upstream_body);
    // Envoy shares by default (`auto`); `none` keeps each worker's own.
    let shared = SharedData::default();
    let _ = Vm::with_shared(
        Profile::Envoy,
        r#"{"secret_sharing": "none"}"#,
        shared.clone(),
    );
    assert!(shared.lock().unwrap().is_empty());
}

/// A request whose one text is `lines` address lines, each a distinct
/// IPv4 address: the densest body there is (a value every ~20 bytes).
fn dense_lines(bytes: usize, json: bool) -> Vec<u8> {
    let mut text = String::with_capacity(bytes + 64);
    let mut i = 0u32;
    while text.len() < bytes {
        let [_, a, b, c] = i.to_be_bytes();
        text.push_str(&format!("addr 10.{a}.{b}.{c} ok\n"));
        i += 1;
    }
    if !json {
        return text.into_bytes();
    }
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5",
        "messages": [{"role": "user", "content": text}],
    }))
    .unwrap()
}

/// Per-exchange memory, measured on the VM's own linear memory: how much
/// it grows (its high-water mark: wasm memory never shrinks) for one
/// request, the copy of the body the filter reads included, against the
/// body's size; and the masked body that went upstream (written to the
/// host in pieces) is exactly the native engine's. Every body stays within
/// 3 times its size, masking and restoring: a body of real AWS output
/// (JSON inside JSON: an escape every ten bytes; measured 2.86), and the
/// densest body there is, a distinct address every 21 bytes (52,000 values
/// in 1 MiB; measured 2.80 as JSON, 2.81 as text), whose token map, 12
/// bytes an entry and 4 an index slot, keeps the originals where they
/// stand in the body until the masked body is written. The answer never
/// adds to that: Envoy reads and restores a JSON answer in pieces, and
/// Kong, whose engine cannot read a body in parts, restores it as it
/// passes (it was read whole there before, at 3.45 times the body).
#[test]
fn per_exchange_memory_stays_within_a_multiple_of_the_body() {
    let request = |text: &str| {
        serde_json::to_vec(&serde_json::json!({
            "model": "claude-sonnet-4-5",
            "messages": [{"role": "user", "content": text}],
        }))
        .unwrap()
    };
    let text = corpus::aws_corpus_text(2 << 20);
    let warm = request(&text[text.floor_char_boundary(2 << 20) - 20_000..]);
    let corpus = request(&text);
    let cases: [(&str, Vec<u8>, &str, f64); 3] = [
        ("AWS output, JSON", corpus, "application/json", 3.0),
        (
            "densest JSON",
            dense_lines(1 << 20, true),
            "application/json",
            3.0,
        ),
        (
            "densest text",
            dense_lines(1 << 20, false),
            "text/plain",
            3.0,
        ),
    ];
    for (name, body, content_type, bound) in cases {
        let kind = if content_type == "text/plain" {
            BodyKind::Text
        } else {
            BodyKind::Json
        };
        for profile in PROFILES {
            // The memo is the worker's (bounded by `memo_texts`, the same
            // for every exchange), not the exchange's: off here.
            let config = config_with(r#""memo_texts": 0"#);
            let (want, _, _) = native_mask(&config, &body, kind);
            assert_ne!(want, body, "{name}: nothing to mask");
            let mut vm = Vm::new(profile, &config);
            // Warm: a small request of the same kind of text builds what
            // the filter builds once per VM (the vocabulary filter, the
            // detectors' tables), so what grows next is the exchange's.
            let id = send_request(&mut vm, "application/json", &warm, &[&warm]);
            vm.finish(id);
            let before = vm.memory_bytes();
            let id = send_request(&mut vm, content_type, &body, &[&body]);
            assert_forwarded(&vm, id);
            assert!(
                vm.http(id).upstream_body == want,
                "{name} ({profile:?}): upstream differs from the native masking"
            );
            let masking = vm.memory_bytes();
            // The answer echoes what went upstream: restored, it is the
            // request again.
            vm.response_headers(
                id,
                &[(":status", "200"), ("content-type", content_type)],
                false,
            );
            let chunks: Vec<&[u8]> = want.chunks(64 * 1024).collect();
            vm.response_body(id, &chunks);
            assert!(
                vm.http(id).downstream_body == body,
                "{name} ({profile:?}): the answer was not restored exactly"
            );
            vm.finish(id);
            let grown = (vm.memory_bytes() - before) as f64 / body.len() as f64;
            eprintln!(
                "{name} ({profile:?}), {} bytes: the VM grew {:.2}x masking, {grown:.2}x with the restore",
                body.len(),
                (masking - before) as f64 / body.len() as f64,
            );
            assert!(
                grown <= bound,
                "{name} ({profile:?}): the VM grew {grown:.2}x the body (bound {bound})"
            );
        }
    }
}

/// The answer side alone: a small request, then a 2 MB JSON answer that
/// echoes its tokens every 200 bytes (as a model quoting a log back),
/// restored byte by byte and (with a `\u` escape of a letter) walked, and
/// one streamed as SSE. Restoring either grows the VM by at most 3 times
/// the answer, and the client gets the originals back exactly.
#[test]
fn restoring_a_large_answer_stays_within_three_times_it() {
    let config = config_with(r#""memo_texts": 0"#);
    let (request, originals) = ids_request();
    let (_, tokens, _) = native_mask(&config, &request, BodyKind::Json);
    let mut template = String::new();
    let filler = "the deployment log says nothing new here, ".repeat(4);
    for i in 0.. {
        if template.len() > 2_000_000 {
            break;
        }
        template.push_str(&format!(
            "{filler}{{{{{}}}}} ",
            originals[i % originals.len()]
        ));
    }
    let text = |restored: bool| render(&template, &tokens, restored);
    let json = |t: String| {
        serde_json::to_vec(&serde_json::json!({
            "type": "message",
            "content": [{"type": "text", "text": t}],
        }))
        .unwrap()
    };
    let (answer, want) = (json(text(false)), json(text(true)));
    // An ASCII letter written as a `\u` escape: the answer is walked
    // literal by literal, not restored byte by byte.
    let walked = |mut body: Vec<u8>| {
        body.splice(1..1, br#""note":"\u0041","#.iter().copied());
        body
    };
    let (walked_answer, walked_want) = (walked(answer.clone()), walked(want.clone()));
    let sse = |t: &str| {
        let mut out = String::new();
        for piece in t.as_bytes().chunks(200) {
            let delta = serde_json::json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": String::from_utf8_lossy(piece)}});
            out.push_str(&format!("event: content_block_delta\ndata: {delta}\n\n"));
        }
        out.into_bytes()
    };
    let (stream, stream_want) = (sse(&text(false)), sse(&text(true)));
    let cases = [
        ("JSON answer", &answer, &want, "application/json"),
        (
            "JSON answer, walked",
            &walked_answer,
            &walked_want,
            "application/json",
        ),
        ("SSE answer", &stream, &stream_want, "text/event-stream"),
    ];
    for (name, body, want, content_type) in cases {
        for profile in PROFILES {
            let mut vm = Vm::new(profile, &config);
            let id = send_request(&mut vm, "application/json", &request, &[&request]);
            assert_forwarded(&vm, id);
            let before = vm.memory_bytes();
            vm.response_headers(
                id,
                &[(":status", "200"), ("content-type", content_type)],
                false,
            );
            let chunks: Vec<&[u8]> = body.chunks(16 * 1024).collect();
            vm.response_body(id, &chunks);
            let got = &vm.http(id).downstream_body;
            if content_type == "text/event-stream" {
                // Deltas may be cut elsewhere around a token; their text
                // is the answer's, restored.
                assert_eq!(
                    sse_block_texts(got),
                    sse_block_texts(want),
                    "{name} ({profile:?}): not restored exactly"
                );
            } else {
                assert!(got == want, "{name} ({profile:?}): not restored exactly");
            }
            vm.finish(id);
            let grown = (vm.memory_bytes() - before) as f64 / body.len() as f64;
            eprintln!(
                "{name} ({profile:?}), {} bytes: the VM grew {grown:.2}x",
                body.len()
            );
            assert!(
                grown <= 3.0,
                "{name} ({profile:?}): the VM grew {grown:.2}x the answer"
            );
        }
    }
}
