//! Criterion benches of the engine on 1 MB inputs.
//!
//! `realistic`: real, varied text, no snippet repeated: the Python
//! standard library's sources (clean code and prose), the labelled
//! corpus's AWS texts (botocore's examples and documentation, CLI output,
//! IaC, logs), and a Claude-Code-shaped conversation built from both
//! (system prompt, tool definitions, tool results and texts of 1 to 50 KB,
//! a short last question), never seen (memo off) and resent (memo on).
//!
//! `synthetic`: the older bodies, built by repeating one snippet (they
//! show the per-byte floor, not what users get): masking repeated clean
//! text, dense generated AWS CLI output, a generated Claude-like JSON
//! request; walking it; restoring an SSE stream fed in 16 KiB chunks.
//!
//! `make bench` (or `cargo bench --bench engine`); throughput is reported
//! in bytes per second of input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use aws_masker::config::Config;
use aws_masker::mask::{Engine, MaskReport};
use aws_masker::stream::{ChunkRestorer, SseRestorer};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const MB: usize = 1 << 20;

/// An engine with the detection memo off: every iteration scans its text
/// as if it were new (otherwise all but the first would be served by the
/// memo).
fn engine() -> Engine {
    let config = Config::from_json(br#"{"memo_texts": 0}"#).unwrap();
    Engine::new(config, b"bench secret, at least 16 bytes")
}

/// An engine with the default configuration, memo on.
fn engine_with_memo() -> Engine {
    Engine::new(Config::default(), b"bench secret, at least 16 bytes")
}

/// A deterministic pseudo-random generator (xorshift64*), so every run
/// benches the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[(self.next() % 16) as usize]))
            .collect()
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }
}

/// Ordinary source code and prose: the shipped clean corpus, repeated.
pub fn clean_text(size: usize) -> String {
    let corpus = include_str!("../tests/fixtures/clean_corpus.txt");
    let mut s = String::with_capacity(size + corpus.len());
    while s.len() < size {
        s.push_str(corpus);
    }
    s.truncate(s.floor_char_boundary(size));
    s
}

/// `aws ec2 describe-instances`-style output: an identifier every few
/// dozen bytes.
pub fn dense_aws(size: usize) -> String {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut s = String::with_capacity(size + 2048);
    while s.len() < size {
        let account = r.digits(12);
        s.push_str(&format!(
            concat!(
                "        {{\n",
                "            \"InstanceId\": \"i-{}\",\n",
                "            \"ImageId\": \"ami-{}\",\n",
                "            \"OwnerId\": \"{}\",\n",
                "            \"PrivateIpAddress\": \"10.{}.{}.{}\",\n",
                "            \"PrivateDnsName\": \"ip-10-{}-{}-{}.us-west-2.compute.internal\",\n",
                "            \"SubnetId\": \"subnet-{}\",\n",
                "            \"VpcId\": \"vpc-{}\",\n",
                "            \"SecurityGroups\": [{{\"GroupId\": \"sg-{}\"}}],\n",
                "            \"IamInstanceProfile\": {{\"Arn\": \"arn:aws:iam::{}:instance-profile/web-{}\"}},\n",
                "            \"State\": {{\"Code\": 16, \"Name\": \"running\"}}\n",
                "        }},\n"
            ),
            r.hex(17),
            r.hex(17),
            account,
            r.next() % 256,
            r.next() % 256,
            r.next() % 254 + 1,
            r.next() % 256,
            r.next() % 256,
            r.next() % 254 + 1,
            r.hex(17),
            r.hex(8),
            r.hex(17),
            account,
            r.hex(4),
        ));
    }
    s
}

/// A Claude-like request: code and prose with an AWS id every ~2 KB.
pub fn claude_request(size: usize) -> Vec<u8> {
    let clean = clean_text(size);
    let mut r = Rng(42);
    let mut messages = Vec::new();
    for (i, chunk) in clean.as_bytes().chunks(2048).enumerate() {
        let text = String::from_utf8_lossy(chunk).into_owned();
        let with_id = format!("{text} instance i-{} ", r.hex(17));
        let block = if i % 2 == 0 {
            serde_json::json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("toolu_{i}"), "content": with_id}]})
        } else {
            serde_json::json!({"role": "assistant", "content": [{"type": "text", "text": with_id}]})
        };
        messages.push(block);
    }
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5", "max_tokens": 4096, "stream": true,
        "system": "You are Claude Code.", "messages": messages,
    }))
    .unwrap()
}

/// An Anthropic SSE stream whose text deltas carry the masked dense text,
/// and the token map that restores it.
fn sse_stream(e: &Engine, size: usize) -> (Vec<u8>, aws_masker::token::TokenMap) {
    let mut tokens = e.new_token_map();
    let masked = e.mask_text(&dense_aws(size), &mut tokens).into_owned();
    let mut out = String::from("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\"}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
    let mut rest = masked.as_str();
    while !rest.is_empty() {
        let cut = rest.floor_char_boundary(37.min(rest.len()));
        let cut = if cut == 0 { rest.len() } else { cut };
        let (piece, tail) = rest.split_at(cut);
        let delta = serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}});
        out.push_str(&format!("event: content_block_delta\ndata: {delta}\n\n"));
        rest = tail;
    }
    out.push_str("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    (out.into_bytes(), tokens)
}

/// Masks one text with a fresh token map, as one exchange does.
fn mask_text_once(e: &Engine, text: &str) -> usize {
    let mut tokens = e.new_token_map();
    e.mask_text(black_box(text), &mut tokens).len()
}

/// Masks one JSON request with a fresh token map, as one exchange does.
fn mask_json_once(e: &Engine, request: &[u8]) -> Option<usize> {
    let mut tokens = e.new_token_map();
    let out = e
        .mask_json(black_box(request), &mut tokens, &mut MaskReport::default())
        .unwrap();
    out.map(|v| v.len())
}

#[path = "../tests/support/corpus.rs"]
mod corpus;
#[path = "../tests/support/realistic.rs"]
mod realistic;
#[path = "../tests/support/splitmix.rs"]
mod splitmix;
use realistic::claude_conversation;

fn bench_realistic(c: &mut Criterion) {
    let e = engine();
    let mut g = c.benchmark_group("realistic");
    let code = realistic::python_code(MB, 0);
    g.throughput(Throughput::Bytes(code.len() as u64));
    g.bench_function("python_stdlib_1MB", |b| {
        b.iter(|| black_box(mask_text_once(&e, &code)))
    });
    let aws = realistic::aws_output(MB, 0);
    g.throughput(Throughput::Bytes(aws.len() as u64));
    g.bench_function("aws_corpus_1MB", |b| {
        b.iter(|| black_box(mask_text_once(&e, &aws)))
    });
    let conversation = claude_conversation(MB, 7);
    g.throughput(Throughput::Bytes(conversation.len() as u64));
    g.bench_function("claude_conversation_1MB", |b| {
        b.iter(|| black_box(mask_json_once(&e, &conversation)))
    });
    // Resent, as Claude Code re-sends the conversation every turn: the
    // memo serves every long text after the first iteration.
    let memo = engine_with_memo();
    g.bench_function("claude_conversation_1MB_resent", |b| {
        b.iter(|| black_box(mask_json_once(&memo, &conversation)))
    });
    g.finish();
}

/// A YAML list of 20,000 quoted 12-digit numbers under a key that names
/// no account: every item is an account candidate whose list key is read
/// back line by line (the `lists` module). It once cost 1.5 s for these
/// 380 KB (each line's search for a `\n` escape ran 4 KiB back).
fn yaml_number_list() -> String {
    let mut r = Rng(0xdead_beef_cafe_f00d);
    let mut s = String::from("orders:\n");
    for _ in 0..20_000 {
        s.push_str(&format!(
            "  - '{}'\n",
            100_000_000_000 + r.next() % 900_000_000_000
        ));
    }
    s
}

fn bench_adversarial(c: &mut Criterion) {
    let e = engine();
    let mut g = c.benchmark_group("adversarial");
    let yaml = yaml_number_list();
    g.throughput(Throughput::Bytes(yaml.len() as u64));
    g.bench_function("yaml_list_of_12_digit_numbers", |b| {
        b.iter(|| black_box(mask_text_once(&e, &yaml)))
    });
    // Every `=` a secret-value key whose unquoted value would run to the
    // end of the text: took 11 s for 1 MB before unquoted values were
    // capped (70 ms after).
    let chain = "CLIENT_SECRET=".repeat(MB / 14);
    g.throughput(Throughput::Bytes(chain.len() as u64));
    g.bench_function("unquoted_secret_value_keys", |b| {
        b.iter(|| black_box(mask_text_once(&e, &chain)))
    });
    // Every dash an EKS token's start, in one long token-shaped run: took
    // 614 ms for 1 MB while each start measured the run again (5 ms after).
    let eks = "k8s-aws-v1.".repeat(MB / 11);
    g.throughput(Throughput::Bytes(eks.len() as u64));
    g.bench_function("eks_token_starts", |b| {
        b.iter(|| black_box(mask_text_once(&e, &eks)))
    });
    g.finish();
}

fn bench_masking(c: &mut Criterion) {
    let e = engine();
    let mut g = c.benchmark_group("synthetic");
    let clean = clean_text(MB);
    g.throughput(Throughput::Bytes(clean.len() as u64));
    g.bench_function("repeated_clean_text_1MB", |b| {
        b.iter(|| black_box(mask_text_once(&e, &clean)))
    });
    let dense = dense_aws(MB);
    g.throughput(Throughput::Bytes(dense.len() as u64));
    g.bench_function("generated_dense_aws_1MB", |b| {
        b.iter(|| black_box(mask_text_once(&e, &dense)))
    });
    let request = claude_request(MB);
    g.throughput(Throughput::Bytes(request.len() as u64));
    g.bench_function("generated_claude_json_1MB", |b| {
        b.iter(|| black_box(mask_json_once(&e, &request)))
    });
    let memo = engine_with_memo();
    g.bench_function("generated_claude_json_1MB_resent", |b| {
        b.iter(|| black_box(mask_json_once(&memo, &request)))
    });
    g.finish();
}

fn bench_json_walk(c: &mut Criterion) {
    let request = claude_request(MB);
    let mut g = c.benchmark_group("json");
    g.throughput(Throughput::Bytes(request.len() as u64));
    g.bench_function("walk_only_1MB", |b| {
        b.iter(|| {
            let mut n = 0usize;
            aws_masker::json::rewrite_strings(
                black_box(&request),
                aws_masker::json::WalkOptions::default(),
                |_, s| {
                    n += s.len();
                    None
                },
            )
            .unwrap();
            black_box(n)
        })
    });
    g.finish();
}

fn bench_sse_restore(c: &mut Criterion) {
    let e = engine();
    let (stream, tokens) = sse_stream(&e, MB);
    let mut g = c.benchmark_group("restore");
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("sse_16KiB_chunks", |b| {
        b.iter(|| {
            let mut r = SseRestorer::new(tokens.clone(), false);
            let mut out = Vec::with_capacity(stream.len() + stream.len() / 4);
            for chunk in stream.chunks(16 * 1024) {
                r.push(chunk, &mut out);
            }
            r.finish(&mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_realistic,
    bench_adversarial,
    bench_masking,
    bench_json_walk,
    bench_sse_restore
);
criterion_main!(benches);
