//! `make bench-gateway`: Envoy with the filter versus Envoy without it
//! (passthrough), side by side in one run, against a local upstream that
//! reads every request body whole and answers a fixed message (JSON or a
//! streamed SSE answer). Claude-like JSON bodies of 100 KB and 1 MB (code
//! and prose, an AWS id every ~2 KB), 1 and 8 concurrent clients.
//!
//! Ignored in `make test`; run with `make bench-gateway`. `BENCH_SECONDS`
//! sets the measuring time per cell (default 3).

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client;
use crate::harness::{self, Envoy, EnvoySpec};
use crate::mock::read_request;

/// The fixed JSON answer (with two token-shaped strings the filter does not
/// know: they pass through, as in a real answer quoting other text).
fn json_answer() -> Vec<u8> {
    let text =
        "The security group AWS_EC2_0badc0de blocks port 443 from the load balancer. ".repeat(12);
    serde_json::to_vec(&serde_json::json!({
        "id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": text},
                    {"type": "tool_use", "id": "toolu_b", "name": "Bash", "input": {"command": "aws ec2 describe-security-groups --group-ids AWS_EC2_0badc0de"}}],
        "stop_reason": "tool_use", "stop_sequence": null, "usage": {"input_tokens": 1000, "output_tokens": 300}
    }))
    .expect("answer")
}

/// The fixed streamed answer: 40 text deltas, written as 8 chunks.
fn sse_answer() -> Vec<Vec<u8>> {
    let mut events = vec![
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":1000,\"output_tokens\":1}}}\n\n".to_string(),
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n".to_string(),
    ];
    for i in 0..40 {
        events.push(format!("event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"step {i}: check AWS_EC2_0badc0de and its rules. \"}}}}\n\n"));
    }
    events.push(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
            .to_string(),
    );
    events.push("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":300}}\n\n".to_string());
    events.push("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_string());
    events
        .chunks(events.len().div_ceil(8))
        .map(|c| c.concat().into_bytes())
        .collect()
}

/// The benchmark upstream: reads each body whole, answers at once.
fn start_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind bench upstream");
    let addr = listener.local_addr().expect("address");
    let json = Arc::new(json_answer());
    let sse = Arc::new(sse_answer());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (json, sse) = (Arc::clone(&json), Arc::clone(&sse));
            std::thread::spawn(move || serve(conn, &json, &sse));
        }
    });
    addr
}

fn serve(conn: TcpStream, json: &[u8], sse: &[Vec<u8>]) {
    let _ = conn.set_nodelay(true);
    let Ok(mut w) = conn.try_clone() else { return };
    let mut reader = BufReader::new(conn);
    while let Ok(Some(req)) = read_request(&mut reader) {
        assert!(!req.body.is_empty());
        let result = if req.header("x-bench-stream").is_some() {
            (|| -> std::io::Result<()> {
                w.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n")?;
                for chunk in sse {
                    write!(w, "{:x}\r\n", chunk.len())?;
                    w.write_all(chunk)?;
                    w.write_all(b"\r\n")?;
                }
                w.write_all(b"0\r\n\r\n")
            })()
        } else {
            write!(
                w,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                json.len()
            )
            .and_then(|()| w.write_all(json))
        };
        if result.is_err() {
            return;
        }
    }
}

/// A Claude-like request body of about `size` bytes: code and prose with an
/// AWS identifier every ~2 KB (64 distinct ones, several families).
pub fn claude_like_body(size: usize) -> Vec<u8> {
    let ids: Vec<String> = (0..64u64)
        .map(|i| match i % 4 {
            0 => format!("i-{:017x}", 0x0a00_0000_0000_0000 + i),
            1 => format!("10.{}.{}.{}", i, i * 3 % 256, 17),
            2 => format!("arn:aws:iam::{:012}:role/deploy-{i}", 123_456_789_000 + i),
            _ => format!("vpc-{:017x}", 0x0b00_0000_0000_0000 + i),
        })
        .collect();
    let code = "pub fn reconcile(state: &mut State, event: &Event) -> Result<Action, Error> {\n    let desired = state.desired_capacity(event.group())?;\n    if desired > state.running() {\n        return Ok(Action::ScaleOut(desired - state.running()));\n    }\n    // Nothing to do: the group already runs what it should.\n    Ok(Action::None)\n}\n";
    let prose = "The deployment pipeline builds the image, pushes it to the registry and rolls the service one task at a time; health checks gate every step, and a failed check rolls back to the previous task definition. ";
    let mut text = String::with_capacity(size + 4096);
    let mut i = 0;
    while text.len() < size.saturating_sub(600) {
        text.push_str(code);
        text.push_str(code);
        text.push_str(prose);
        text.push_str(prose);
        text.push_str(&format!(
            "The failing call came from {} according to CloudTrail.\n",
            ids[i % ids.len()]
        ));
        i += 1;
    }
    serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5-20250929", "max_tokens": 8192, "stream": false,
        "system": [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."}],
        "messages": [
            {"role": "user", "content": "Why does the deploy fail?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/src/reconcile.rs"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": text}]}
        ]
    }))
    .expect("body")
}

/// One cell's measurements.
struct Measure {
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

fn measure(
    addr: SocketAddr,
    body: &Arc<Vec<u8>>,
    clients: usize,
    stream: bool,
    seconds: f64,
) -> Measure {
    let run = |secs: f64| -> (Vec<Duration>, usize, Duration) {
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let (stop, body) = (Arc::clone(&stop), Arc::clone(body));
                std::thread::spawn(move || {
                    let mut lat = Vec::new();
                    let mut errors = 0;
                    let mut headers = vec![
                        ("content-type", "application/json"),
                        ("anthropic-version", "2023-06-01"),
                    ];
                    if stream {
                        headers.push(("x-bench-stream", "1"));
                    }
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        match client::request(addr, "POST", "/v1/messages", &headers, &body) {
                            Ok(r) if r.status == 200 && !r.body.is_empty() => lat.push(t.elapsed()),
                            _ => errors += 1,
                        }
                    }
                    (lat, errors)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        let mut errors = 0;
        for w in workers {
            let (lat, e) = w.join().expect("client thread");
            all.extend(lat);
            errors += e;
        }
        (all, errors, start.elapsed())
    };
    let _warmup = run(0.5);
    let (mut lat, errors, elapsed) = run(seconds);
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Measure {
        rps: lat.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        errors,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[test]
#[ignore = "benchmark: run with `make bench-gateway`"]
fn gateway_benchmark() {
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let upstream = format!("http://{}", start_upstream());
    let start = |label: &str, filter: bool| -> Envoy {
        harness::start(&EnvoySpec {
            label,
            config: r#"{"secret": "bench-secret-0123456789abcdef"}"#,
            upstream: upstream.clone(),
            filter,
            concurrency: 2,
        })
        .unwrap_or_else(|log| panic!("Envoy did not start: {log}"))
    };
    let passthrough = start("bench-passthrough", false);
    let filtered = start("bench-filter", true);

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("\nGateway benchmark: Envoy {} workers, {cores} cores, {seconds} s per cell, fresh connection per request.\n", 2);
    println!("| body | clients | answer | passthrough req/s | filter req/s | ratio | passthrough p50 / p99 ms | filter p50 / p99 ms | added p50 ms | filter MB/s |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut verdicts = Vec::new();
    for (size_label, size) in [("100 KB", 100_000usize), ("1 MB", 1_000_000)] {
        let body = claude_like_body(size);
        let mb = body.len() as f64 / 1e6;
        for clients in [1usize, 8] {
            for stream in [false, true] {
                let mut req_body: serde_json::Value = serde_json::from_slice(&body).expect("body");
                req_body["stream"] = serde_json::Value::Bool(stream);
                let req_body = Arc::new(serde_json::to_vec(&req_body).expect("body"));
                let base = measure(passthrough.listen, &req_body, clients, stream, seconds);
                let with = measure(filtered.listen, &req_body, clients, stream, seconds);
                assert_eq!(base.errors + with.errors, 0, "requests failed");
                let ratio = with.rps / base.rps;
                let added = with.p50.saturating_sub(base.p50);
                println!(
                    "| {size_label} | {clients} | {} | {:.0} | {:.0} | {:.2} | {} / {} | {} / {} | {} | {:.0} |",
                    if stream { "stream" } else { "json" },
                    base.rps, with.rps, ratio, ms(base.p50), ms(base.p99), ms(with.p50), ms(with.p99), ms(added), with.rps * mb
                );
                if size == 1_000_000 && clients == 1 {
                    verdicts.push(format!(
                        "1 MB, 1 client, {}: filter adds {} ms to the median (target <= 3 ms): {}",
                        if stream { "stream" } else { "json" },
                        ms(added),
                        if added <= Duration::from_millis(3) {
                            "met"
                        } else {
                            "MISSED"
                        }
                    ));
                }
                if clients == 8 {
                    verdicts.push(format!(
                        "{size_label}, 8 clients, {}: filter keeps {:.0}% of passthrough req/s (target >= 33%): {}",
                        if stream { "stream" } else { "json" },
                        ratio * 100.0,
                        if ratio >= 1.0 / 3.0 { "met" } else { "MISSED" }
                    ));
                }
            }
        }
    }
    println!();
    for v in verdicts {
        println!("{v}");
    }
}
