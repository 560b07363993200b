//! Fail closed on every path (issue 12), in a real Envoy: request bodies
//! that end with trailers (HTTP/2 and HTTP/1.1), answers that end with
//! trailers, answers whose restored form is larger than the buffers,
//! requests whose masked form outgrows the limit or that carry too many
//! values, HTTP/2 bodies near the limits, and Envoy's memory after dense
//! requests.
//!
//! What the filter must do: never forward an original, never leave a
//! client with a truncated or corrupted answer without counting and
//! logging it (a stream that ends with trailers keeps its held tail: see
//! `text_answer_ending_with_trailers_keeps_its_tail`), never write a body
//! larger than `max_body_bytes` in one buffer (Envoy resets the stream and then
//! crashes), refuse with its own Anthropic-shaped JSON error before Envoy
//! answers with a plain-text one.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::client::{self, assemble_json, assemble_sse, Assembled};
use crate::envoy::{big_request, post, start_gateway, unique_id, Gateway};
use crate::fixtures::{self, ORIGINALS};
use crate::h2::{self, H2Request, H2Response};
use crate::mock::{repeat_body, tokens_in};

const MIB: usize = 1024 * 1024;
/// The filter's default `max_body_bytes` (src/config.rs).
const DEFAULT_MAX_BODY: usize = 32 * MIB;
/// `max_body_bytes` of the gateway for masked-growth tests.
const SMALL_MAX_BODY: usize = 4 * MIB;
/// How the filter's 413 names a body whose masked form is over the limit.
const MASKED_OVER: &str = "the masked request body exceeds the limit of";
/// The two originals of the trailers tests.
const TRAILER_ORIGINALS: [&str; 2] = ["i-0aaaa1111bbbb2222", "arn:aws:iam::123456789012:role/x"];

/// Default limits (32 MiB): trailers, HTTP/2 size tests.
fn default_gateway() -> &'static Gateway {
    static GW: OnceLock<Gateway> = OnceLock::new();
    GW.get_or_init(|| {
        start_gateway(
            "fc-default",
            r#"{"secret": "fail-closed-secret-0123456789"}"#,
            2,
        )
    })
}

/// `max_body_bytes` 4 MiB: masked growth past the limit.
fn small_gateway() -> &'static Gateway {
    static GW: OnceLock<Gateway> = OnceLock::new();
    GW.get_or_init(|| {
        start_gateway(
            "fc-small",
            r#"{"max_body_bytes": 4194304, "secret": "fail-closed-secret-0123456789"}"#,
            2,
        )
    })
}

fn api_headers(id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_string()),
        ("anthropic-version", "2023-06-01".to_string()),
        ("x-api-key", "sk-ant-fail-closed".to_string()),
        ("x-e2e-id", id.to_string()),
    ]
}

/// POSTs `body` to /v1/messages over HTTP/2, tagged `id`, with `extra`
/// headers, ending with `trailers` when given.
fn h2_post(
    gw: &Gateway,
    id: &str,
    body: &[u8],
    extra: &[(&str, &str)],
    trailers: Option<&[(&str, &str)]>,
) -> H2Response {
    let owned = api_headers(id);
    let mut headers: Vec<(&str, &str)> = owned.iter().map(|(n, v)| (*n, v.as_str())).collect();
    headers.extend_from_slice(extra);
    h2::request(
        gw.envoy.listen,
        &H2Request {
            method: "POST",
            path: "/v1/messages",
            headers: &headers,
            body,
            trailers,
        },
    )
}

/// The start of a body, for failure messages.
fn short(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= 600 {
        return text.into_owned();
    }
    let head: String = text.chars().take(600).collect();
    format!("{head}... ({} bytes)", body.len())
}

/// The last lines of a log, for failure messages.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Every body the upstream received for `id`.
fn upstream_bodies(gw: &Gateway, id: &str) -> Vec<String> {
    gw.mock
        .received_for(id)
        .into_iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

fn assert_no_original_upstream(gw: &Gateway, id: &str, originals: &[&str]) {
    for body in upstream_bodies(gw, id) {
        for o in originals {
            assert!(
                !body.contains(o),
                "the upstream received the original {o:?} (request {id})"
            );
        }
    }
}

/// Asserts that no address `10.a.b.c` (the dense tests' values) is in
/// `upstream`.
fn assert_no_address(upstream: &str) {
    static IP: OnceLock<regex_lite::Regex> = OnceLock::new();
    let ip = IP.get_or_init(|| regex_lite::Regex::new(r"\b10\.\d+\.\d+\.\d+\b").expect("regex"));
    assert!(!ip.is_match(upstream), "an address reached the upstream");
}

/// Asserts the filter's own JSON error: `status`, Anthropic's error shape,
/// `error_type`, a message starting with `aws-masker:` that contains
/// `mentions`. Envoy's own refusals are plain text and fail this.
fn assert_filter_error(
    status: Option<u16>,
    content_type: Option<&str>,
    body: &[u8],
    want_status: u16,
    error_type: &str,
    mentions: &str,
) {
    let text = short(body);
    assert_eq!(status, Some(want_status), "body: {text}");
    assert!(
        content_type.is_some_and(|c| c.contains("json")),
        "not the filter's JSON error (content-type {content_type:?}): {text}"
    );
    let v: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {text}"));
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(v["error"]["type"], error_type, "{v}");
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("aws-masker: "), "{v}");
    assert!(
        message.contains(mentions),
        "message lacks {mentions:?}: {v}"
    );
}

/// A counter's value, 0 when Envoy does not list it.
fn counter(stats: &BTreeMap<String, u64>, name: &str) -> u64 {
    stats.get(name).copied().unwrap_or(0)
}

/// Gives a wrongly forwarded request time to reach the mock.
fn settle() {
    std::thread::sleep(Duration::from_millis(200));
}

/// `aws_masker.refusals.too_large` and the number of `413 too_large`
/// refusal lines in the log, to compare after a request (other tests may
/// add theirs meanwhile: both only grow).
fn too_large_marks(gw: &Gateway) -> (u64, usize) {
    (
        counter(&gw.envoy.filter_stats(), "aws_masker.refusals.too_large"),
        gw.envoy.log_text().matches(": 413 too_large").count(),
    )
}

/// Asserts the filter's own 413 for a body over `max_body_bytes` (`limit`),
/// as it came or once masked: Anthropic's error shape, its message saying
/// `what` and the limit,
/// nothing forwarded, the refusal counted and logged since `before`
/// ([`too_large_marks`]).
fn assert_too_large(
    gw: &Gateway,
    id: &str,
    before: (u64, usize),
    (what, limit): (&str, usize),
    status: Option<u16>,
    content_type: Option<&str>,
    body: &[u8],
) {
    assert_filter_error(
        status,
        content_type,
        body,
        413,
        "request_too_large",
        &format!("{what} {limit} bytes (max_body_bytes)"),
    );
    settle();
    assert!(upstream_bodies(gw, id).is_empty(), "refused, yet forwarded");
    let (count, lines) = too_large_marks(gw);
    assert!(
        count > before.0,
        "aws_masker.refusals.too_large not counted ({count})"
    );
    assert!(
        lines > before.1,
        "no refusal line in the log:\n{}",
        tail(&gw.envoy.log_text())
    );
}

// ---------------------------------------------------------------------
// a. Request bodies that end with trailers.
// ---------------------------------------------------------------------

fn trailers_request(stream: bool) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5-20250929", "max_tokens": 100, "stream": stream,
        "messages": [{"role": "user", "content": format!(
            "Why can't {} assume {}? Padding so that the body spans several frames: {}",
            TRAILER_ORIGINALS[0], TRAILER_ORIGINALS[1], "lorem ipsum ".repeat(3000))}]
    }))
    .expect("body")
}

/// The request ended with trailers: either it was masked and the answer
/// restored, or the filter refused it with its JSON error. Never an
/// original upstream.
fn assert_trailers_outcome(
    gw: &Gateway,
    id: &str,
    stream: bool,
    status: Option<u16>,
    content_type: Option<&str>,
    body: &[u8],
) {
    settle();
    assert_no_original_upstream(gw, id, &TRAILER_ORIGINALS);
    assert!(
        !upstream_bodies(gw, id)
            .iter()
            .any(|b| b.contains("123456789012")),
        "the account id reached the upstream"
    );
    if status != Some(200) {
        // The filter may refuse a body it cannot mask in time; then in its
        // own error shape, and nothing forwarded.
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|e| {
            panic!(
                "status {status:?} without the filter's JSON error ({e}): {}",
                short(body)
            )
        });
        assert!(content_type.is_some_and(|c| c.contains("json")));
        assert_eq!(v["type"], "error", "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("aws-masker: ")),
            "{v}"
        );
        assert!(upstream_bodies(gw, id).is_empty(), "refused, yet forwarded");
        return;
    }
    let bodies = upstream_bodies(gw, id);
    assert_eq!(bodies.len(), 1, "forwarded exactly once");
    let issued = tokens_in(bodies[0].as_bytes());
    assert_eq!(issued.len(), 2, "one token per original: {issued:?}");
    let received = &gw.mock.received_for(id)[0];
    assert!(
        received
            .trailers
            .iter()
            .any(|(n, v)| n == "x-any-trailer" && v == "1"),
        "the request trailers did not reach the upstream: {:?}",
        received.trailers
    );
    let got: Assembled = if stream {
        assemble_sse(body)
    } else {
        assemble_json(&serde_json::from_slice(body).expect("JSON answer"))
    };
    for o in TRAILER_ORIGINALS {
        assert!(got.text.contains(o), "answer lacks {o:?}: {}", got.text);
    }
    for t in &issued {
        assert!(
            !got.text.contains(t.as_str()),
            "token {t} left in the answer"
        );
    }
}

fn h2_trailers_case(stream: bool) {
    let gw = default_gateway();
    let id = unique_id("h2-trailers");
    let resp = h2_post(
        gw,
        &id,
        &trailers_request(stream),
        &[],
        Some(&[("x-any-trailer", "1")]),
    );
    assert!(!resp.timeout, "no answer within 60 s: {resp:?}");
    assert!(
        resp.reset.is_none() && resp.goaway.is_none(),
        "stream reset (code {:?}) or connection closed (code {:?}) after {} body bytes: {}",
        resp.reset,
        resp.goaway,
        resp.sent,
        tail(&gw.envoy.log_text())
    );
    assert!(resp.body_done, "the request was not sent whole: {resp:?}");
    assert_trailers_outcome(
        gw,
        &id,
        stream,
        resp.status,
        resp.header("content-type"),
        &resp.body,
    );
}

#[test]
fn h2_body_ending_with_trailers_is_masked() {
    h2_trailers_case(false);
}

#[test]
fn h2_streamed_request_ending_with_trailers_is_masked() {
    h2_trailers_case(true);
}

#[test]
fn http1_chunked_body_ending_with_trailers_is_masked() {
    // The connection manager accepts HTTP/1.1 trailers (enable_trailers):
    // the same path as HTTP/2's, for HTTP/1.1 clients.
    let gw = default_gateway();
    let id = unique_id("h1-trailers");
    let owned = api_headers(&id);
    let headers: Vec<(&str, &str)> = owned.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let resp = client::request_chunked(
        gw.envoy.listen,
        "POST",
        "/v1/messages",
        &headers,
        &trailers_request(false),
        4096,
        &[("x-any-trailer", "1")],
    )
    .unwrap_or_else(|e| panic!("request failed: {e}\n{}", tail(&gw.envoy.log_text())));
    assert_trailers_outcome(
        gw,
        &id,
        false,
        Some(resp.status),
        resp.header("content-type"),
        &resp.body,
    );
}

// ---------------------------------------------------------------------
// b. Answers that end with trailers.
// ---------------------------------------------------------------------

fn assert_mock_trailer(trailers: &[(String, String)]) {
    assert!(
        trailers
            .iter()
            .any(|(n, v)| n == "x-mock-trailer" && v == "done"),
        "the answer's trailers did not reach the client: {trailers:?}"
    );
}

/// The originals of the Claude Code request are all in `got`, and no token
/// the upstream saw is left.
fn assert_restored(gw: &Gateway, id: &str, got: &Assembled) -> Vec<String> {
    let bodies = upstream_bodies(gw, id);
    assert_eq!(bodies.len(), 1, "forwarded exactly once");
    let issued = tokens_in(bodies[0].as_bytes());
    assert!(!issued.is_empty());
    let tool = serde_json::to_string(&got.tool_inputs).expect("tool inputs");
    for o in ORIGINALS {
        assert!(
            !bodies[0].contains(o),
            "upstream received the original {o:?}"
        );
        assert!(got.text.contains(o), "text lacks {o:?}: {}", got.text);
        assert!(tool.contains(o), "tool input lacks {o:?}: {tool}");
    }
    for t in &issued {
        assert!(!got.text.contains(t.as_str()), "token {t} left in text");
        assert!(!tool.contains(t.as_str()), "token {t} left in tool input");
    }
    issued
}

#[test]
fn json_answer_ending_with_trailers_is_restored() {
    // The mock sends the JSON in 50-byte chunks, none ending the stream,
    // then trailers: the filter paused every chunk, so Envoy still holds
    // the body when the trailers come, and the restore written in the
    // trailers callback is what the client gets.
    let gw = default_gateway();
    let body = serde_json::to_vec(&fixtures::claude_code_request(false)).expect("body");
    // HTTP/2: the client receives the trailers as a HEADERS frame.
    let id = unique_id("json-trailers-h2");
    let resp = h2_post(gw, &id, &body, &[("x-mock-trailers", "1")], None);
    assert_eq!(resp.status, Some(200), "{}", short(&resp.body));
    let got = assemble_json(&resp.json());
    assert_restored(gw, &id, &got);
    assert_eq!(got.tool_inputs.len(), 1, "the whole message arrived");
    assert_mock_trailer(&resp.trailers);
    // HTTP/1.1 (the connection manager passes trailers on to it too).
    let id = unique_id("json-trailers-h1");
    let resp = post(gw, &id, &body, &[("x-mock-trailers", "1")]);
    assert_eq!(resp.status, 200, "{}", short(&resp.body));
    let got = assemble_json(&resp.json());
    assert_restored(gw, &id, &got);
    assert_mock_trailer(&resp.trailers);
}

#[test]
fn sse_answer_ending_with_trailers_is_restored() {
    let gw = default_gateway();
    let id = unique_id("sse-trailers");
    let body = serde_json::to_vec(&fixtures::claude_code_request(true)).expect("body");
    let resp = h2_post(gw, &id, &body, &[("x-mock-trailers", "1")], None);
    assert_eq!(resp.status, Some(200), "{}", short(&resp.body));
    let got = assemble_sse(&resp.body);
    assert_restored(gw, &id, &got);
    // Complete: every event up to message_stop, the tool input whole.
    assert_eq!(
        got.events.first().map(String::as_str),
        Some("message_start")
    );
    assert_eq!(got.events.last().map(String::as_str), Some("message_stop"));
    assert_eq!(got.tool_inputs.len(), 1);
    assert!(
        resp.body.ends_with(b"\n\n"),
        "the stream lost its tail: {:?}",
        String::from_utf8_lossy(&resp.body[resp.body.len().saturating_sub(200)..])
    );
    assert_mock_trailer(&resp.trailers);
}

#[test]
fn text_answer_ending_with_trailers_keeps_its_tail() {
    // A text answer (streamed, chunk by chunk) that ends with a token cut
    // short: the restorer holds it back while it could still become a
    // token, and releases it when the trailers end the stream. Envoy 1.40
    // takes no body write in the trailers callback once the filter let the
    // last chunk continue (its response body buffer is gone then), so the
    // filter keeps (pauses) a chunk while it holds a tail, and appends the
    // tail to the kept chunk at the trailers: the client gets the answer
    // whole, nothing counted lost.
    let gw = default_gateway();
    let id = unique_id("text-trailers");
    let incomplete_before = counter(&gw.envoy.filter_stats(), "aws_masker.responses_incomplete");
    let body = serde_json::to_vec(&fixtures::claude_code_request(false)).expect("body");
    let resp = h2_post(
        gw,
        &id,
        &body,
        &[("x-mock-trailers", "1"), ("x-mock-text", "1")],
        None,
    );
    assert_eq!(resp.status, Some(200), "{}", short(&resp.body));
    assert_mock_trailer(&resp.trailers);
    let bodies = upstream_bodies(gw, &id);
    assert_eq!(bodies.len(), 1, "forwarded exactly once");
    let issued = tokens_in(bodies[0].as_bytes());
    let text = resp.text();
    for t in &issued {
        assert!(!text.contains(t.as_str()), "token {t} left: {text}");
    }
    for o in ORIGINALS {
        assert!(text.contains(o), "answer lacks {o:?}: {text}");
    }
    let (found, cut) = text
        .strip_prefix("Found: ")
        .and_then(|t| t.rsplit_once(". Cut: "))
        .unwrap_or_else(|| panic!("not the mock's text answer: {text}"));
    assert_eq!(
        found.split(' ').count(),
        issued.len(),
        "one restored value per token: {text}"
    );
    let first = &issued[0];
    let tail_sent = &first[..first.len() - 3];
    assert_eq!(cut, tail_sent, "the answer lost its held tail: {text}");
    let incomplete = counter(&gw.envoy.filter_stats(), "aws_masker.responses_incomplete");
    assert_eq!(incomplete, incomplete_before, "counted as incomplete");
}

// ---------------------------------------------------------------------
// c. Answers whose restored form outgrows the buffers.
// ---------------------------------------------------------------------

/// A role ARN of 157 characters: its token is about 7 times shorter.
fn long_role_arn() -> String {
    let head = "arn:aws:iam::123456789012:role/platform/data-engineering/pipelines/ingest/production/eu-west-1/";
    let mut name = String::from("IngestPipelineExecutionRole-");
    let pad = "abcdef0123456789";
    while head.len() + name.len() < 157 {
        let need = 157 - head.len() - name.len();
        name.push_str(&pad[..need.min(pad.len())]);
    }
    let arn = format!("{head}{name}");
    assert_eq!(arn.len(), 157);
    arn
}

/// The request of the oversized-restore tests: `originals` and nothing
/// else the filter masks.
fn originals_request(originals: &[String]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5-20250929", "max_tokens": 100,
        "messages": [{"role": "user", "content": format!("Look at {}", originals.join(" and "))}]
    }))
    .expect("body")
}

/// How many of `events` are text deltas, and the others in order.
fn split_deltas(events: &[String]) -> (usize, Vec<&String>) {
    let n = events
        .iter()
        .filter(|e| *e == "content_block_delta")
        .count();
    let rest = events
        .iter()
        .filter(|e| *e != "content_block_delta")
        .collect();
    (n, rest)
}

/// Sends the request with `originals`, the mock answering `bytes` of
/// their tokens repeated (`format`, `framing`); checks that Envoy survives,
/// that the answer is the mock's exactly, each token either restored or
/// left in place, and that a token left in place is counted. Returns
/// whether the answer was restored whole.
fn oversized_restore_case(
    label: &str,
    originals: &[String],
    bytes: usize,
    sse: bool,
    chunked: bool,
) -> bool {
    let gw = start_gateway(label, r#"{"secret": "fail-closed-secret-0123456789"}"#, 1);
    let id = unique_id(label);
    let size = bytes.to_string();
    let started = Instant::now();
    let mut headers = vec![
        ("content-type", "application/json"),
        ("x-api-key", "sk-ant-fail-closed"),
        ("x-e2e-id", id.as_str()),
        ("x-mock-repeat", size.as_str()),
        ("x-mock-format", if sse { "sse" } else { "json" }),
        ("x-mock-framing", if chunked { "chunked" } else { "length" }),
    ];
    if sse {
        // Paced like a model's stream: Envoy then hands the filter small
        // chunks (unpaced, one read can bring megabytes, whose worst case
        // the filter will not write in one piece).
        headers.push(("x-mock-pace-ms", "2"));
    }
    let result = client::request(
        gw.envoy.listen,
        "POST",
        "/v1/messages",
        &headers,
        &originals_request(originals),
    );
    let elapsed = started.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        gw.envoy.is_running(),
        "Envoy died restoring a {bytes}-byte answer:\n{}",
        tail(&gw.envoy.log_text())
    );
    let resp = result.unwrap_or_else(|e| {
        panic!(
            "no complete answer ({e}) after {elapsed:?}:\n{}",
            tail(&gw.envoy.log_text())
        )
    });
    assert_eq!(resp.status, 200, "{}", tail(&gw.envoy.log_text()));

    // What the mock sent, and which token stands for which original.
    let bodies = upstream_bodies(&gw, &id);
    assert_eq!(bodies.len(), 1);
    let issued = tokens_in(bodies[0].as_bytes());
    assert_eq!(
        issued.len(),
        originals.len(),
        "one token per original: {issued:?}"
    );
    let sent = repeat_body(&issued, bytes, sse);
    // Every byte the client got is the mock's, with some tokens (all, when
    // restored) replaced by their originals: nothing lost, nothing broken.
    // An SSE stream is compared event by event (a restorer may move a
    // token split across two deltas into one of them).
    let tokenize = |text: &str| {
        let mut text = text.to_string();
        for (o, t) in originals.iter().zip(&issued) {
            text = text.replace(o.as_str(), t);
        }
        text
    };
    let restored_copies = resp.text().matches(originals[0].as_str()).count();
    if sse {
        let got = assemble_sse(&resp.body);
        let want = assemble_sse(&sent);
        // Giving up mid-stream releases a held token tail as one extra
        // text delta; nothing else may change.
        let ((got_n, got_rest), (want_n, want_rest)) =
            (split_deltas(&got.events), split_deltas(&want.events));
        assert_eq!(got_rest, want_rest, "the stream's events changed");
        assert!(
            got_n == want_n || got_n == want_n + 1,
            "{got_n} text deltas for the mock's {want_n}"
        );
        assert!(
            tokenize(&got.text) == want.text,
            "the streamed text is not the mock's with tokens restored or kept ({} bytes got, {} sent)",
            got.text.len(),
            want.text.len()
        );
    } else {
        assert!(
            tokenize(&resp.text()).as_bytes() == sent.as_slice(),
            "the answer is not the mock's with tokens restored or kept ({} bytes got, {} sent)",
            resp.body.len(),
            sent.len()
        );
    }
    let text = resp.text();
    let left: usize = issued
        .iter()
        .map(|t| text.matches(t.as_str()).count())
        .sum();
    let stats = gw.envoy.filter_stats();
    if left > 0 {
        assert!(
            counter(&stats, "aws_masker.responses_too_large") >= 1,
            "{left} tokens left in place, but aws_masker.responses_too_large is not counted: {stats:?}"
        );
    }
    eprintln!(
        "{label}: {} bytes sent, {} got, {restored_copies} copies restored, {left} tokens kept, {elapsed:?}",
        sent.len(),
        resp.body.len()
    );

    // Envoy still serves a normal round trip.
    let id2 = unique_id(label);
    let body = serde_json::to_vec(&fixtures::claude_code_request(false)).expect("body");
    let resp = post(&gw, &id2, &body, &[]);
    assert_eq!(resp.status, 200, "{}", short(&resp.body));
    let got = assemble_json(&resp.json());
    assert_restored(&gw, &id2, &got);
    assert!(gw.envoy.is_running());
    left == 0
}

/// About 6 MB of long-ARN tokens: restored, about 45 MB.
const ARN_TOKEN_BYTES: usize = 6_000_000;

#[test]
fn oversized_json_restore_with_content_length_keeps_envoy_alive() {
    oversized_restore_case(
        "fc-big-json-length",
        &[long_role_arn()],
        ARN_TOKEN_BYTES,
        false,
        false,
    );
}

#[test]
fn oversized_json_restore_chunked_keeps_envoy_alive() {
    oversized_restore_case(
        "fc-big-json-chunked",
        &[long_role_arn()],
        ARN_TOKEN_BYTES,
        false,
        true,
    );
}

#[test]
fn oversized_sse_restore_keeps_envoy_alive() {
    // SSE is restored event by event: each event grows, none is too large.
    let restored = oversized_restore_case(
        "fc-big-sse",
        &[long_role_arn()],
        ARN_TOKEN_BYTES,
        true,
        true,
    );
    assert!(restored, "an SSE stream of small events is restored whole");
}

#[test]
fn json_answer_over_max_body_keeps_envoy_alive() {
    // A JSON answer larger than max_body_bytes itself (EC2 tokens).
    let ids: Vec<String> = [
        "i-0123456789abcdef0",
        "i-0fedcba9876543210",
        "i-0a1b2c3d4e5f60718",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    oversized_restore_case(
        "fc-json-over-limit",
        &ids,
        DEFAULT_MAX_BODY + 2 * MIB,
        false,
        false,
    );
}

// ---------------------------------------------------------------------
// d. Masked growth past the limit; HTTP/2 bodies near the limits.
// ---------------------------------------------------------------------

/// Distinct IPv4 addresses 10.a.b.c (c in 1..=254), from `start` on.
fn distinct_ips(start: usize, n: usize) -> impl Iterator<Item = String> {
    (start..start + n).map(|i| {
        let c = i % 254 + 1;
        let b = (i / 254) % 256;
        let a = (i / (254 * 256)) % 256;
        format!("10.{a}.{b}.{c}")
    })
}

/// A JSON request whose one text holds `lines` (joined with newlines).
fn lines_request(lines: impl Iterator<Item = String>) -> Vec<u8> {
    let text: Vec<String> = lines.collect();
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5-20250929", "max_tokens": 100,
        "messages": [{"role": "user", "content": text.join("\n")}]
    }))
    .expect("body")
}

/// About `size` bytes of lines `10.a.b.c `: 60,000 distinct addresses
/// (under the default `max_values_per_request`, 100,000, so that growth
/// is the only reason to refuse), cycled. Each masked address is longer
/// (`AWS_IP_` + 8 hex digits): about 1.6 times the bytes.
fn growth_request(size: usize) -> Vec<u8> {
    let n = size / "10.1.23.45 \\n".len();
    let ips: Vec<String> = distinct_ips(0, 60_000).collect();
    let body = lines_request(ips.iter().cycle().take(n).map(|ip| format!("{ip} ")));
    assert!(body.len() < SMALL_MAX_BODY, "{} bytes", body.len());
    body
}

#[test]
fn masked_growth_over_the_limit_is_refused_over_http1_chunked() {
    let gw = small_gateway();
    let id = unique_id("growth-h1");
    let before = too_large_marks(gw);
    let owned = api_headers(&id);
    let headers: Vec<(&str, &str)> = owned.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let resp = client::request_chunked(
        gw.envoy.listen,
        "POST",
        "/v1/messages",
        &headers,
        &growth_request(3 * MIB + MIB / 2),
        64 * 1024,
        &[],
    )
    .unwrap_or_else(|e| panic!("request failed: {e}\n{}", tail(&gw.envoy.log_text())));
    assert_too_large(
        gw,
        &id,
        before,
        (MASKED_OVER, SMALL_MAX_BODY),
        Some(resp.status),
        resp.header("content-type"),
        &resp.body,
    );
}

#[test]
fn masked_growth_within_the_limit_is_forwarded() {
    // The control for the two refusals: the same lines, masked to less
    // than max_body_bytes, go upstream masked.
    let gw = small_gateway();
    let id = unique_id("growth-ok");
    let body = growth_request(2 * MIB);
    let resp = post(gw, &id, &body, &[("x-mock-brief", "1")]);
    assert_eq!(resp.status, 200, "{}", short(&resp.body));
    let bodies = upstream_bodies(gw, &id);
    assert_eq!(bodies.len(), 1, "forwarded exactly once");
    assert_no_address(&bodies[0]);
    assert!(
        bodies[0].len() > body.len() * 5 / 4 && bodies[0].len() <= SMALL_MAX_BODY,
        "{} bytes masked to {}: not the growth the refusals rely on",
        body.len(),
        bodies[0].len()
    );
}

#[test]
fn masked_growth_over_the_limit_is_refused_over_http2() {
    let gw = small_gateway();
    let id = unique_id("growth-h2");
    let before = too_large_marks(gw);
    let resp = h2_post(gw, &id, &growth_request(3 * MIB + MIB / 2), &[], None);
    assert_too_large(
        gw,
        &id,
        before,
        (MASKED_OVER, SMALL_MAX_BODY),
        resp.status,
        resp.header("content-type"),
        &resp.body,
    );
}

#[test]
fn h2_body_of_twenty_mib_is_masked() {
    // Above Envoy's default HTTP/2 stream window (16 MiB), below the
    // filter's default max_body_bytes: the filter masks it, Envoy does not
    // answer its own 413.
    let gw = default_gateway();
    let id = unique_id("h2-20mib");
    let ids = ["i-0123456789abcdef0", "vpc-0fedcba9876543210", "10.42.7.9"];
    let body = big_request(20 * MIB, &ids);
    assert!(body.len() > 20 * MIB && body.len() < DEFAULT_MAX_BODY);
    let resp = h2_post(gw, &id, &body, &[], None);
    assert_eq!(resp.status, Some(200), "{}", short(&resp.body));
    let bodies = upstream_bodies(gw, &id);
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0].len() > 19 * MIB,
        "upstream got {} bytes",
        bodies[0].len()
    );
    for o in ids {
        assert!(!bodies[0].contains(o), "upstream received {o:?}");
    }
    let issued = tokens_in(bodies[0].as_bytes());
    assert_eq!(issued.len(), ids.len(), "{issued:?}");
    let got = assemble_json(&resp.json());
    for o in ids {
        assert!(got.text.contains(o), "answer lacks {o:?}");
    }
}

#[test]
fn h2_body_over_max_body_bytes_gets_the_filters_413() {
    // Over the default max_body_bytes: Envoy's windows and buffers hold it
    // (envoy.template.yaml), so the refusal is the filter's, not Envoy's
    // plain-text 413.
    let gw = default_gateway();
    let id = unique_id("h2-413");
    let body = big_request(DEFAULT_MAX_BODY + 2 * MIB, &["i-0123456789abcdef0"]);
    let before = too_large_marks(gw);
    let resp = h2_post(gw, &id, &body, &[], None);
    assert_too_large(
        gw,
        &id,
        before,
        ("the masking limit of", DEFAULT_MAX_BODY),
        resp.status,
        resp.header("content-type"),
        &resp.body,
    );
}

// ---------------------------------------------------------------------
// e. Too many values in one request.
// ---------------------------------------------------------------------

#[test]
fn too_many_values_are_refused_and_few_enough_are_masked() {
    let gw = start_gateway(
        "fc-values",
        r#"{"max_values_per_request": 1000, "secret": "fail-closed-secret-0123456789"}"#,
        1,
    );
    // 5000 distinct addresses: over the cap, refused.
    let id = unique_id("values-5000");
    let body = lines_request(distinct_ips(0, 5000));
    let resp = post(&gw, &id, &body, &[]);
    assert_filter_error(
        Some(resp.status),
        resp.header("content-type"),
        &resp.body,
        413,
        "request_too_large",
        "max_values_per_request",
    );
    settle();
    assert!(
        upstream_bodies(&gw, &id).is_empty(),
        "refused, yet forwarded"
    );
    let stats = gw.envoy.filter_stats();
    assert_eq!(
        counter(&stats, "aws_masker.refusals.too_many_values"),
        1,
        "{stats:?}"
    );
    // 500: masked and forwarded.
    let id = unique_id("values-500");
    let body = lines_request(distinct_ips(10_000, 500));
    let resp = post(&gw, &id, &body, &[("x-mock-brief", "1")]);
    assert_eq!(resp.status, 200, "{}", short(&resp.body));
    let bodies = upstream_bodies(&gw, &id);
    assert_eq!(bodies.len(), 1);
    assert_no_address(&bodies[0]);
    assert_eq!(tokens_in(bodies[0].as_bytes()).len(), 500);
}

// ---------------------------------------------------------------------
// f. Envoy's memory after dense requests.
// ---------------------------------------------------------------------

/// An 8 MB body of lines that are all values (addresses and instance
/// ids), at most `distinct` of them different (from `start` on), repeated
/// to fill it; and how many are different.
fn dense_request(start: usize, distinct: usize) -> (Vec<u8>, usize) {
    let mut values: Vec<String> = Vec::with_capacity(distinct);
    for (k, ip) in distinct_ips(start, distinct / 2).enumerate() {
        values.push(ip);
        values.push(format!(
            "i-{:017x}",
            0x0fc0_0000_0000_0000_u64 + (start + k) as u64
        ));
    }
    let mut lines = Vec::new();
    let mut size = 0;
    for v in values.iter().cycle() {
        if size >= 8_000_000 {
            break;
        }
        size += v.len() + 2;
        lines.push(v.clone());
    }
    let different = lines.len().min(values.len());
    (lines_request(lines.into_iter()), different)
}

#[test]
fn envoy_memory_stays_bounded_after_dense_requests() {
    let gw = start_gateway(
        "fc-memory",
        r#"{"secret": "fail-closed-secret-0123456789"}"#,
        1,
    );
    // Idle: after one small request, so both the VM and the connection
    // pools exist.
    let id = unique_id("mem-warm");
    let body = serde_json::to_vec(&fixtures::claude_code_request(false)).expect("body");
    assert_eq!(post(&gw, &id, &body, &[]).status, 200);
    let idle = gw.envoy.rss_bytes();
    let mut peak = idle;
    let mut after = Vec::new();
    let mut log = Vec::new();
    // Six 8 MB bodies: four with 90,000 distinct values (under the default
    // max_values_per_request, 100,000), two with every value distinct
    // (about 455,000: over it).
    for (n, distinct) in [90_000, 90_000, 700_000, 90_000, 700_000, 90_000]
        .into_iter()
        .enumerate()
    {
        let id = unique_id("mem-dense");
        let (body, distinct) = dense_request(n * 1_000_000, distinct);
        let started = Instant::now();
        let resp = post(&gw, &id, &body, &[("x-mock-brief", "1")]);
        let took = started.elapsed();
        match resp.status {
            200 => {
                let bodies = upstream_bodies(&gw, &id);
                assert_eq!(bodies.len(), 1);
                assert_no_address(&bodies[0]);
                assert!(
                    !bodies[0].contains("i-0fc"),
                    "an instance id reached the upstream"
                );
            }
            413 => assert_filter_error(
                Some(resp.status),
                resp.header("content-type"),
                &resp.body,
                413,
                "request_too_large",
                "aws-masker: ",
            ),
            s => panic!("dense request {n}: status {s}: {}", short(&resp.body)),
        }
        let rss = gw.envoy.rss_bytes();
        peak = peak.max(rss);
        after.push(rss);
        log.push(format!(
            "#{n} {distinct} distinct, {} bytes: {} in {took:?}, RSS {} MiB",
            body.len(),
            resp.status,
            rss / MIB as u64
        ));
    }
    // The bound: issue 12 asks that the VM stay within about 3 times
    // max_body_bytes; RSS counts Envoy's own buffers too, so this is a
    // ceiling, not the per-exchange bound (tests/wasm measures that on the
    // VM's memory). Measured (Envoy 1.40, one worker): before issue 12,
    // idle 108 MiB, 177 MiB after the first capped body, 221-246 MiB after
    // an uncapped one (over the bound); with max_values_per_request
    // (a082543), idle 107-108 MiB, 175 MiB after the first capped body,
    // 181-189 MiB at the peak, over runs. Each worker's VM grows on its
    // own: with N workers, N times that share.
    let bound = 3 * DEFAULT_MAX_BODY as u64 + idle;
    eprintln!(
        "memory: idle {} MiB, peak {} MiB, bound {} MiB\n{}",
        idle / MIB as u64,
        peak / MIB as u64,
        bound / MIB as u64,
        log.join("\n")
    );
    assert!(
        peak < bound,
        "Envoy's RSS reached {} MiB, over 3 × max_body_bytes + idle = {} MiB:\n{}",
        peak / MIB as u64,
        bound / MIB as u64,
        log.join("\n")
    );
    // Flat after the first bodies: the same work again keeps no more (a
    // token map or buffer kept per exchange would grow it by megabytes a
    // request). The slack covers the allocators' own rounding.
    let settled = after[1];
    let last = *after.last().expect("six requests");
    assert!(
        last <= settled + 16 * MIB as u64,
        "RSS grew from {} MiB to {} MiB over identical requests:\n{}",
        settled / MIB as u64,
        last / MIB as u64,
        log.join("\n")
    );
    assert!(gw.envoy.is_running());
}
