//! A local mock of the Anthropic Messages API (std::net, one thread per
//! connection). It records every request it receives and answers like the
//! real API: a JSON message, or with `"stream": true` an SSE stream with a
//! text block and a tool_use block (`input_json_delta`), pings, and
//! optionally an error event. It echoes back every token it received (a
//! string shaped like `AWS_<KIND>_<hex>`), in the text and in the tool
//! input, so the client must see the originals again after restoring.
//!
//! It also answers `POST /v1/messages/count_tokens` (`input_tokens`) and
//! OpenAI's `POST /v1/chat/completions`, JSON or streamed.
//!
//! Per-request behaviour is chosen with headers, which the filter leaves
//! alone:
//! - `x-mock-pause-ms: N`: a short stream, pausing N ms before each text delta;
//! - `x-mock-error: 1`: the stream ends with an `error` event naming a token;
//! - `x-mock-binary: 1`: answer `application/octet-stream` bytes;
//! - `x-mock-trailers: 1`: the answer is chunked and ends with the trailer
//!   `x-mock-trailer: done` (JSON, SSE and text answers alike);
//! - `x-mock-text: 1`: a `text/plain` answer naming every token, that ends
//!   with the first token cut short (`Found: <tokens>. Cut: <prefix>`);
//! - `x-mock-brief: 1`: a short JSON answer naming at most three tokens
//!   (for bodies with very many values, where echoing them all is slow);
//! - `x-mock-repeat: N`: an answer of about N bytes made of the request's
//!   tokens repeated ([`repeat_body`]), `x-mock-format: json` (default) or
//!   `sse`, `x-mock-framing: length` (default) or `chunked` (64 KiB
//!   chunks, `x-mock-pace-ms: N` apart when given).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Method and path.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Trailers of a chunked body, names lower-cased.
    pub trailers: Vec<(String, String)>,
}

impl Received {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The running mock; lives as long as the test process.
pub struct MockApi {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl MockApi {
    /// Binds 127.0.0.1 on a free port and serves in background threads.
    pub fn start() -> MockApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind mock upstream");
        let addr = listener.local_addr().expect("mock address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    let _ = serve_connection(conn, &log);
                });
            }
        });
        MockApi { addr, received }
    }

    /// Every request received so far whose `x-e2e-id` header is `id`.
    pub fn received_for(&self, id: &str) -> Vec<Received> {
        self.received
            .lock()
            .expect("mock log")
            .iter()
            .filter(|r| r.header("x-e2e-id") == Some(id))
            .cloned()
            .collect()
    }

    /// How many requests reached the mock in total.
    pub fn count(&self) -> usize {
        self.received.lock().expect("mock log").len()
    }
}

fn read_line(reader: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

fn serve_connection(conn: TcpStream, log: &Mutex<Vec<Received>>) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    // Keep-alive: Envoy reuses upstream connections.
    while let Some(req) = read_request(&mut reader)? {
        log.lock().expect("mock log").push(req.clone());
        answer(&mut writer, &req)?;
    }
    Ok(())
}

/// Reads one HTTP/1.1 request (body by content-length or chunked); `None`
/// when the peer closed the connection.
pub fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Received>> {
    let request_line = loop {
        match read_line(reader)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    while let Some(line) = read_line(reader)? {
        if line.is_empty() {
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let find = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    let mut trailers = Vec::new();
    if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let size_line = read_line(reader)?.unwrap_or_default();
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            if size == 0 {
                while let Some(line) = read_line(reader)?.filter(|l| !l.is_empty()) {
                    if let Some((n, v)) = line.split_once(':') {
                        trailers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                break;
            }
            // `take` + `read_to_end`: bulk copies even in a debug build.
            let got = reader.by_ref().take(size as u64).read_to_end(&mut body)?;
            if got != size {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            read_line(reader)?;
        }
    } else if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.reserve(len);
        if reader.by_ref().take(len as u64).read_to_end(&mut body)? != len {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(Some(Received {
        method,
        path,
        headers,
        body,
        trailers,
    }))
}

/// Every distinct token in `body`, in order of first appearance.
pub fn tokens_in(body: &[u8]) -> Vec<String> {
    first_tokens(body, usize::MAX)
}

/// The first `max` distinct tokens in `body`, in order of appearance.
pub fn first_tokens(body: &[u8], max: usize) -> Vec<String> {
    let re = regex_lite::Regex::new(r"AWS_[A-Z0-9_]+_[0-9a-f]{8,}").expect("token regex");
    let text = String::from_utf8_lossy(body);
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<String> = Vec::new();
    for m in re.find_iter(&text) {
        if out.len() >= max {
            break;
        }
        if seen.insert(m.as_str()) {
            out.push(m.as_str().to_string());
        }
    }
    out
}

/// The answer `x-mock-repeat: bytes` asks for: `tokens` repeated (cycled,
/// space-separated) to about `bytes` bytes of text, as one JSON message
/// (`sse == false`) or as an SSE stream of 4 KiB text deltas.
pub fn repeat_body(tokens: &[String], bytes: usize, sse: bool) -> Vec<u8> {
    let mut text = String::with_capacity(bytes + 64);
    for t in tokens.iter().cycle() {
        if text.len() >= bytes || tokens.is_empty() {
            break;
        }
        text.push_str(t);
        text.push(' ');
    }
    if !sse {
        let msg = serde_json::json!({
            "id": "msg_01Repeat", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 10}
        });
        return serde_json::to_vec(&msg).expect("serialize message");
    }
    let mut out = event(
        "message_start",
        &serde_json::json!({"type": "message_start", "message": {
            "id": "msg_01Repeat", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
    );
    out.extend(event(
        "content_block_start",
        &serde_json::json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ));
    for piece in pieces(&text, 4096) {
        out.extend(event(
            "content_block_delta",
            &serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
        ));
    }
    out.extend(event(
        "content_block_stop",
        &serde_json::json!({"type": "content_block_stop", "index": 0}),
    ));
    out.extend(event(
        "message_stop",
        &serde_json::json!({"type": "message_stop"}),
    ));
    out
}

/// Writes one HTTP/1.1 chunk (nothing for an empty piece).
fn write_chunk(w: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    write!(w, "{:x}\r\n", bytes.len())?;
    w.write_all(bytes)?;
    w.write_all(b"\r\n")?;
    w.flush()
}

/// Ends a chunked body, with the mock's trailer when `trailers`.
fn end_chunks(w: &mut TcpStream, trailers: bool) -> std::io::Result<()> {
    if trailers {
        w.write_all(b"0\r\nx-mock-trailer: done\r\n\r\n")?;
    } else {
        w.write_all(b"0\r\n\r\n")?;
    }
    w.flush()
}

/// Sends `body` as a 200 with `content_type`: with a content-length, or
/// chunked in pieces of `chunk` bytes (ending with the trailer when
/// `trailers`), waiting `pace` after each piece when given.
fn send_body(
    w: &mut TcpStream,
    content_type: &str,
    body: &[u8],
    (chunked, chunk, pace): (bool, usize, Option<Duration>),
    trailers: bool,
) -> std::io::Result<()> {
    if !chunked && !trailers {
        write!(
            w,
            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\nrequest-id: req_011CV\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )?;
        w.write_all(body)?;
        return w.flush();
    }
    write!(
        w,
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\nrequest-id: req_011CV\r\ntransfer-encoding: chunked\r\n{}\r\n",
        if trailers { "trailer: x-mock-trailer\r\n" } else { "" }
    )?;
    for piece in body.chunks(chunk.max(1)) {
        write_chunk(w, piece)?;
        if let Some(pace) = pace {
            std::thread::sleep(pace);
        }
    }
    end_chunks(w, trailers)
}

fn answer(w: &mut TcpStream, req: &Received) -> std::io::Result<()> {
    let trailers = req.header("x-mock-trailers").is_some();
    if let Some(bytes) = req.header("x-mock-repeat").and_then(|v| v.parse().ok()) {
        let sse = req.header("x-mock-format") == Some("sse");
        let chunked = req.header("x-mock-framing") == Some("chunked");
        let pace = req
            .header("x-mock-pace-ms")
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis);
        let body = repeat_body(&tokens_in(&req.body), bytes, sse);
        let content_type = if sse {
            "text/event-stream; charset=utf-8"
        } else {
            "application/json"
        };
        return send_body(w, content_type, &body, (chunked, 64 * 1024, pace), trailers);
    }
    if req.header("x-mock-brief").is_some() {
        let tokens = first_tokens(&req.body, 3);
        let msg = serde_json::json!({
            "id": "msg_01Brief", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": format!("Brief: {}", tokens.join(", "))}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": req.body.len() / 4, "output_tokens": 10}
        });
        let body = serde_json::to_vec(&msg).expect("serialize message");
        return send_body(w, "application/json", &body, (false, 0, None), trailers);
    }
    let tokens = tokens_in(&req.body);
    if req.header("x-mock-text").is_some() {
        // Small chunks, ending with the first token cut short: a restorer
        // holds back what could still become a token, and must flush it
        // as it is when the stream ends.
        let first = tokens.first().map(String::as_str).unwrap_or("AWS_");
        let body = format!(
            "Found: {}. Cut: {}",
            tokens.join(" "),
            &first[..first.len() - 3]
        );
        return send_body(
            w,
            "text/plain; charset=utf-8",
            body.as_bytes(),
            (true, 9, None),
            trailers,
        );
    }
    let request: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
    if req.path.starts_with("/v1/messages/count_tokens") {
        let body = serde_json::json!({"input_tokens": req.body.len() / 4 + 1}).to_string();
        return send_body(
            w,
            "application/json",
            body.as_bytes(),
            (false, 0, None),
            trailers,
        );
    }
    if req.path.starts_with("/v1/chat/completions") {
        return chat_completion(w, &request, &tokens);
    }
    if req.header("x-mock-binary").is_some() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        write!(
            w,
            "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\n\r\n",
            bytes.len()
        )?;
        return w.write_all(&bytes);
    }
    let text = if tokens.is_empty() {
        "I found no identifiers.".to_string()
    } else {
        format!(
            "Here is what I found: {}. Let me look closer at {}.",
            tokens.join(", "),
            tokens.first().map(String::as_str).unwrap_or("")
        )
    };
    let tool_input = serde_json::json!({
        "command": format!("aws ec2 describe-instances --instance-ids {}", tokens.join(" ")),
        "ids": tokens,
        "description": "Inspect the resources",
    });
    if request["stream"] == true {
        stream_answer(w, req, &text, &tool_input, &tokens)
    } else {
        let msg = serde_json::json!({
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [
                {"type": "text", "text": text},
                {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "Bash", "input": tool_input}
            ],
            "stop_reason": "tool_use",
            "stop_sequence": null,
            "usage": {"input_tokens": req.body.len() / 4, "output_tokens": 120}
        });
        let body = serde_json::to_vec(&msg).expect("serialize message");
        // With trailers: chunked in small pieces, so that the filter sees
        // several body callbacks and none with end of stream.
        send_body(w, "application/json", &body, (trailers, 50, None), trailers)
    }
}

/// An OpenAI chat completion echoing `tokens`: with `"stream": true`,
/// `chat.completion.chunk` events whose `delta.content`, then a tool
/// call's `function.arguments`, are cut into small pieces, then
/// `data: [DONE]`.
fn chat_completion(
    w: &mut TcpStream,
    request: &serde_json::Value,
    tokens: &[String],
) -> std::io::Result<()> {
    let text = format!("Found: {}.", tokens.join(", "));
    let head =
        serde_json::json!({"id": "chatcmpl-mock", "created": 1764806400, "model": "gpt-mock"});
    if request["stream"] != true {
        let msg = serde_json::json!({
            "id": head["id"], "object": "chat.completion", "created": head["created"], "model": head["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
        });
        return send_body(
            w,
            "application/json",
            msg.to_string().as_bytes(),
            (false, 0, None),
            false,
        );
    }
    let chunk = |delta: serde_json::Value, finish: serde_json::Value| {
        let c = serde_json::json!({
            "id": head["id"], "object": "chat.completion.chunk", "created": head["created"], "model": head["model"],
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
        });
        format!("data: {c}\n\n").into_bytes()
    };
    let mut events = vec![chunk(
        serde_json::json!({"role": "assistant", "content": ""}),
        serde_json::Value::Null,
    )];
    for piece in pieces(&text, 7) {
        events.push(chunk(
            serde_json::json!({"content": piece}),
            serde_json::Value::Null,
        ));
    }
    // A tool call whose arguments (a JSON text) echo the tokens too.
    events.push(chunk(
        serde_json::json!({"tool_calls": [{"index": 0, "id": "call_mock", "type": "function", "function": {"name": "bash", "arguments": ""}}]}),
        serde_json::Value::Null,
    ));
    let arguments = serde_json::json!({"ids": tokens}).to_string();
    for piece in pieces(&arguments, 7) {
        events.push(chunk(
            serde_json::json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
            serde_json::Value::Null,
        ));
    }
    events.push(chunk(
        serde_json::json!({}),
        serde_json::json!("tool_calls"),
    ));
    events.push(b"data: [DONE]\n\n".to_vec());
    send_pieces(w, 200, "text/event-stream", "", &events)
}

/// Writes one chunked HTTP/1.1 response, one chunk per piece (empty ones
/// skipped: an empty chunk would end the body), with `extra_headers`
/// (`name: value\r\n` lines) after the content type.
pub fn send_pieces(
    w: &mut impl Write,
    status: u16,
    content_type: &str,
    extra_headers: &str,
    pieces: &[Vec<u8>],
) -> std::io::Result<()> {
    let reason = if status == 200 { "OK" } else { "Not Found" };
    write!(
        w,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n{extra_headers}\r\n"
    )?;
    for p in pieces.iter().filter(|p| !p.is_empty()) {
        write!(w, "{:x}\r\n", p.len())?;
        w.write_all(p)?;
        w.write_all(b"\r\n")?;
    }
    w.write_all(b"0\r\n\r\n")?;
    w.flush()
}

/// One SSE event: its name and JSON data.
pub fn event(name: &str, data: &serde_json::Value) -> Vec<u8> {
    format!("event: {name}\ndata: {data}\n\n").into_bytes()
}

/// Splits `s` into pieces of at most `n` characters.
fn pieces(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

fn stream_answer(
    w: &mut TcpStream,
    req: &Received,
    text: &str,
    tool_input: &serde_json::Value,
    tokens: &[String],
) -> std::io::Result<()> {
    let pause_ms: Option<u64> = req.header("x-mock-pause-ms").and_then(|v| v.parse().ok());
    let mut events: Vec<Vec<u8>> = Vec::new();
    // Indexes of events to pause before (the pause test).
    let mut pause_before: Vec<usize> = Vec::new();
    events.push(event(
        "message_start",
        &serde_json::json!({"type": "message_start", "message": {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}),
    ));
    events.push(event(
        "content_block_start",
        &serde_json::json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ));
    events.push(event("ping", &serde_json::json!({"type": "ping"})));
    let text_pieces = if pause_ms.is_some() {
        // "Hello, " first: nothing held back, it must reach the client at once.
        let mut p = vec!["Hello, ".to_string()];
        p.extend(pieces(text, text.len().div_ceil(2).max(1)));
        p
    } else {
        // Small deltas: tokens are split across events.
        pieces(text, 7)
    };
    for piece in text_pieces {
        if pause_ms.is_some() {
            pause_before.push(events.len());
        }
        events.push(event(
            "content_block_delta",
            &serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
        ));
    }
    events.push(event(
        "content_block_stop",
        &serde_json::json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push(event(
        "content_block_start",
        &serde_json::json!({"type": "content_block_start", "index": 1, "content_block": {
            "type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "Bash", "input": {}}}),
    ));
    let json = tool_input.to_string();
    let mut json_pieces = vec![String::new()];
    json_pieces.extend(pieces(&json, 11));
    for piece in json_pieces {
        events.push(event(
            "content_block_delta",
            &serde_json::json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": piece}}),
        ));
    }
    events.push(event(
        "content_block_stop",
        &serde_json::json!({"type": "content_block_stop", "index": 1}),
    ));
    if req.header("x-mock-error").is_some() {
        events.push(event(
            "error",
            &serde_json::json!({"type": "error", "error": {"type": "overloaded_error",
                "message": format!("Overloaded while reading {}", tokens.first().map(String::as_str).unwrap_or("nothing"))}}),
        ));
    } else {
        events.push(event("ping", &serde_json::json!({"type": "ping"})));
        events.push(event(
            "message_delta",
            &serde_json::json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 89}}),
        ));
        events.push(event(
            "message_stop",
            &serde_json::json!({"type": "message_stop"}),
        ));
    }

    let trailers = req.header("x-mock-trailers").is_some();
    write!(
        w,
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n{}\r\n",
        if trailers { "trailer: x-mock-trailer\r\n" } else { "" }
    )?;
    if let Some(ms) = pause_ms {
        for (i, ev) in events.iter().enumerate() {
            if pause_before.contains(&i) {
                std::thread::sleep(Duration::from_millis(ms));
            }
            write_chunk(w, ev)?;
        }
    } else {
        // Writes that split events and writes that carry several events.
        let all: Vec<u8> = events.concat();
        let sizes = [13usize, 200, 5, 64, 1, 512, 31, 97, 2];
        let mut at = 0;
        for size in sizes.iter().cycle() {
            if at >= all.len() {
                break;
            }
            let end = (at + size).min(all.len());
            write_chunk(w, &all[at..end])?;
            at = end;
        }
    }
    end_chunks(w, trailers)
}
