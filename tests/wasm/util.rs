//! Fixtures, a seeded RNG, and checks shared by the wasm tests.

use aws_masker::config::Config;
use aws_masker::mask::{BodyKind, Engine, MaskReport};
use aws_masker::token::TokenMap;
use std::path::PathBuf;

/// The secret every test configuration uses (tokens are then predictable
/// natively).
pub const SECRET: &str = "wasm-host-test-secret-0123456789abcdef";

/// A configuration with the test secret and `extra` members.
/// The `x-api-key` of the test client's requests (see `post_headers`).
pub const TEST_API_KEY: &str = "sk-ant-api03-test";

pub fn config_with(extra: &str) -> String {
    if extra.is_empty() {
        format!(r#"{{"secret": "{SECRET}"}}"#)
    } else {
        format!(r#"{{"secret": "{SECRET}", {extra}}}"#)
    }
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

pub fn fixture_str(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The Claude Code request fixture and the originals it contains.
pub fn claude_request() -> (Vec<u8>, Vec<String>) {
    let body = fixture("claude_code_request.json");
    let originals = fixture_str("claude_code_request.originals.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    (body, originals)
}

/// The native engine for a configuration, as the filter builds it.
pub fn native_engine(config: &str) -> Engine {
    let cfg = Config::from_json(config.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let secret = cfg.secret.clone().unwrap_or_default();
    Engine::new(cfg, secret.as_bytes())
}

/// Masks natively: the masked body (or the body itself), the tokens and
/// the report.
pub fn native_mask(config: &str, body: &[u8], kind: BodyKind) -> (Vec<u8>, TokenMap, MaskReport) {
    let engine = native_engine(config);
    // The token map the filter makes for a request from the test client.
    let identity = aws_masker::exchange::scope_identity(&engine.config().token_scope, |name| {
        (name == "x-api-key").then(|| TEST_API_KEY.to_string())
    });
    let mut tokens = engine.token_map_for(identity.as_deref());
    let mut report = MaskReport::default();
    let out = engine
        .mask_body(body, kind, &mut tokens, &mut report)
        .unwrap_or_else(|e| panic!("native masking failed: {e}"));
    (out.unwrap_or_else(|| body.to_vec()), tokens, report)
}

/// The token `tokens` issued for `original`.
pub fn token_for(tokens: &TokenMap, original: &str) -> String {
    tokens
        .iter()
        .find(|(_, o)| *o == original)
        .map(|(t, _)| t)
        .unwrap_or_else(|| panic!("{original:?} was not masked in the request (no token issued)"))
}

/// Renders a fixture template. `{{v}}` is the token for `v` (restored: the
/// original); `{{!v}}` stays the token even restored (thinking);
/// `{{v|..n}}` / `{{v|n..}}` are the first n bytes / the rest of the token
/// (restored: the whole original / nothing), to split a token across
/// events.
pub fn render(template: &str, tokens: &TokenMap, restored: bool) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("unclosed {{") + start;
        let spec = &rest[start + 2..end];
        rest = &rest[end + 2..];
        let (keep, spec) = match spec.strip_prefix('!') {
            Some(s) => (true, s),
            None => (false, spec),
        };
        let (value, range) = match spec.split_once('|') {
            Some((v, r)) => (v, Some(r)),
            None => (spec, None),
        };
        let token = token_for(tokens, value);
        let piece = match (restored && !keep, range) {
            (false, None) => token.to_string(),
            (true, None) => value.to_string(),
            (false, Some(r)) => match r.split_once("..") {
                Some(("", n)) => token[..n.parse::<usize>().unwrap()].to_string(),
                Some((n, "")) => token[n.parse::<usize>().unwrap()..].to_string(),
                _ => panic!("bad range {r}"),
            },
            (true, Some(r)) => {
                if r.starts_with("..") {
                    value.to_string()
                } else {
                    String::new()
                }
            }
        };
        out.push_str(&piece);
    }
    out.push_str(rest);
    out
}

/// A small seeded xorshift64* generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// Cuts `data` into random chunks (some of them empty).
    pub fn chunks<'a>(&mut self, data: &'a [u8], max_chunk: usize) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < data.len() {
            let n = self.below(max_chunk + 1).min(data.len() - pos);
            out.push(&data[pos..pos + n]);
            pos += n;
        }
        if out.is_empty() {
            out.push(&data[..0]);
        }
        out
    }
}

/// Splits JSON text into the bytes outside string literals and the string
/// literals (raw, with quotes).
pub fn json_outside_strings(json: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut outside = Vec::new();
    let mut strings = Vec::new();
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'"' {
            let start = i;
            i += 1;
            while i < json.len() && json[i] != b'"' {
                if json[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            strings.push(json[start..i.min(json.len())].to_vec());
            outside.push(b'"');
        } else {
            outside.push(json[i]);
            i += 1;
        }
    }
    (outside, strings)
}

/// The data lines of an SSE stream, parsed as JSON (non-JSON data lines
/// fail the test).
pub fn sse_events(stream: &[u8]) -> Vec<serde_json::Value> {
    let text = std::str::from_utf8(stream).expect("SSE stream is not UTF-8");
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| {
            serde_json::from_str(d.trim_start())
                .unwrap_or_else(|e| panic!("SSE data line is not JSON ({e}): {d}"))
        })
        .collect()
}

/// Per content block index: the concatenated `text_delta` text,
/// `thinking_delta` thinking and `input_json_delta` partial JSON.
pub fn sse_block_texts(stream: &[u8]) -> Vec<(u64, String, String)> {
    let mut blocks: Vec<(u64, String, String)> = Vec::new();
    for ev in sse_events(stream) {
        if ev["type"] != "content_block_delta" {
            continue;
        }
        let index = ev["index"].as_u64().expect("delta without index");
        let delta = &ev["delta"];
        let (kind, text) = match delta["type"].as_str() {
            Some("text_delta") => ("text", delta["text"].as_str()),
            Some("thinking_delta") => ("thinking", delta["thinking"].as_str()),
            Some("input_json_delta") => ("json", delta["partial_json"].as_str()),
            _ => continue,
        };
        let text = text.expect("delta without text");
        match blocks.iter_mut().find(|(i, _, _)| *i == index) {
            Some(b) => b.2.push_str(text),
            None => blocks.push((index, kind.to_string(), text.to_string())),
        }
    }
    blocks
}
