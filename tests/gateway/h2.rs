//! An HTTP/2 client for the gateway tests: tests/gateway/h2_client.py (the
//! PyPI package `h2`, installed into .venv by `make test`) run with the
//! venv's Python. It speaks h2c with prior knowledge, can end a request
//! body with trailers, and reports the answer's trailers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{client, harness};

/// An HTTP/2 answer as the client received it.
#[derive(Debug)]
pub struct H2Response {
    /// `:status`; `None` when no response headers came (reset, timeout).
    pub status: Option<u16>,
    /// Header names lower-case, pseudo-headers left out.
    pub headers: Vec<(String, String)>,
    /// The response trailers.
    pub trailers: Vec<(String, String)>,
    /// The whole response body.
    pub body: Vec<u8>,
    /// RST_STREAM error code, when the stream was reset.
    pub reset: Option<u64>,
    /// GOAWAY error code, when the connection was closed with one.
    pub goaway: Option<u64>,
    /// Request body bytes sent before the answer ended.
    pub sent: usize,
    /// Whether the whole request (body and trailers) was sent.
    pub body_done: bool,
    /// Whether the client gave up waiting.
    pub timeout: bool,
}

impl H2Response {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        client::find_header(&self.headers, name)
    }

    /// The body as UTF-8 (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        client::body_json(&self.body)
    }
}

/// What to send.
pub struct H2Request<'a> {
    /// Method, e.g. `POST`.
    pub method: &'a str,
    /// Path, e.g. `/v1/messages`.
    pub path: &'a str,
    /// Regular headers (lower-case names).
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, sent in DATA frames as the windows allow.
    pub body: &'a [u8],
    /// `Some`: the body ends with a trailers HEADERS frame carrying
    /// END_STREAM (no DATA frame has it); `None`: the last DATA frame ends
    /// the stream.
    pub trailers: Option<&'a [(&'a str, &'a str)]>,
}

fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "h2-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

fn pairs(v: &serde_json::Value) -> Vec<(String, String)> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_str()?.to_string())))
        .collect()
}

/// Sends one request over a fresh h2c connection to `addr` and waits for
/// the whole answer (60 s at most). Panics when the client cannot run,
/// e.g. `h2` is not installed.
pub fn request(addr: SocketAddr, req: &H2Request<'_>) -> H2Response {
    let body_file = scratch("body");
    let response_file = scratch("response");
    let spec_file = scratch("spec.json");
    std::fs::write(&body_file, req.body).expect("write HTTP/2 request body");
    let spec = serde_json::json!({
        "host": addr.ip().to_string(),
        "port": addr.port(),
        "method": req.method,
        "path": req.path,
        "headers": req.headers.iter().map(|(n, v)| [n, v]).collect::<Vec<_>>(),
        "body_file": body_file,
        "trailers": req.trailers.map(|t| t.iter().map(|(n, v)| [n, v]).collect::<Vec<_>>()),
        "response_body_file": response_file,
        "timeout": 60,
    });
    std::fs::write(&spec_file, spec.to_string()).expect("write HTTP/2 request spec");
    let python = harness::python();
    let out = Command::new(&python)
        .arg(harness::root().join("tests/gateway/h2_client.py"))
        .arg(&spec_file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() != Some(3),
        "the Python package h2 is not installed for {}: `make test` (or `make h2`) installs it into .venv\n{}",
        python.display(),
        stderr.trim()
    );
    assert!(
        out.status.success(),
        "tests/gateway/h2_client.py failed ({}): {stderr}",
        out.status
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "h2_client.py printed no JSON ({e}): {}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let body = std::fs::read(&response_file).unwrap_or_default();
    for f in [&body_file, &response_file, &spec_file] {
        let _ = std::fs::remove_file(f);
    }
    H2Response {
        status: v["status"].as_u64().and_then(|s| u16::try_from(s).ok()),
        headers: pairs(&v["headers"]),
        trailers: pairs(&v["trailers"]),
        body,
        reset: v["reset"].as_u64(),
        goaway: v["goaway"].as_u64(),
        sent: v["sent"].as_u64().unwrap_or(0) as usize,
        body_done: v["body_done"].as_bool().unwrap_or(false),
        timeout: v["timeout"].as_bool().unwrap_or(false),
    }
}
