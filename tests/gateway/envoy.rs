//! End-to-end tests: a real Envoy with the built filter in front of a mock
//! of the Anthropic Messages API.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use crate::client::{self, assemble_json, assemble_sse, Assembled, Response};
use crate::fixtures::{self, ORIGINALS};
use crate::harness::{self, Envoy, EnvoySpec};
use crate::mock::{tokens_in, MockApi};

/// The shared gateway's `max_body_bytes`: small enough to test 413 cheaply.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// The shared gateway's filter configuration.
const CONFIG: &str = r#"{"max_body_bytes": 16777216, "secret": "e2e-secret-0123456789abcdef"}"#;

/// One Envoy and one mock upstream shared by the tests of this binary.
pub struct Gateway {
    /// The mock upstream.
    pub mock: MockApi,
    /// Envoy with the filter, forwarding to `mock`.
    pub envoy: Envoy,
}

/// The shared gateway, started on first use.
pub fn shared() -> &'static Gateway {
    static GATEWAY: OnceLock<Gateway> = OnceLock::new();
    GATEWAY.get_or_init(|| start_gateway("shared", CONFIG, 2))
}

/// Starts a mock and an Envoy with the filter configured by `config` and
/// `concurrency` workers.
pub fn start_gateway(label: &str, config: &str, concurrency: usize) -> Gateway {
    let mock = MockApi::start();
    let envoy = harness::start(&EnvoySpec {
        label,
        config,
        upstream: format!("http://{}", mock.addr),
        filter: true,
        concurrency,
    })
    .unwrap_or_else(|log| panic!("Envoy ({label}) with the filter did not start: {log}"));
    Gateway { mock, envoy }
}

/// A fresh id for the `x-e2e-id` header, so a test finds its own requests
/// in the shared mock's log.
pub fn unique_id(label: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{label}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// POSTs JSON to /v1/messages through the gateway, tagged with `id`.
pub fn post(gw: &Gateway, id: &str, body: &[u8], extra: &[(&str, &str)]) -> Response {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("anthropic-version", "2023-06-01"),
        ("x-api-key", "sk-ant-test"),
        ("x-e2e-id", id),
    ];
    headers.extend_from_slice(extra);
    client::request(gw.envoy.listen, "POST", "/v1/messages", &headers, body)
        .unwrap_or_else(|e| panic!("request {id} failed: {e}\n{}", gw.envoy.log_text()))
}

/// The one body the upstream received for `id`.
fn upstream_body(gw: &Gateway, id: &str) -> String {
    let got = gw.mock.received_for(id);
    assert_eq!(
        got.len(),
        1,
        "upstream should see request {id} exactly once"
    );
    assert_eq!(
        (got[0].method.as_str(), got[0].path.as_str()),
        ("POST", "/v1/messages")
    );
    String::from_utf8(got[0].body.clone()).expect("upstream body is UTF-8")
}

/// Asserts that the upstream saw none of `originals` but tokens instead,
/// and that the client got every original back, in text and tool input,
/// with no token left over.
fn assert_round_trip(upstream: &str, got: &Assembled, originals: &[&str]) {
    for o in originals {
        assert!(!upstream.contains(o), "upstream received original {o:?}");
    }
    let issued = tokens_in(upstream.as_bytes());
    assert!(
        !issued.is_empty(),
        "upstream body has no tokens: {upstream}"
    );
    let tool = serde_json::to_string(&got.tool_inputs).expect("tool inputs");
    for o in originals {
        assert!(got.text.contains(o), "text lacks {o:?}: {}", got.text);
        assert!(tool.contains(o), "tool_use input lacks {o:?}: {tool}");
    }
    for t in &issued {
        assert!(
            !got.text.contains(t.as_str()),
            "token {t} left in text: {}",
            got.text
        );
        assert!(
            !tool.contains(t.as_str()),
            "token {t} left in tool input: {tool}"
        );
    }
    assert_eq!(got.tool_inputs.len(), 1, "one tool_use block");
    assert_eq!(
        got.tool_inputs[0]["ids"].as_array().map(Vec::len),
        Some(issued.len()),
        "every token the upstream echoed comes back as one id"
    );
}

#[test]
fn claude_code_request_json_round_trip() {
    let gw = shared();
    let id = unique_id("json");
    let body = serde_json::to_vec(&fixtures::claude_code_request(false)).expect("body");
    let resp = post(gw, &id, &body, &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let upstream = upstream_body(gw, &id);
    let got = assemble_json(&resp.json());
    assert_round_trip(&upstream, &got, ORIGINALS);
    // The upstream got a valid JSON body whose length matches what was sent.
    let sent: serde_json::Value = serde_json::from_str(&upstream).expect("masked body is JSON");
    assert_eq!(sent["model"], "claude-sonnet-4-5-20250929");
    let received = &gw.mock.received_for(&id)[0];
    if let Some(len) = received.header("content-length") {
        assert_eq!(
            len,
            received.body.len().to_string(),
            "content-length matches the masked body"
        );
    }
}

#[test]
fn claude_code_request_stream_round_trip() {
    let gw = shared();
    let id = unique_id("stream");
    let body = serde_json::to_vec(&fixtures::claude_code_request(true)).expect("body");
    let resp = post(gw, &id, &body, &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(
        resp.header("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream")),
        "{:?}",
        resp.headers
    );
    let upstream = upstream_body(gw, &id);
    let got = assemble_sse(&resp.body);
    assert_round_trip(&upstream, &got, ORIGINALS);
    assert_eq!(
        got.events.first().map(String::as_str),
        Some("message_start")
    );
    assert_eq!(got.events.last().map(String::as_str), Some("message_stop"));
    assert!(got.events.iter().any(|e| e == "ping"));
}

#[test]
fn stream_error_event_is_restored() {
    let gw = shared();
    let id = unique_id("stream-error");
    let body = serde_json::to_vec(&fixtures::claude_code_request(true)).expect("body");
    let resp = post(gw, &id, &body, &[("x-mock-error", "1")]);
    assert_eq!(resp.status, 200);
    let upstream = upstream_body(gw, &id);
    let got = assemble_sse(&resp.body);
    assert_eq!(got.events.last().map(String::as_str), Some("error"));
    let message = got.error.expect("error event message");
    let first = &tokens_in(upstream.as_bytes())[0];
    assert!(
        !message.contains(first.as_str()),
        "token left in error: {message}"
    );
    assert!(
        ORIGINALS.iter().any(|o| message.contains(o)),
        "error message not restored: {message}"
    );
}

#[test]
fn streaming_is_not_buffered() {
    let gw = shared();
    let id = unique_id("pause");
    let body = serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5-20250929", "max_tokens": 100, "stream": true,
        "messages": [{"role": "user", "content": "Is i-0fedcba9876543210 up?"}]
    }))
    .expect("body");
    // The mock pauses 1 s before each of the three text deltas.
    let resp = post(gw, &id, &body, &[("x-mock-pause-ms", "1000")]);
    assert_eq!(resp.status, 200);
    let first_text = resp
        .chunks
        .iter()
        .position(|(_, c)| String::from_utf8_lossy(c).contains("Hello, "))
        .expect("a chunk with the first text delta");
    let (t_first, _) = resp.chunks[first_text];
    let (t_last, _) = resp.chunks.last().expect("chunks");
    let lead = t_last.duration_since(t_first);
    let first_after = t_first.duration_since(resp.sent_at);
    assert!(
        first_after < Duration::from_millis(1900),
        "first text delta took {first_after:?}"
    );
    assert!(
        lead >= Duration::from_millis(1500),
        "first text event arrived only {lead:?} before the end: the stream was buffered"
    );
    let got = assemble_sse(&resp.body);
    assert!(got.text.contains("i-0fedcba9876543210"), "{}", got.text);
}

/// A Claude-like body of about `size` bytes: code and prose with AWS ids.
pub fn big_request(size: usize, ids: &[&str]) -> Vec<u8> {
    let mut text = String::with_capacity(size + 4096);
    let mut i = 0;
    while text.len() < size {
        text.push_str("fn handler(event: &Event) -> Result<()> {\n    // check the instance state before calling the API\n    let client = Ec2Client::new(&config);\n}\n");
        text.push_str("The deployment failed because the security group does not allow inbound traffic on port 443 from the load balancer. ");
        text.push_str(&format!("Resource {} is involved.\n", ids[i % ids.len()]));
        i += 1;
    }
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5-20250929", "max_tokens": 1024,
        "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_02", "content": text}]}]
    }))
    .expect("body")
}

#[test]
fn eight_megabyte_body_works() {
    let gw = shared();
    let id = unique_id("8mb");
    let ids = ["i-0123456789abcdef0", "vpc-0fedcba9876543210", "10.42.7.9"];
    let body = big_request(8 * 1000 * 1000, &ids);
    assert!(body.len() > 8_000_000 && body.len() < MAX_BODY);
    let resp = post(gw, &id, &body, &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let upstream = upstream_body(gw, &id);
    assert!(
        upstream.len() > 7_000_000,
        "upstream got {} bytes",
        upstream.len()
    );
    let got = assemble_json(&resp.json());
    assert_round_trip(&upstream, &got, &ids);
    // The filter hands Envoy the masked body in 64 KiB pieces (the first
    // replaces the body, the rest are appended): byte for byte what the
    // engine masks natively.
    assert!(
        upstream.as_bytes() == native_mask(CONFIG, "sk-ant-test", &body).as_slice(),
        "the upstream body differs from the native masking"
    );
}

/// `body` masked by the engine natively, as the filter configured by
/// `config` masks it for a client whose `x-api-key` is `api_key`.
fn native_mask(config: &str, api_key: &str, body: &[u8]) -> Vec<u8> {
    use aws_masker::{config::Config, mask};
    let cfg = Config::from_json(config.as_bytes()).expect("config");
    let secret = cfg.secret.clone().unwrap_or_default();
    let engine = mask::Engine::new(cfg, secret.as_bytes());
    let identity = aws_masker::exchange::scope_identity(&engine.config().token_scope, |name| {
        (name == "x-api-key").then(|| api_key.to_string())
    });
    let mut tokens = engine.token_map_for(identity.as_deref());
    let mut report = mask::MaskReport::default();
    engine
        .mask_body(body, mask::BodyKind::Json, &mut tokens, &mut report)
        .expect("native masking")
        .unwrap_or_else(|| body.to_vec())
}

/// Asserts an Anthropic-style JSON error with `status`, and that nothing
/// tagged `id` reached the upstream.
fn assert_refused(gw: &Gateway, id: &str, resp: &Response, status: u16) {
    assert_eq!(resp.status, status, "{}", resp.text());
    assert!(
        resp.header("content-type")
            .is_some_and(|c| c.contains("json")),
        "{:?}",
        resp.headers
    );
    let v = resp.json();
    assert_eq!(v["type"], "error", "{v}");
    assert!(
        v["error"]["type"].is_string() && v["error"]["message"].is_string(),
        "{v}"
    );
    // Give a wrongly forwarded request time to arrive before checking.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        gw.mock.received_for(id).is_empty(),
        "refused request {id} reached the upstream"
    );
}

#[test]
fn body_over_max_body_bytes_is_refused_with_413() {
    let gw = shared();
    let id = unique_id("413");
    let body = big_request(MAX_BODY + (1 << 20), &["i-0123456789abcdef0"]);
    let resp = post(gw, &id, &body, &[]);
    assert_refused(gw, &id, &resp, 413);
}

/// A gzip member holding `data` in a stored (uncompressed) deflate block.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut crc_table = [0u32; 256];
    for (n, slot) in crc_table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    let crc = !data.iter().fold(!0u32, |c, &b| {
        crc_table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    });
    let len = u16::try_from(data.len()).expect("small payload");
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.push(1); // final stored block
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[test]
fn gzip_body_is_refused_with_415() {
    let gw = shared();
    let id = unique_id("415");
    let json = serde_json::to_vec(&fixtures::claude_code_request(false)).expect("body");
    let resp = post(
        gw,
        &id,
        &gzip_stored(&json),
        &[("content-encoding", "gzip")],
    );
    assert_refused(gw, &id, &resp, 415);
}

#[test]
fn invalid_json_is_refused_with_400() {
    let gw = shared();
    let id = unique_id("400");
    let resp = post(
        gw,
        &id,
        br#"{"model": "x", "messages": [{"role": "user", "content": "i-0123456789abcdef0"#,
        &[],
    );
    assert_refused(gw, &id, &resp, 400);
}

#[test]
fn fifty_concurrent_streams_never_cross() {
    let gw = shared();
    let handles: Vec<_> = (0..50u32)
        .map(|n| {
            std::thread::spawn(move || {
                let (body, originals) = fixtures::numbered_request(n);
                let id = unique_id("concurrent");
                let resp = post(gw, &id, &serde_json::to_vec(&body).expect("body"), &[]);
                assert_eq!(resp.status, 200, "client {n}: {}", resp.text());
                let upstream = upstream_body(gw, &id);
                let got = assemble_sse(&resp.body);
                let originals: Vec<&str> = originals.iter().map(String::as_str).collect();
                assert_round_trip(&upstream, &got, &originals);
                // Nobody else's values: every id this client got is its own.
                for other in (0..50u32).filter(|&m| m != n) {
                    let (_, theirs) = fixtures::numbered_request(other);
                    for v in &theirs {
                        assert!(
                            !got.text.contains(v.as_str()),
                            "client {n} got client {other}'s {v}"
                        );
                    }
                }
            })
        })
        .collect();
    let failures: Vec<_> = handles.into_iter().filter_map(|h| h.join().err()).collect();
    assert!(
        failures.is_empty(),
        "{} of 50 clients failed",
        failures.len()
    );
}

#[test]
fn stats_show_the_filter_metrics() {
    // Its own gateway, so that the counts are exact.
    let gw = start_gateway("stats", r#"{"secret": "stats-secret-0123456789abcdef"}"#, 2);
    let id = unique_id("stats");
    // One masked request with exactly one EC2 id and one IP. The mock
    // echoes them 7 times: the text names both and the first again (3),
    // the tool input's command and ids name both (4).
    let body = br#"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"is i-0123456789abcdef0 on 10.20.30.40?"}]}"#;
    let resp = post(&gw, &id, body, &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(tokens_in(upstream_body(&gw, &id).as_bytes()).len(), 2);
    let text = resp.text();
    let restored =
        text.matches("i-0123456789abcdef0").count() + text.matches("10.20.30.40").count();
    assert_eq!(restored, 7, "{text}");
    // A second masked request whose answer is binary: passed through.
    let body2 = br#"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"download vol-0123456789abcdef0"}]}"#;
    let resp = post(&gw, &id, body2, &[("x-mock-binary", "1")]);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body.len(), 4096, "binary answer unchanged");
    // Two refusals for two reasons.
    assert_eq!(post(&gw, &id, b"{not json", &[]).status, 400);
    assert_eq!(
        post(
            &gw,
            &id,
            &gzip_stored(body),
            &[("content-encoding", "gzip")]
        )
        .status,
        415
    );

    let stats = gw.envoy.filter_stats();
    let get = |name: &str| {
        *stats
            .get(name)
            .unwrap_or_else(|| panic!("no metric {name} in Envoy's stats: {stats:?}"))
    };
    assert_eq!(get("aws_masker.requests_masked"), 2, "{stats:?}");
    assert_eq!(get("aws_masker.values_masked.ec2_ids"), 2, "{stats:?}");
    assert_eq!(get("aws_masker.values_masked.ip_addresses"), 1, "{stats:?}");
    assert_eq!(
        get("aws_masker.values_restored"),
        restored as u64,
        "{stats:?}"
    );
    assert_eq!(get("aws_masker.responses_passthrough"), 1, "{stats:?}");
    // Texts this short are scanned every time: the memo is not consulted.
    assert_eq!(get("aws_masker.memo.hits"), 0, "{stats:?}");
    assert_eq!(get("aws_masker.memo.misses"), 0, "{stats:?}");
    let refusals: Vec<(&String, &u64)> = stats
        .iter()
        .filter(|(k, v)| k.starts_with("aws_masker.refusals.") && **v > 0)
        .collect();
    assert_eq!(
        refusals.len(),
        2,
        "two refusal reasons counted once each: {stats:?}"
    );
    assert!(refusals.iter().all(|(_, v)| **v == 1), "{stats:?}");
}

#[test]
fn invalid_filter_config_stops_envoy() {
    let mock = MockApi::start();
    let result = harness::start(&EnvoySpec {
        label: "invalid",
        config: r#"{"max_body_bytes": "big"}"#,
        upstream: format!("http://{}", mock.addr),
        filter: true,
        concurrency: 1,
    });
    match result {
        Err(log) => {
            assert!(
                log.contains("invalid aws-masker config: field `max_body_bytes`"),
                "Envoy failed without the filter's error line:\n{log}"
            );
        }
        Ok(envoy) => {
            // Envoy came up: the listener must at least refuse traffic.
            let log = envoy.log_text();
            assert!(
                log.contains("invalid aws-masker config: field `max_body_bytes`"),
                "Envoy started with an invalid filter config:\n{log}"
            );
            let resp = client::request(
                envoy.listen,
                "POST",
                "/v1/messages",
                &[("content-type", "application/json")],
                b"{}",
            );
            assert!(
                resp.map_or(true, |r| r.status >= 500),
                "traffic passed an unconfigured filter"
            );
            assert_eq!(mock.count(), 0, "a request reached the upstream");
        }
    }
}
