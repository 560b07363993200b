//! The exchange state machine and start-up, natively, against a fake host
//! with Envoy's buffer semantics. `tests/wasm` runs the same behaviour
//! through the real `.wasm` and each host's quirks; these pin the logic.

use std::collections::HashMap;
use std::rc::Rc;

use super::super::host::{BodyBuffer, Counter, HeaderMap, Host, Level};
use super::super::RefusalReason;
use super::{configure, Exchange, Gateway, Verdict, SECRET_KEY};
use crate::detect::Family;

const SECRET: &str = "0123456789abcdef-machine-tests";
const ID: &str = "i-0123456789abcdef0";

/// A host that holds what a real one would, and records what the filter
/// did to it.
#[derive(Debug, Default)]
struct FakeHost {
    request_headers: Vec<(String, String)>,
    response_headers: Vec<(String, String)>,
    request_body: Vec<u8>,
    response_body: Vec<u8>,
    reply: Option<(u32, Vec<u8>)>,
    logs: Vec<(Level, String)>,
    counters: HashMap<String, u64>,
    /// Envoy: `plugin_vm_id` is a property, and shared data always works.
    envoy: bool,
    /// Shared data exists (Envoy, or Kong with a zone); without it a call
    /// is a trap, which the test fails on.
    shared: Option<HashMap<String, (Vec<u8>, u32)>>,
    /// Body reads answer this many bytes fewer (a body Kong spilled).
    short_reads: usize,
}

impl FakeHost {
    fn envoy() -> FakeHost {
        FakeHost {
            envoy: true,
            shared: Some(HashMap::new()),
            ..FakeHost::default()
        }
    }

    fn buffer(&mut self, b: BodyBuffer) -> &mut Vec<u8> {
        match b {
            BodyBuffer::Request => &mut self.request_body,
            BodyBuffer::Response => &mut self.response_body,
        }
    }

    fn headers(&mut self, m: HeaderMap) -> &mut Vec<(String, String)> {
        match m {
            HeaderMap::Request => &mut self.request_headers,
            HeaderMap::Response => &mut self.response_headers,
        }
    }

    fn counter(&self, c: Counter) -> u64 {
        self.counters.get(&c.name()).copied().unwrap_or(0)
    }

    fn log_text(&self) -> String {
        self.logs
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Host for FakeHost {
    fn body(&self, buffer: BodyBuffer, start: usize, len: usize) -> Option<Vec<u8>> {
        let b = match buffer {
            BodyBuffer::Request => &self.request_body,
            BodyBuffer::Response => &self.response_body,
        };
        let end = start.saturating_add(len).min(b.len());
        let end = end.saturating_sub(self.short_reads).max(start.min(end));
        b.get(start..end).map(<[u8]>::to_vec)
    }

    /// Envoy's semantics: at start 0, drain `size` bytes and prepend; at
    /// or past the end, append.
    fn set_body(&mut self, buffer: BodyBuffer, start: usize, size: usize, data: &[u8]) -> bool {
        let b = self.buffer(buffer);
        if start == 0 {
            let drained = size.min(b.len());
            b.splice(..drained, data.iter().copied());
            true
        } else if start >= b.len() {
            b.extend_from_slice(data);
            true
        } else {
            false
        }
    }

    fn header(&self, map: HeaderMap, name: &str) -> Option<String> {
        let h = match map {
            HeaderMap::Request => &self.request_headers,
            HeaderMap::Response => &self.response_headers,
        };
        h.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn set_header(&mut self, map: HeaderMap, name: &str, value: &str) {
        self.remove_header(map, name);
        self.headers(map).push((name.into(), value.into()));
    }

    fn remove_header(&mut self, map: HeaderMap, name: &str) {
        self.headers(map).retain(|(k, _)| k != name);
    }

    fn send_response(&mut self, status: u32, _headers: &[(&str, &str)], body: &[u8]) -> bool {
        self.reply = Some((status, body.to_vec()));
        true
    }

    fn log(&mut self, level: Level, message: &str) {
        self.logs.push((level, message.to_string()));
    }

    fn count(&mut self, counter: Counter, by: u64) {
        *self.counters.entry(counter.name()).or_default() += by;
    }

    fn shared_data(&self, key: &str) -> (Option<Vec<u8>>, u32) {
        let shared = self
            .shared
            .as_ref()
            .expect("shared data without a zone traps");
        match shared.get(key) {
            Some((v, cas)) => (Some(v.clone()), *cas),
            None => (None, 0),
        }
    }

    fn set_shared_data(&mut self, key: &str, value: &[u8], cas: u32) -> bool {
        let shared = self
            .shared
            .as_mut()
            .expect("shared data without a zone traps");
        let current = shared.get(key).map_or(0, |(_, c)| *c);
        if cas != 0 && cas != current {
            return false;
        }
        shared.insert(key.to_string(), (value.to_vec(), current + 1));
        true
    }

    fn property(&self, path: &str) -> Option<Vec<u8>> {
        (self.envoy && path == "plugin_vm_id").then(|| b"vm".to_vec())
    }

    fn random(&mut self, buf: &mut [u8]) -> bool {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(7);
        }
        true
    }
}

fn gateway(config: &str) -> Rc<Gateway> {
    Rc::new(configure(&mut FakeHost::envoy(), config.as_bytes()).unwrap())
}

fn configured() -> Rc<Gateway> {
    gateway(&format!(r#"{{"secret": "{SECRET}"}}"#))
}

fn request(content: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5",
        "messages": [{"role": "user", "content": content}],
    }))
    .unwrap()
}

/// An exchange whose request headers (JSON, with a content-length) went
/// through.
fn started(gateway: Option<Rc<Gateway>>, extra: &[(&str, &str)]) -> Exchange<FakeHost> {
    let mut host = FakeHost::envoy();
    host.request_headers = [
        ("content-type", "application/json"),
        ("content-length", "10"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut ex = Exchange::new(host, 1, gateway);
    assert_eq!(ex.on_request_headers(false), Verdict::Continue);
    ex
}

/// Sends `body` in `chunks` pieces, the last with end of stream.
fn send_body(ex: &mut Exchange<FakeHost>, body: &[u8], chunks: usize) -> Vec<Verdict> {
    let step = body.len().div_ceil(chunks.max(1)).max(1);
    let mut verdicts = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let end = (at + step).min(body.len());
        ex.host.request_body.extend_from_slice(&body[at..end]);
        verdicts.push(ex.on_request_body(end, end == body.len()));
        at = end;
    }
    verdicts
}

fn reply_type(ex: &Exchange<FakeHost>) -> (u32, String) {
    let (status, body) = ex.host().reply.clone().expect("a local reply");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["type"], "error");
    (status, json["error"]["type"].as_str().unwrap().to_string())
}

#[test]
fn a_request_is_buffered_masked_and_its_headers_fixed() {
    let mut ex = started(Some(configured()), &[]);
    let h = ex.host();
    assert_eq!(h.header(HeaderMap::Request, "content-length"), None);
    assert_eq!(
        h.header(HeaderMap::Request, "accept-encoding").as_deref(),
        Some("identity")
    );
    let body = request(&format!("stop {ID} in vpc-0a1b2c3d4e5f60718"));
    let verdicts = send_body(&mut ex, &body, 3);
    assert_eq!(
        verdicts,
        [Verdict::Pause, Verdict::Pause, Verdict::Continue]
    );
    let sent = String::from_utf8(ex.host().request_body.clone()).unwrap();
    assert!(!sent.contains(ID) && sent.contains("AWS_EC2_"), "{sent}");
    let h = ex.host();
    assert_eq!(h.counter(Counter::RequestsMasked), 1);
    assert_eq!(h.counter(Counter::ValuesMasked(Family::Ec2Ids)), 2);
    assert!(h.reply.is_none());
    assert!(!h.log_text().contains(ID));
}

#[test]
fn trailers_end_a_request_and_it_is_masked_then() {
    let mut ex = started(Some(configured()), &[]);
    let body = request(&format!("trailers case {ID}"));
    ex.host.request_body = body.clone();
    assert_eq!(ex.on_request_body(body.len(), false), Verdict::Pause);
    assert_eq!(ex.on_request_trailers(), Verdict::Continue);
    let sent = String::from_utf8(ex.host().request_body.clone()).unwrap();
    assert!(!sent.contains(ID), "{sent}");
}

#[test]
fn what_cannot_be_inspected_is_refused_counted_and_logged() {
    let small = gateway(&format!(
        r#"{{"secret": "{SECRET}", "max_body_bytes": 64}}"#
    ));
    let cases: Vec<(&str, Exchange<FakeHost>, RefusalReason, u32)> = vec![
        (
            "too large",
            {
                let mut ex = started(Some(small.clone()), &[]);
                send_body(&mut ex, &request(&"x".repeat(100)), 1);
                ex
            },
            RefusalReason::TooLarge,
            413,
        ),
        (
            "masked too large",
            {
                let mut ex = started(Some(small.clone()), &[]);
                // Addresses mask longer: 44 bytes become 71.
                send_body(
                    &mut ex,
                    br#"{"c":"10.1.2.3 10.1.2.4 10.1.2.5 10.1.2.6"}"#,
                    1,
                );
                ex
            },
            RefusalReason::TooLarge,
            413,
        ),
        (
            "compressed",
            {
                let mut host = FakeHost::envoy();
                host.request_headers = vec![("content-encoding".into(), "gzip".into())];
                let mut ex = Exchange::new(host, 1, Some(configured()));
                assert_eq!(ex.on_request_headers(false), Verdict::Pause);
                ex
            },
            RefusalReason::Compressed,
            415,
        ),
        (
            "not configured",
            {
                let mut ex = started(None, &[]);
                send_body(&mut ex, &request(ID), 1);
                ex
            },
            RefusalReason::NotConfigured,
            500,
        ),
        (
            "invalid JSON",
            {
                let mut ex = started(Some(configured()), &[]);
                send_body(&mut ex, br#"{"content": "i-0123456789abcdef0""#, 1);
                ex
            },
            RefusalReason::InvalidJson,
            400,
        ),
        (
            "body announced at end of stream",
            {
                let mut host = FakeHost::envoy();
                host.request_headers = vec![("content-length".into(), "120".into())];
                let mut ex = Exchange::new(host, 1, Some(configured()));
                assert_eq!(ex.on_request_headers(true), Verdict::Pause);
                ex
            },
            RefusalReason::UnreadableBody,
            413,
        ),
        (
            "body the host could not deliver",
            {
                let mut ex = started(Some(configured()), &[]);
                ex.host.short_reads = 1;
                send_body(&mut ex, &request(ID), 1);
                ex
            },
            RefusalReason::UnreadableBody,
            413,
        ),
    ];
    for (name, ex, reason, status) in cases {
        let got = ex.host().reply.as_ref().map(|(s, _)| *s);
        assert_eq!(got, Some(status), "{name}");
        reply_type(&ex);
        assert_eq!(ex.host().counter(Counter::Refusals(reason)), 1, "{name}");
        assert!(
            ex.host()
                .logs
                .iter()
                .any(|(l, m)| *l == Level::Warn && m.contains(reason.name())),
            "{name}: {}",
            ex.host().log_text()
        );
        assert!(!ex.host().log_text().contains(ID), "{name}");
    }
}

#[test]
fn a_refused_request_stays_paused() {
    let mut ex = started(None, &[]);
    send_body(&mut ex, &request(ID), 1);
    assert_eq!(ex.on_request_body(10, true), Verdict::Pause);
    assert_eq!(ex.on_request_trailers(), Verdict::Pause);
}

/// Masks `content` through a fresh exchange; the exchange and what went
/// upstream.
fn masked_exchange(content: &str) -> (Exchange<FakeHost>, String) {
    let mut ex = started(Some(configured()), &[]);
    send_body(&mut ex, &request(content), 1);
    let sent = String::from_utf8(ex.host().request_body.clone()).unwrap();
    (ex, sent)
}

fn token_in(sent: &str) -> String {
    let at = sent.find("AWS_EC2_").unwrap();
    sent[at..at + "AWS_EC2_".len() + 8].to_string()
}

fn respond(ex: &mut Exchange<FakeHost>, content_type: &str) -> Verdict {
    ex.host.response_headers = vec![
        ("content-type".into(), content_type.into()),
        ("content-length".into(), "1".into()),
    ];
    ex.on_response_headers()
}

#[test]
fn a_json_answer_is_buffered_and_restored() {
    let (mut ex, sent) = masked_exchange(&format!("stop {ID}"));
    let token = token_in(&sent);
    assert_eq!(respond(&mut ex, "application/json"), Verdict::Continue);
    assert_eq!(
        ex.host().header(HeaderMap::Response, "content-length"),
        None
    );
    let answer = format!(r#"{{"content":[{{"type":"text","text":"stopped {token}"}}]}}"#);
    let (a, b) = answer.as_bytes().split_at(20);
    ex.host.response_body.extend_from_slice(a);
    assert_eq!(ex.on_response_body(a.len(), false), Verdict::Pause);
    ex.host.response_body.extend_from_slice(b);
    assert_eq!(ex.on_response_body(answer.len(), true), Verdict::Continue);
    let got = String::from_utf8(ex.host().response_body.clone()).unwrap();
    assert_eq!(got, answer.replace(&token, ID));
    assert_eq!(ex.host().counter(Counter::ValuesRestored), 1);
}

/// Kong cannot read a body in parts, and an answer paused there comes
/// back whole at its end, to be held beside the token map: a JSON answer
/// is restored as it passes instead, a chunk at a time, to the bytes the
/// walk of the whole answer writes. A token cut between chunks is held
/// back; a thinking block's text waits for its object's `type` and stays
/// as it came.
#[test]
fn a_json_answer_streams_where_the_host_cannot_read_parts() {
    let kong = || FakeHost {
        request_headers: vec![("content-type".into(), "application/json".into())],
        ..FakeHost::default()
    };
    let config = format!(r#"{{"secret": "{SECRET}"}}"#);
    let gateway = Rc::new(configure(&mut kong(), config.as_bytes()).unwrap());
    assert!(!gateway.reads_in_pieces);
    let mut ex = Exchange::new(kong(), 1, Some(gateway));
    assert_eq!(ex.on_request_headers(false), Verdict::Continue);
    send_body(&mut ex, &request(&format!("stop {ID}")), 1);
    let sent = String::from_utf8(ex.host().request_body.clone()).unwrap();
    let token = token_in(&sent);
    assert_eq!(respond(&mut ex, "application/json"), Verdict::Continue);
    let answer = format!(
        r#"{{"content":[{{"thinking":"about {token}","type":"thinking"}},{{"type":"text","text":"stopped {token}"}}]}}"#
    );
    let cut = answer.rfind(&token).unwrap() + 5;
    let (a, rest) = answer.as_bytes().split_at(30);
    let (b, c) = rest.split_at(cut - 30);
    let mut released = Vec::new();
    for chunk in [a, b, c] {
        ex.host.response_body.extend_from_slice(chunk);
        let size = ex.host.response_body.len();
        assert_eq!(ex.on_response_body(size, false), Verdict::Continue);
        released.append(&mut ex.host.response_body);
    }
    assert_eq!(ex.on_response_trailers(), Verdict::Continue);
    released.append(&mut ex.host.response_body);
    let got = String::from_utf8(released).unwrap();
    let want = format!(
        r#"{{"content":[{{"thinking":"about {token}","type":"thinking"}},{{"type":"text","text":"stopped {ID}"}}]}}"#
    );
    assert_eq!(got, want, "{}", ex.host().log_text());
    assert_eq!(ex.host().counter(Counter::ValuesRestored), 1);
}

#[test]
fn a_stream_is_restored_across_chunks_and_flushed_at_trailers() {
    let (mut ex, sent) = masked_exchange(&format!("stop {ID}"));
    let token = token_in(&sent);
    assert_eq!(respond(&mut ex, "text/event-stream"), Verdict::Continue);
    let event = |text: &str| {
        format!(
            "event: content_block_delta\ndata: {}\n\n",
            serde_json::json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": text}})
        )
    };
    // The token is cut between two deltas, each in its own chunk.
    let (t1, t2) = token.split_at(6);
    let chunks = [event(&format!("stopped {t1}")), event(t2)];
    let mut released = Vec::new();
    for chunk in &chunks {
        ex.host.response_body.extend_from_slice(chunk.as_bytes());
        let size = ex.host.response_body.len();
        if ex.on_response_body(size, false) == Verdict::Continue {
            released.append(&mut ex.host.response_body);
        }
    }
    // The stream ends with trailers: what was held comes out then.
    assert_eq!(ex.on_response_trailers(), Verdict::Continue);
    released.append(&mut ex.host.response_body);
    let got = String::from_utf8(released).unwrap();
    let text: String = got
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str::<serde_json::Value>(d).unwrap())
        .map(|v| v["delta"]["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(text, format!("stopped {ID}"), "{got}");
    assert_eq!(ex.host().counter(Counter::ValuesRestored), 1);
}

#[test]
fn answers_that_cannot_be_restored_pass_counted() {
    let (mut ex, _) = masked_exchange(ID);
    ex.host.response_headers = vec![
        ("content-type".into(), "application/json".into()),
        ("content-encoding".into(), "gzip".into()),
    ];
    assert_eq!(ex.on_response_headers(), Verdict::Continue);
    assert_eq!(ex.host().counter(Counter::ResponsesCompressed), 1);
    assert_eq!(ex.on_response_body(10, true), Verdict::Continue);
    let (mut ex, _) = masked_exchange(ID);
    assert_eq!(respond(&mut ex, "image/png"), Verdict::Continue);
    assert_eq!(ex.host().counter(Counter::ResponsesPassthrough), 1);
    // Nothing was masked: the answer is not touched at all.
    let (mut ex, _) = masked_exchange("nothing to mask");
    assert_eq!(respond(&mut ex, "application/json"), Verdict::Continue);
    assert!(ex
        .host()
        .header(HeaderMap::Response, "content-length")
        .is_some());
}

#[test]
fn start_up_shares_a_generated_secret_only_where_the_host_can() {
    // Kong (no `plugin_vm_id`) without a zone: `auto` never touches shared
    // data (the fake fails the test if it does) and warns.
    let mut kong = FakeHost::default();
    let g = configure(&mut kong, b"{}").unwrap();
    assert!(!g.keep_tails && !g.reads_in_pieces);
    assert!(
        kong.log_text().contains("this worker only"),
        "{}",
        kong.log_text()
    );
    // Envoy: the workers share one secret through shared data.
    let mut envoy = FakeHost::envoy();
    let g = configure(&mut envoy, b"").unwrap();
    assert!(g.keep_tails && g.reads_in_pieces);
    assert!(envoy.shared.as_ref().unwrap().contains_key(SECRET_KEY));
    assert!(envoy
        .log_text()
        .contains("shared by this gateway's workers"));
    // A configured secret: no warning, no shared data.
    let mut quiet = FakeHost::envoy();
    configure(
        &mut quiet,
        format!(r#"{{"secret": "{SECRET}"}}"#).as_bytes(),
    )
    .unwrap();
    assert!(quiet.logs.is_empty());
    assert!(quiet.shared.as_ref().unwrap().is_empty());
    // An invalid configuration: no filter, and the reason logged.
    let mut bad = FakeHost::envoy();
    assert!(configure(&mut bad, br#"{"max_body_bytes": "x"}"#).is_none());
    assert!(bad
        .logs
        .iter()
        .any(|(l, m)| *l == Level::Error && m.contains("max_body_bytes")));
}
