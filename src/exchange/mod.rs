//! One HTTP exchange, host-agnostic: the state machine the proxy-wasm
//! shell (`filter.rs`) drives ([`Exchange`], [`configure`]), the host it
//! talks to as a trait ([`host::Host`]), and the decisions it is made of:
//! which requests are processed, how a response is classified, the
//! refusals and their Anthropic-shaped JSON error bodies. All of it is
//! tested natively, with a fake host.
//!
//! ```
//! use aws_masker::exchange::{classify_response, Refusal, ResponseKind};
//!
//! assert_eq!(
//!     classify_response(Some("text/event-stream; charset=utf-8"), None),
//!     ResponseKind::Sse
//! );
//! let r = Refusal::too_large(1024);
//! assert_eq!(r.status, 413);
//! let body: serde_json::Value = serde_json::from_slice(&r.body()).unwrap();
//! assert_eq!(body["error"]["type"], "request_too_large");
//! ```

use crate::config::TokenScope;
use crate::mask::MaskError;

pub mod host;
mod machine;

pub use machine::{configure, Exchange, Gateway, Verdict, SECRET_KEY};

/// Metric name prefix of every counter the filter defines.
pub const METRIC_PREFIX: &str = "aws_masker.";

/// Why the filter refused a request. Each reason has its counter,
/// `aws_masker.refusals.<name>`, and names itself in the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// The body, or its masked form, is over `max_body_bytes`.
    TooLarge,
    /// The body holds more than `max_values_per_request` distinct values.
    TooManyValues,
    /// The body is compressed and cannot be inspected.
    Compressed,
    /// A JSON body is not valid JSON.
    InvalidJson,
    /// A text body is not valid UTF-8.
    InvalidUtf8,
    /// The host announced a body it could not deliver.
    UnreadableBody,
    /// The filter has no usable configuration.
    NotConfigured,
}

impl RefusalReason {
    /// Every reason, for defining the counters.
    pub const ALL: [RefusalReason; 7] = [
        RefusalReason::TooLarge,
        RefusalReason::TooManyValues,
        RefusalReason::Compressed,
        RefusalReason::InvalidJson,
        RefusalReason::InvalidUtf8,
        RefusalReason::UnreadableBody,
        RefusalReason::NotConfigured,
    ];

    /// The reason's metrics and log spelling, e.g. `too_large`.
    pub fn name(self) -> &'static str {
        match self {
            RefusalReason::TooLarge => "too_large",
            RefusalReason::TooManyValues => "too_many_values",
            RefusalReason::Compressed => "compressed",
            RefusalReason::InvalidJson => "invalid_json",
            RefusalReason::InvalidUtf8 => "invalid_utf8",
            RefusalReason::UnreadableBody => "unreadable_body",
            RefusalReason::NotConfigured => "not_configured",
        }
    }
}

/// The identity whose token key an exchange uses, from its request headers
/// (`header(name)` gives a header's value): the credential (`x-api-key`,
/// else `authorization`), or the configured header, or `None` for the
/// gateway-wide key. A request without one gets the empty identity: its
/// own scope, shared only with other requests that lack one.
pub fn scope_identity(
    scope: &TokenScope,
    header: impl Fn(&str) -> Option<String>,
) -> Option<Vec<u8>> {
    let value = match scope {
        TokenScope::Gateway => return None,
        TokenScope::Credential => header("x-api-key").or_else(|| header("authorization")),
        TokenScope::Header(name) => header(name),
    };
    Some(value.unwrap_or_default().into_bytes())
}

/// Whether a buffered response body of `body_size` bytes, restored with
/// `tokens`, is sure to stay within `limit` bytes: the worst case has every
/// byte belong to the token that grows the most. A response that could
/// grow past the limit is restored as a stream instead, so the filter never
/// hands the host a buffer larger than the host holds.
pub fn restore_fits(tokens: &crate::token::TokenMap, body_size: usize, limit: usize) -> bool {
    use crate::restore::{grown_size, max_growth};
    grown_size(body_size, max_growth(tokens)) <= limit
}

/// The body a request announces (`content-length` above 0) although its
/// headers end the stream: ngx_wasm_module 0.1 (Kong 3.4, 3.5) says end
/// of stream on every request, and such a body would pass unseen. `None`:
/// no body, or none announced.
pub fn body_announced_at_end_of_stream(content_length: Option<&str>) -> Option<usize> {
    content_length
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
}

/// Whether a `content-encoding` header value means the body is not
/// compressed: absent, empty, or only `identity`.
pub fn is_identity_encoding(content_encoding: Option<&str>) -> bool {
    content_encoding.is_none_or(|v| {
        v.split(',').all(|e| {
            let e = e.trim();
            e.is_empty() || e.eq_ignore_ascii_case("identity")
        })
    })
}

/// How a response body is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// `text/event-stream`: restored event by event as it streams.
    Sse,
    /// JSON: buffered to the end, then restored inside string literals.
    Json,
    /// Other text (or no content type): restored as a text stream.
    Text,
    /// Compressed: passed through unmodified.
    Compressed,
    /// A binary content type: passed through unmodified.
    Binary,
}

impl ResponseKind {
    /// Whether the body is passed through unmodified.
    pub fn is_passthrough(self) -> bool {
        matches!(self, ResponseKind::Compressed | ResponseKind::Binary)
    }
}

/// The lower-cased media type of a `content-type` value, without
/// parameters.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Classifies a response by its `content-type` and `content-encoding`.
pub fn classify_response(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
) -> ResponseKind {
    if !is_identity_encoding(content_encoding) {
        return ResponseKind::Compressed;
    }
    let Some(ct) = content_type else {
        return ResponseKind::Text;
    };
    let e = essence(ct);
    if e.is_empty() {
        return ResponseKind::Text;
    }
    if e == "text/event-stream" {
        return ResponseKind::Sse;
    }
    if e == "application/json" || e.ends_with("+json") {
        return ResponseKind::Json;
    }
    let textual = e.starts_with("text/")
        || e.ends_with("+xml")
        || matches!(
            e.as_str(),
            "application/xml"
                | "application/javascript"
                | "application/x-ndjson"
                | "application/jsonl"
                | "application/x-www-form-urlencoded"
                | "application/yaml"
                | "application/x-yaml"
        );
    if textual {
        ResponseKind::Text
    } else {
        ResponseKind::Binary
    }
}

/// A request the filter refuses to forward, and how it answers instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status of the local reply.
    pub status: u32,
    /// Why: its counter and its word in the log line.
    pub reason: RefusalReason,
    /// The Anthropic error `type`.
    pub error_type: &'static str,
    /// Human-readable message (never contains a request value).
    pub message: String,
}

impl Refusal {
    fn new(
        status: u32,
        reason: RefusalReason,
        error_type: &'static str,
        message: String,
    ) -> Refusal {
        Refusal {
            status,
            reason,
            error_type,
            message: format!("aws-masker: {message}"),
        }
    }

    /// The body is larger than `max_body_bytes` (413).
    pub fn too_large(limit: usize) -> Refusal {
        Refusal::new(
            413,
            RefusalReason::TooLarge,
            "request_too_large",
            format!(
                "request body exceeds the masking limit of {limit} bytes (max_body_bytes); it was not forwarded"
            ),
        )
    }

    /// The masked body would be larger than `max_body_bytes` (413): the
    /// filter refuses it before the host's own buffer limit does.
    pub fn masked_too_large(limit: usize) -> Refusal {
        Refusal::new(
            413,
            RefusalReason::TooLarge,
            "request_too_large",
            format!(
                "the masked request body exceeds the limit of {limit} bytes (max_body_bytes); it was not forwarded"
            ),
        )
    }

    /// The body holds more distinct values than `max_values_per_request`
    /// (413).
    pub fn too_many_values(limit: usize) -> Refusal {
        Refusal::new(
            413,
            RefusalReason::TooManyValues,
            "request_too_large",
            format!(
                "request body holds more than {limit} distinct values to mask (max_values_per_request); it was not forwarded"
            ),
        )
    }

    /// The request body is compressed and cannot be inspected (415).
    pub fn compressed(encoding: &str) -> Refusal {
        let encoding: String = encoding
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .take(40)
            .collect();
        Refusal::new(
            415,
            RefusalReason::Compressed,
            "invalid_request_error",
            format!(
                "compressed request bodies (content-encoding: {encoding}) cannot be inspected for AWS identifiers; send it uncompressed"
            ),
        )
    }

    /// The body could not be masked (400).
    pub fn from_mask_error(err: &MaskError) -> Refusal {
        match err {
            MaskError::TooManyValues { limit } => Refusal::too_many_values(*limit),
            MaskError::InvalidJson(e) => Refusal::new(
                400,
                RefusalReason::InvalidJson,
                "invalid_request_error",
                format!("request body is not valid JSON ({e}); it was not forwarded"),
            ),
            MaskError::InvalidUtf8 { offset } => Refusal::new(
                400,
                RefusalReason::InvalidUtf8,
                "invalid_request_error",
                format!(
                    "request body is not valid UTF-8 text (byte {offset}); it was not forwarded"
                ),
            ),
        }
    }

    /// The host announced a body it could not deliver, e.g. Kong spilled
    /// it to a temporary file (413).
    pub fn unreadable_body(size: usize) -> Refusal {
        Refusal::new(
            413,
            RefusalReason::UnreadableBody,
            "request_too_large",
            format!(
                "the request body ({size} bytes) could not be read by the filter (the gateway buffered it outside memory; raise client_body_buffer_size); it was not forwarded"
            ),
        )
    }

    /// The filter has no valid configuration (500).
    pub fn not_configured() -> Refusal {
        Refusal::new(
            500,
            RefusalReason::NotConfigured,
            "api_error",
            "the filter has no valid configuration; request not forwarded".to_string(),
        )
    }

    /// The JSON error body, shaped like the Anthropic API's own errors.
    pub fn body(&self) -> Vec<u8> {
        let v = serde_json::json!({
            "type": "error",
            "error": {"type": self.error_type, "message": self.message},
        });
        serde_json::to_vec(&v).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_announced_at_end_of_stream() {
        let cases = [
            (None, None),
            (Some("0"), None),
            (Some(" 138 "), Some(138)),
            (Some("x"), None),
        ];
        for (length, want) in cases {
            assert_eq!(body_announced_at_end_of_stream(length), want, "{length:?}");
        }
    }

    #[test]
    fn encodings() {
        for e in [None, Some(""), Some("identity"), Some("Identity, identity")] {
            assert!(is_identity_encoding(e), "{e:?}");
        }
        for e in [
            Some("gzip"),
            Some("br"),
            Some("identity, gzip"),
            Some("zstd"),
        ] {
            assert!(!is_identity_encoding(e), "{e:?}");
        }
    }

    #[test]
    fn response_kinds() {
        use ResponseKind::*;
        let cases = [
            (Some("text/event-stream"), None, Sse),
            (
                Some("text/event-stream; charset=utf-8"),
                Some("identity"),
                Sse,
            ),
            (Some("application/json"), None, Json),
            (Some("Application/JSON; charset=utf-8"), None, Json),
            (Some("application/problem+json"), None, Json),
            (Some("text/plain"), None, Text),
            (Some("text/html"), None, Text),
            (Some("application/x-ndjson"), None, Text),
            (None, None, Text),
            (Some(""), None, Text),
            (Some("image/png"), None, Binary),
            (Some("application/octet-stream"), None, Binary),
            (Some("application/pdf"), None, Binary),
            (Some("application/json"), Some("gzip"), Compressed),
            (Some("text/event-stream"), Some("br"), Compressed),
        ];
        for (ct, ce, want) in cases {
            assert_eq!(classify_response(ct, ce), want, "{ct:?} {ce:?}");
        }
        assert!(Binary.is_passthrough() && Compressed.is_passthrough());
        assert!(!Sse.is_passthrough() && !Json.is_passthrough() && !Text.is_passthrough());
    }

    #[test]
    fn refusal_bodies_are_anthropic_errors() {
        let refusals = [
            Refusal::too_large(10),
            Refusal::compressed("gzip"),
            Refusal::compressed("x\"y\n\u{1}z"),
            Refusal::from_mask_error(&MaskError::InvalidUtf8 { offset: 3 }),
            Refusal::from_mask_error(&MaskError::InvalidJson(crate::json::JsonError {
                offset: 7,
                reason: "expected value",
            })),
            Refusal::unreadable_body(99),
            Refusal::not_configured(),
            Refusal::masked_too_large(5),
            Refusal::too_many_values(3),
            Refusal::from_mask_error(&MaskError::TooManyValues { limit: 3 }),
        ];
        for r in refusals {
            let v: serde_json::Value = serde_json::from_slice(&r.body()).unwrap();
            assert_eq!(v["type"], "error");
            assert_eq!(v["error"]["type"], r.error_type);
            let msg = v["error"]["message"].as_str().unwrap();
            assert!(msg.starts_with("aws-masker: "), "{msg}");
            assert!(RefusalReason::ALL.contains(&r.reason));
            let want_type = if r.status == 413 {
                "request_too_large"
            } else if r.status == 500 {
                "api_error"
            } else {
                "invalid_request_error"
            };
            assert_eq!(r.error_type, want_type);
        }
        assert_eq!(Refusal::compressed("gzip").status, 415);
        assert_eq!(Refusal::unreadable_body(1).status, 413);
        assert!(Refusal::unreadable_body(1)
            .message
            .contains("could not be read"));
        let many = Refusal::too_many_values(3);
        assert_eq!((many.status, many.reason.name()), (413, "too_many_values"));
        assert!(many.message.contains("max_values_per_request"));
        assert_eq!(Refusal::masked_too_large(5).reason, RefusalReason::TooLarge);
    }

    #[test]
    fn scope_identities() {
        let headers = |name: &str| match name {
            "authorization" => Some("Bearer oauth".to_string()),
            "x-tenant" => Some("t1".to_string()),
            _ => None,
        };
        let with_key = |name: &str| match name {
            "x-api-key" => Some("sk-ant-1".to_string()),
            other => headers(other),
        };
        assert_eq!(scope_identity(&TokenScope::Gateway, headers), None);
        assert_eq!(
            scope_identity(&TokenScope::Credential, with_key).as_deref(),
            Some(&b"sk-ant-1"[..])
        );
        assert_eq!(
            scope_identity(&TokenScope::Credential, headers).as_deref(),
            Some(&b"Bearer oauth"[..])
        );
        assert_eq!(
            scope_identity(&TokenScope::Header("x-tenant".into()), headers).as_deref(),
            Some(&b"t1"[..])
        );
        assert_eq!(
            scope_identity(&TokenScope::Credential, |_| None).as_deref(),
            Some(&b""[..])
        );
    }

    #[test]
    fn worst_case_restore_bound() {
        use crate::token::{TokenKey, TokenMap};
        let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
        let mut m = TokenMap::new("AWS_".into());
        let long = format!("arn:aws:iam::123456789012:role/{}", "r".repeat(120));
        let t = m.issue(&key, "ARN_IAM", &long).to_string();
        let n = 1000;
        let masked = t.repeat(n);
        let restored = crate::restore::Restorer::new(&m).restore_text(&masked);
        assert_eq!(restored.len(), long.len() * n);
        let body = t.len() * n;
        assert!(restore_fits(&m, body, restored.len()));
        assert!(!restore_fits(&m, body, restored.len() - 1));
        assert!(restore_fits(&TokenMap::new("AWS_".into()), 10, 10));
        assert!(!restore_fits(&m, usize::MAX, usize::MAX - 1));
    }
}
