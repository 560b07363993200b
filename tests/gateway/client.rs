//! A minimal HTTP/1.1 client over `TcpStream`: enough to talk to Envoy and
//! to time each chunk of a streamed answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A response as the client received it.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The whole body, de-chunked.
    pub body: Vec<u8>,
    /// Trailers of a chunked body, names lower-cased.
    pub trailers: Vec<(String, String)>,
    /// Each body piece with the time it was read (one entry per chunk of a
    /// chunked body, per read otherwise).
    pub chunks: Vec<(Instant, Vec<u8>)>,
    /// When the request was sent.
    pub sent_at: Instant,
}

impl Response {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as UTF-8 (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        body_json(&self.body)
    }
}

/// The first value of header `name` (any case) in `headers`.
pub fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `body` parsed as JSON; panics with its start when it is not JSON.
pub fn body_json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        let text = String::from_utf8_lossy(body);
        let head: String = text.chars().take(2000).collect();
        panic!("response is not JSON ({e}): {head}")
    })
}

/// Sends one request on a fresh connection and reads the whole response.
/// Large bodies are written from a second thread so that an early answer
/// (413) is read even while the body is still being sent.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    send(addr, method, path, headers, body, None)
}

/// Like [`request`], with the body sent `transfer-encoding: chunked` in
/// chunks of `chunk` bytes, ending with `trailers`.
pub fn request_chunked(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    chunk: usize,
    trailers: &[(&str, &str)],
) -> std::io::Result<Response> {
    send(addr, method, path, headers, body, Some((chunk, trailers)))
}

/// A body in HTTP/1.1 chunked framing.
fn chunked_body(body: &[u8], chunk: usize, trailers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / chunk.max(1) * 10 + 64);
    for piece in body.chunks(chunk.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    for (name, value) in trailers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    chunked: Option<(usize, &[(&str, &str)])>,
) -> std::io::Result<Response> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_nodelay(true)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\n");
    let mut has_length = false;
    for (name, value) in headers {
        has_length |= name.eq_ignore_ascii_case("content-length");
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let framed;
    let body = match chunked {
        Some((chunk, trailers)) => {
            head.push_str("transfer-encoding: chunked\r\n");
            framed = chunked_body(body, chunk, trailers);
            &framed[..]
        }
        None => {
            if !has_length && (method != "GET" || !body.is_empty()) {
                head.push_str(&format!("content-length: {}\r\n", body.len()));
            }
            body
        }
    };
    head.push_str("\r\n");
    let sent_at = Instant::now();
    let mut writer = stream.try_clone()?;
    writer.write_all(head.as_bytes())?;
    let background = if body.len() > 1 << 20 {
        let body = body.to_vec();
        // Write errors are expected when the gateway refuses early.
        Some(std::thread::spawn(move || {
            let _ = writer.write_all(&body);
        }))
    } else {
        writer.write_all(body)?;
        None
    };
    let response = read_response(stream, sent_at, method == "HEAD");
    if let Some(handle) = background {
        let _ = handle.join();
    }
    response
}

fn read_line(reader: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    let n = reader.read_line(&mut line)?;
    if n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn read_response(stream: TcpStream, sent_at: Instant, head: bool) -> std::io::Result<Response> {
    let mut reader = BufReader::new(stream);
    let status_line = read_line(&mut reader)?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(&mut reader)?;
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let find = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    let mut chunks = Vec::new();
    let mut trailers = Vec::new();
    if head || status == 204 || status == 304 {
        // No body.
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let size_line = read_line(&mut reader)?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    let line = read_line(&mut reader)?;
                    if line.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        trailers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                    }
                }
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk)?;
            let _crlf = read_line(&mut reader)?;
            body.extend_from_slice(&chunk);
            chunks.push((Instant::now(), chunk));
        }
    } else if let Some(len) = find("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| std::io::Error::other("bad content-length"))?;
        body = vec![0; len];
        reader.read_exact(&mut body)?;
        chunks.push((Instant::now(), body.clone()));
    } else {
        reader.read_to_end(&mut body)?;
        chunks.push((Instant::now(), body.clone()));
    }
    Ok(Response {
        status,
        headers,
        body,
        trailers,
        chunks,
        sent_at,
    })
}

/// Plain GET helper (admin interface).
pub fn get(addr: SocketAddr, path: &str) -> std::io::Result<Response> {
    request(addr, "GET", path, &[], b"")
}

/// One parsed server-sent event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// The `event:` field, empty when absent.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Splits an SSE body into events (LF or CRLF line ends).
pub fn parse_sse(body: &[u8]) -> Vec<SseEvent> {
    let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = String::new();
            let mut data: Vec<&str> = Vec::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim_start().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            SseEvent {
                event,
                data: data.join("\n"),
            }
        })
        .collect()
}

/// What a client assembles from a Messages API answer: the text of its text
/// blocks, the input of its tool_use blocks, and any error message.
#[derive(Debug, Default)]
pub struct Assembled {
    /// Concatenated text of the text blocks.
    pub text: String,
    /// Each tool_use block's input, parsed.
    pub tool_inputs: Vec<serde_json::Value>,
    /// The message of an error event or error body.
    pub error: Option<String>,
    /// Names of the SSE events seen, in order (empty for JSON answers).
    pub events: Vec<String>,
}

/// Assembles a JSON (non-streamed) Messages API answer.
pub fn assemble_json(v: &serde_json::Value) -> Assembled {
    let mut out = Assembled::default();
    if let Some(msg) = v.pointer("/error/message").and_then(|m| m.as_str()) {
        out.error = Some(msg.to_string());
    }
    for block in v["content"].as_array().into_iter().flatten() {
        match block["type"].as_str() {
            Some("text") => out.text.push_str(block["text"].as_str().unwrap_or("")),
            Some("tool_use") => out.tool_inputs.push(block["input"].clone()),
            _ => {}
        }
    }
    out
}

/// Assembles a streamed answer the way the SDKs do: text deltas appended,
/// `input_json_delta` fragments concatenated and parsed at block stop.
pub fn assemble_sse(body: &[u8]) -> Assembled {
    let mut out = Assembled::default();
    let mut partial: std::collections::BTreeMap<u64, String> = Default::default();
    for ev in parse_sse(body) {
        out.events.push(ev.event.clone());
        let Ok(data) = serde_json::from_str::<serde_json::Value>(&ev.data) else {
            panic!(
                "event {:?} has data that is not JSON: {:?}",
                ev.event, ev.data
            );
        };
        let index = data["index"].as_u64().unwrap_or(0);
        match data["type"].as_str() {
            Some("content_block_start") if data["content_block"]["type"] == "tool_use" => {
                partial.insert(index, String::new());
            }
            Some("content_block_delta") => match data["delta"]["type"].as_str() {
                Some("text_delta") => out
                    .text
                    .push_str(data["delta"]["text"].as_str().unwrap_or("")),
                Some("input_json_delta") => partial
                    .entry(index)
                    .or_default()
                    .push_str(data["delta"]["partial_json"].as_str().unwrap_or("")),
                _ => {}
            },
            Some("content_block_stop") => {
                if let Some(json) = partial.remove(&index) {
                    let input = serde_json::from_str(&json).unwrap_or_else(|e| {
                        panic!("tool_use input is not JSON after restoring ({e}): {json}")
                    });
                    out.tool_inputs.push(input);
                }
            }
            Some("error") => {
                out.error = data["error"]["message"].as_str().map(str::to_string);
            }
            _ => {}
        }
    }
    out
}
