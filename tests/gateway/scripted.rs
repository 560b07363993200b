//! A scripted model: a local server that speaks the Messages API's
//! streaming protocol (`POST /v1/messages`, `stream: true`: the events,
//! their order and fields as the real API sends them) and plays a fixed
//! script for Claude Code, keyed on how many tool results the
//! conversation holds:
//!
//! 0. a thinking block, then `Read` of the file given;
//! 1. `Write` of the text the Read result held (masked: the model only
//!    ever sees tokens) to the copy's path;
//! 2. a thinking block naming a token, then `Edit` of one line of the
//!    copy (`status: pending` to `status: done`);
//! 3. a text answer that repeats the whole text.
//!
//! Tool input is streamed in `input_json_delta` fragments cut at random
//! places, so tokens straddle deltas. Every request is recorded.

use std::io::BufReader;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::mock::{event, read_request, send_pieces, Received};
use crate::splitmix::Rng;

/// What the script reads and writes.
#[derive(Debug, Clone)]
pub struct Script {
    /// The file the model has Claude Code read.
    pub read_path: String,
    /// The file the model has Claude Code write, then edit.
    pub write_path: String,
    /// Seed of the fragment cuts.
    pub seed: u64,
}

/// The line the script's Edit changes, and what it becomes.
pub const EDIT_FROM: &str = "status: pending";
/// See [`EDIT_FROM`].
pub const EDIT_TO: &str = "status: done";
/// The text of the script's first thinking block.
pub const FIRST_THOUGHT: &str = "The user wants a copy; read the file first.";
/// The signature of every thinking block (the filter must leave it alone).
pub const SIGNATURE: &str = "EqQBCkYIBRgCKkBscripted+signature/0123456789==";

/// The running scripted model.
pub struct ScriptedModel {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl ScriptedModel {
    /// Binds 127.0.0.1 on a free port and serves `script`.
    pub fn start(script: Script) -> ScriptedModel {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind scripted model");
        let addr = listener.local_addr().expect("scripted model address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                let script = script.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &log, &script);
                });
            }
        });
        ScriptedModel { addr, received }
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("scripted log").clone()
    }
}

fn serve(conn: TcpStream, log: &Mutex<Vec<Received>>, script: &Script) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    while let Some(req) = read_request(&mut reader)? {
        log.lock().expect("scripted log").push(req.clone());
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        if req.method != "POST" || !req.path.starts_with("/v1/messages") {
            let err = json!({"type": "error", "error": {"type": "not_found_error", "message": "scripted model: no such route"}});
            send_pieces(
                &mut writer,
                404,
                "application/json",
                "request-id: req_scripted\r\n",
                &[err.to_string().into_bytes()],
            )?;
            continue;
        }
        let events = turn(&body, script);
        send_pieces(
            &mut writer,
            200,
            "text/event-stream",
            "request-id: req_scripted\r\n",
            &events,
        )?;
    }
    Ok(())
}

/// The SSE events of the script's answer to `body`.
fn turn(body: &Value, script: &Script) -> Vec<Vec<u8>> {
    let model = body["model"]
        .as_str()
        .unwrap_or("claude-sonnet-4-5")
        .to_string();
    let results = tool_results(body);
    let mut rng = Rng(script.seed ^ (results.len() as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut out = vec![event(
        "message_start",
        &json!({
            "type": "message_start",
            "message": {
                "id": format!("msg_scripted_{}", results.len()),
                "type": "message", "role": "assistant", "model": model, "content": [],
                "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 100, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
            }
        }),
    )];
    out.push(event("ping", &json!({"type": "ping"})));
    // Requests without tools (a title, a summary): a short text.
    if body["tools"].as_array().is_none_or(|t| t.is_empty()) {
        text_block(&mut out, 0, "Scripted.", &mut rng);
        finish(&mut out, "end_turn");
        return out;
    }
    let read_text = results
        .first()
        .map(|r| strip_line_numbers(r))
        .unwrap_or_default();
    match results.len() {
        0 => {
            thinking_block(&mut out, 0, FIRST_THOUGHT, &mut rng);
            tool_block(
                &mut out,
                1,
                "toolu_scripted_read",
                "Read",
                &json!({"file_path": script.read_path}),
                &mut rng,
            );
            finish(&mut out, "tool_use");
        }
        1 => {
            let input = json!({"file_path": script.write_path, "content": read_text});
            tool_block(
                &mut out,
                0,
                "toolu_scripted_write",
                "Write",
                &input,
                &mut rng,
            );
            finish(&mut out, "tool_use");
        }
        2 => {
            let line = read_text
                .lines()
                .find(|l| l.contains(EDIT_FROM))
                .unwrap_or(EDIT_FROM)
                .to_string();
            let token = first_token(&line).unwrap_or_default();
            thinking_block(&mut out, 0, &format!("Now mark {token} done."), &mut rng);
            let input = json!({
                "file_path": script.write_path,
                "old_string": line,
                "new_string": line.replace(EDIT_FROM, EDIT_TO),
            });
            tool_block(&mut out, 1, "toolu_scripted_edit", "Edit", &input, &mut rng);
            finish(&mut out, "tool_use");
        }
        _ => {
            let answer = format!("Copied and updated. The file holds:\n{read_text}");
            text_block(&mut out, 0, &answer, &mut rng);
            finish(&mut out, "end_turn");
        }
    }
    out
}

/// The text of every `tool_result` block of the conversation, in order.
fn tool_results(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for msg in body["messages"].as_array().into_iter().flatten() {
        for block in msg["content"].as_array().into_iter().flatten() {
            if block["type"] != "tool_result" {
                continue;
            }
            let text = match &block["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts
                    .iter()
                    .filter_map(|p| p["text"].as_str())
                    .collect::<Vec<_>>()
                    .join(""),
                _ => String::new(),
            };
            out.push(text);
        }
    }
    out
}

/// The file text of a Read result: its numbered lines (`     1→…` or
/// `1<TAB>…`) without their numbers (a file's final newline shows as one
/// last empty line).
pub fn strip_line_numbers(result: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in result.lines() {
        let trimmed = line.trim_start();
        let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            continue;
        }
        let rest = &trimmed[digits..];
        let Some(text) = rest.strip_prefix('→').or_else(|| rest.strip_prefix('\t')) else {
            continue;
        };
        lines.push(text);
    }
    lines.join("\n")
}

/// The first token (`AWS_<KIND>_<hex>`) in `s`.
fn first_token(s: &str) -> Option<String> {
    crate::mock::tokens_in(s.as_bytes()).into_iter().next()
}

/// Pieces of `s` cut at random places (1 to 12 characters each).
fn cuts(s: &str, rng: &mut Rng) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let n = rng.range(1, 12);
        let j = (i + n).min(chars.len());
        out.push(chars[i..j].iter().collect());
        i = j;
    }
    out
}

fn text_block(out: &mut Vec<Vec<u8>>, index: usize, text: &str, rng: &mut Rng) {
    out.push(event("content_block_start", &json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})));
    for piece in cuts(text, rng) {
        out.push(event("content_block_delta", &json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}})));
    }
    out.push(event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": index}),
    ));
}

fn thinking_block(out: &mut Vec<Vec<u8>>, index: usize, thought: &str, rng: &mut Rng) {
    out.push(event("content_block_start", &json!({"type": "content_block_start", "index": index, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})));
    for piece in cuts(thought, rng) {
        out.push(event("content_block_delta", &json!({"type": "content_block_delta", "index": index, "delta": {"type": "thinking_delta", "thinking": piece}})));
    }
    out.push(event("content_block_delta", &json!({"type": "content_block_delta", "index": index, "delta": {"type": "signature_delta", "signature": SIGNATURE}})));
    out.push(event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": index}),
    ));
}

fn tool_block(
    out: &mut Vec<Vec<u8>>,
    index: usize,
    id: &str,
    name: &str,
    input: &Value,
    rng: &mut Rng,
) {
    out.push(event("content_block_start", &json!({"type": "content_block_start", "index": index, "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}})));
    for piece in cuts(&input.to_string(), rng) {
        out.push(event("content_block_delta", &json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": piece}})));
    }
    out.push(event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": index}),
    ));
}

fn finish(out: &mut Vec<Vec<u8>>, stop_reason: &str) {
    out.push(event("message_delta", &json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": 50}})));
    out.push(event("message_stop", &json!({"type": "message_stop"})));
}
