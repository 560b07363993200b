//! Realistic request texts and bodies for the benchmarks: real code, real
//! AWS output and Claude-Code-shaped conversations, never a repeated
//! snippet (a repeated snippet lets branch predictors and caches learn the
//! input). Each generator takes a `variant`, so a benchmark can send a
//! body the gateway has never seen on every request.
//!
//! The including crate provides `crate::corpus` (tests/support/corpus.rs)
//! and `crate::splitmix` (tests/support/splitmix.rs).

#![allow(dead_code)]

use crate::corpus::{aws_corpus_text, aws_records};
use crate::splitmix::Rng;
use std::sync::OnceLock;

/// The Python standard library's sources (the python3 on PATH, tests and
/// site-packages left out), the top directory's files first, then each
/// subdirectory's, in name order: about 13 MB.
fn python_stdlib() -> &'static str {
    static ALL: OnceLock<String> = OnceLock::new();
    ALL.get_or_init(|| {
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
            ])
            .output()
            .expect("python3 is needed for the realistic benchmarks");
        let root = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let mut all = String::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            let mut entries: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .flatten()
                .map(|e| e.path())
                .collect();
            entries.sort();
            let mut subdirs = Vec::new();
            for p in entries {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if p.is_dir() {
                    if !matches!(name, "test" | "tests" | "site-packages" | "__pycache__") {
                        subdirs.push(p);
                    }
                } else if name.ends_with(".py") {
                    all.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
                }
            }
            // Name order: the first subdirectory is walked next.
            dirs.extend(subdirs.into_iter().rev());
        }
        assert!(
            all.len() > 4_000_000,
            "only {} bytes of Python in {}",
            all.len(),
            root.display()
        );
        all
    })
}

/// `size` bytes of real Python code; variant `v` starts `v × size` bytes
/// further into the standard library (wrapping), so variants differ.
pub fn python_code(size: usize, variant: usize) -> String {
    let all = python_stdlib();
    assert!(
        all.len() > size,
        "the standard library holds less than {size} bytes"
    );
    let start = all.floor_char_boundary(variant.saturating_mul(size) % (all.len() - size));
    let end = all.floor_char_boundary(start + size);
    all[start..end].to_string()
}

/// `size` bytes of the labelled corpus's AWS texts; variant 0 takes the
/// records in order, any other a shuffle of them seeded by the variant.
pub fn aws_output(size: usize, variant: usize) -> String {
    if variant == 0 {
        return aws_corpus_text(size);
    }
    let mut records = aws_records();
    let mut r = Rng(variant as u64);
    for i in (1..records.len()).rev() {
        records.swap(i, r.range(0, i));
    }
    let mut s = String::with_capacity(size + 64 * 1024);
    for rec in records.iter().cycle() {
        if s.len() >= size {
            break;
        }
        s.push_str(rec);
        s.push('\n');
    }
    s.truncate(s.floor_char_boundary(size));
    s
}

/// A Messages API request whose last user turn is a tool result holding
/// `text` (as Claude Code sends what a tool printed).
pub fn tool_result_request(text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5", "max_tokens": 8192,
        "system": [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."}],
        "messages": [
            {"role": "user", "content": "What does this show?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "cat out.txt"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": text}]}
        ]
    }))
    .expect("request")
}

/// A Claude-Code-shaped request of about `size` bytes: a system prompt,
/// tool definitions, then tool results and texts of 1 to 50 KB cut from
/// real code and AWS texts in turn (two AWS for one code), and a short
/// last question. `seed` varies the pieces and where they are cut from.
pub fn claude_conversation(size: usize, seed: u64) -> Vec<u8> {
    let variant = usize::try_from(seed).unwrap_or(0);
    let (code, aws) = (python_code(size, variant), aws_output(size, variant));
    let mut r = Rng(seed | 1);
    let (mut at_code, mut at_aws, mut total) = (0usize, 0usize, 0usize);
    let mut messages = Vec::new();
    let mut i = 0;
    while total < size {
        let n = r.range(1024, 50 * 1024);
        let (src, at) = if i % 3 == 2 {
            (&code, &mut at_code)
        } else {
            (&aws, &mut at_aws)
        };
        let start = src.floor_char_boundary(*at % src.len());
        let end = src.floor_char_boundary((start + n).min(src.len()));
        *at = end;
        let text = &src[start..end];
        total += text.len();
        messages.push(serde_json::json!({"role": "assistant", "content": [
            {"type": "text", "text": "Let me look at that."},
            {"type": "tool_use", "id": format!("toolu_{i}"), "name": "Bash", "input": {"command": "cat notes.txt"}}
        ]}));
        messages.push(serde_json::json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": format!("toolu_{i}"), "content": text}
        ]}));
        i += 1;
    }
    messages.push(serde_json::json!({"role": "user", "content": "What should I fix first?"}));
    let tools: Vec<_> = ["Bash", "Read", "Write", "Edit", "Grep"]
        .iter()
        .map(|t| serde_json::json!({"name": t, "description": format!("The {t} tool."), "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": true,
        "system": [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."}],
        "tools": tools, "messages": messages,
    }))
    .expect("conversation")
}

/// A Messages API answer (not streamed) whose one text block is `text`.
pub fn messages_answer(text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 1000, "output_tokens": 30000}
    }))
    .expect("answer")
}

/// `text` streamed as Claude streams an answer, one `Vec` per SSE event
/// (as the upstream flushes them): its first half in `text_delta` events,
/// its second half as a Bash tool call's input in `input_json_delta`
/// events, each delta 1 to `2 × delta` bytes long (cut anywhere, escapes
/// of the partial JSON included, as the API does).
pub fn messages_stream(text: &str, delta: usize) -> Vec<Vec<u8>> {
    let mut r = Rng(delta as u64);
    let mut pieces = |s: &str| {
        let mut out = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            let n = r.range(1, 2 * delta).min(rest.len());
            let cut = match rest.floor_char_boundary(n) {
                0 => rest.ceil_char_boundary(n),
                c => c,
            };
            let (piece, tail) = rest.split_at(cut);
            out.push(piece.to_string());
            rest = tail;
        }
        out
    };
    let half = text.floor_char_boundary(text.len() / 2);
    let (said, input) = text.split_at(half);
    let input = serde_json::json!({ "command": input }).to_string();
    let event = |name: &str, data: serde_json::Value| {
        format!("event: {name}\ndata: {data}\n\n").into_bytes()
    };
    let mut events = vec![
        event(
            "message_start",
            serde_json::json!({"type": "message_start", "message": {"id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 1000, "output_tokens": 1}}}),
        ),
        event(
            "content_block_start",
            serde_json::json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
    ];
    for p in pieces(said) {
        events.push(event("content_block_delta", serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}})));
    }
    events.push(event(
        "content_block_stop",
        serde_json::json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push(event("content_block_start", serde_json::json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_bench", "name": "Bash", "input": {}}})));
    for p in pieces(&input) {
        events.push(event("content_block_delta", serde_json::json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": p}})));
    }
    events.push(event(
        "content_block_stop",
        serde_json::json!({"type": "content_block_stop", "index": 1}),
    ));
    events.push(event("message_delta", serde_json::json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 30000}})));
    events.push(event(
        "message_stop",
        serde_json::json!({"type": "message_stop"}),
    ));
    events
}
