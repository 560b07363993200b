//! `make bench-gateway`: Envoy with the filter versus Envoy without it
//! (passthrough), side by side in one run, against a local upstream that
//! reads every request body whole and answers a fixed message (JSON or a
//! streamed SSE answer). Claude-like JSON bodies of 100 KB and 1 MB (code
//! and prose, an AWS id every ~2 KB), 1 and 8 concurrent clients. The
//! filter runs twice: with its defaults ("resent": the same body every
//! time, as Claude Code re-sends the conversation on every turn, which the
//! filter's detection memo serves) and with `memo_texts: 0` ("new": every
//! text is scanned, the cost of text the gateway never saw). Varying the
//! body per request instead would load the client (wrk's Lua would build a
//! new 1 MB string per request) and so distort the passthrough baseline.
//!
//! The load comes from wrk (Debian package `wrk`, which `make wrk` installs)
//! running `tests/gateway/wrk_bench.lua`: keep-alive connections, one per
//! client. wrk is `AWS_MASKER_WRK` (set by `make bench-gateway`), else `wrk`
//! on PATH; missing fails the benchmark.
//!
//! Ignored in `make test`; run with `make bench-gateway`. `BENCH_SECONDS`
//! sets the measuring time per gateway and cell (default 3), taken as
//! 1 s rounds in turn with the other gateways, after a 1 s warm-up.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

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

// `claude_like_body`, shared with the V8 benchmark (`benches/v8`).
include!("claude_like_body.rs");

/// The wrk binary: `AWS_MASKER_WRK`, else `wrk` on PATH. Missing fails
/// the benchmark (never skips).
fn wrk_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("AWS_MASKER_WRK").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "wrk not found at {} (AWS_MASKER_WRK): run `make bench-gateway`, which installs wrk",
            path.display()
        );
        return path;
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("wrk"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("wrk not found on PATH: run `make bench-gateway`, which installs wrk (or set AWS_MASKER_WRK)")
        })
}

/// One cell's measurements.
struct Measure {
    rps: f64,
    p50: Duration,
    p99: Duration,
    /// Envoy's CPU time per request (all its threads).
    cpu: Duration,
    /// Failed requests: connect, read, write and timeout errors, non-2xx
    /// statuses and empty bodies.
    errors: u64,
    /// wrk's result line, for the failure message.
    line: String,
}

/// Runs wrk once against `addr` for `seconds` whole seconds and parses the
/// line `wrk_bench.lua` prints when done.
fn run_wrk(
    wrk: &Path,
    envoy: &Envoy,
    body_file: &Path,
    clients: usize,
    flags: &[&str],
    seconds: u64,
) -> Measure {
    let script = harness::root().join("tests/gateway/wrk_bench.lua");
    let mut cmd = Command::new(wrk);
    cmd.arg("-t")
        .arg(clients.min(2).to_string())
        .arg("-c")
        .arg(clients.to_string())
        .arg("-d")
        .arg(format!("{seconds}s"))
        .args(["--timeout", "10s", "-s"])
        .arg(&script)
        .arg(format!("http://{}", envoy.listen))
        .arg("--")
        .arg(body_file)
        .args(flags);
    let cpu_before = envoy.cpu_time();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", wrk.display()));
    let cpu = envoy.cpu_time().saturating_sub(cpu_before);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "wrk failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("{\"wrk_bench\""))
        .unwrap_or_else(|| panic!("no result line from wrk_bench.lua:\n{stdout}\n{stderr}"));
    let v: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("bad result line from wrk_bench.lua ({e}): {line}"));
    let num = |ptr: &str| {
        v.pointer(ptr)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or_else(|| panic!("no {ptr} in wrk's result line: {line}"))
    };
    let errors = [
        "connect",
        "read",
        "write",
        "status",
        "timeout",
        "empty_body",
    ]
    .iter()
    .map(|k| num(&format!("/errors/{k}")))
    .sum();
    let duration = Duration::from_micros(num("/duration_us"));
    let requests = num("/requests");
    Measure {
        rps: requests as f64 / duration.as_secs_f64(),
        cpu: cpu / u32::try_from(requests.max(1)).unwrap_or(u32::MAX),
        p50: Duration::from_micros(num("/latency_us/p50")),
        p99: Duration::from_micros(num("/latency_us/p99")),
        errors,
        line: line.to_string(),
    }
}

/// One cell on several gateways: a 1 s warm-up each, then `rounds` runs
/// of 1 s taking turns, so that the machine's drift (2 small cores shared
/// with neighbours) falls on every gateway alike. Each gateway's figures
/// are the medians of its rounds, and its ratio to the first gateway the
/// median of its rounds' ratios to the first gateway's run of the same
/// round: passthrough's req/s moved by up to a third from one benchmark
/// run to the next, and a ratio of runs a second apart cancels most of
/// such drift.
fn measure_interleaved(
    wrk: &Path,
    envoys: &[&Envoy],
    body_file: &Path,
    clients: usize,
    flags: &[&str],
    rounds: u64,
) -> Vec<(Measure, f64)> {
    for envoy in envoys {
        let _warmup = run_wrk(wrk, envoy, body_file, clients, flags, 1);
    }
    let mut runs: Vec<Vec<Measure>> = envoys.iter().map(|_| Vec::new()).collect();
    let mut ratios: Vec<Vec<f64>> = envoys.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        let mut base = None;
        for ((envoy, runs), ratios) in envoys.iter().zip(&mut runs).zip(&mut ratios) {
            let m = run_wrk(wrk, envoy, body_file, clients, flags, 1);
            let base_rps = *base.get_or_insert(m.rps);
            ratios.push(m.rps / base_rps);
            runs.push(m);
        }
    }
    runs.into_iter()
        .map(median)
        .zip(ratios.into_iter().map(median_of))
        .collect()
}

/// The median of `v` (0 when empty).
fn median_of(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// The median of each figure over `runs` (errors: the sum).
fn median(runs: Vec<Measure>) -> Measure {
    let mid = median_of;
    let secs = |f: fn(&Measure) -> Duration| {
        Duration::from_secs_f64(mid(runs.iter().map(|m| f(m).as_secs_f64()).collect()))
    };
    Measure {
        rps: mid(runs.iter().map(|m| m.rps).collect()),
        p50: secs(|m| m.p50),
        p99: secs(|m| m.p99),
        cpu: secs(|m| m.cpu),
        errors: runs.iter().map(|m| m.errors).sum(),
        line: runs
            .iter()
            .map(|m| m.line.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[test]
#[ignore = "benchmark: run with `make bench-gateway`"]
fn gateway_benchmark() {
    let seconds: u64 = match std::env::var("BENCH_SECONDS") {
        Ok(s) => s
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| panic!("BENCH_SECONDS={s}: give whole seconds (wrk's -d)")),
        Err(_) => 3,
    };
    let wrk = wrk_bin();
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bench-gateway-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("create bench scratch dir");
    let upstream = format!("http://{}", start_upstream());
    let start = |label: &str, filter: bool, config: &str| -> Envoy {
        harness::start(&EnvoySpec {
            label,
            config,
            upstream: upstream.clone(),
            filter,
            concurrency: 2,
        })
        .unwrap_or_else(|log| panic!("Envoy did not start: {log}"))
    };
    let passthrough = start("bench-passthrough", false, "{}");
    let resent = start(
        "bench-filter",
        true,
        r#"{"secret": "bench-secret-0123456789abcdef"}"#,
    );
    let new_text = start(
        "bench-filter-no-memo",
        true,
        r#"{"secret": "bench-secret-0123456789abcdef", "memo_texts": 0}"#,
    );

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("\nGateway benchmark: Envoy {} workers, {cores} cores, {seconds} rounds of 1 s per gateway and cell taken in turn after 1 s of warm-up (medians), wrk with keep-alive connections (one per client).\n", 2);
    println!("| body | clients | answer | text | passthrough req/s | filter req/s | ratio | passthrough p50 / p99 ms | filter p50 / p99 ms | added p50 ms | filter MB/s | Envoy CPU ms/req passthrough / filter |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut verdicts = Vec::new();
    for (size_label, size) in [("100 KB", 100_000usize), ("1 MB", 1_000_000)] {
        let body = claude_like_body(size);
        let mb = body.len() as f64 / 1e6;
        for clients in [1usize, 8] {
            for stream in [false, true] {
                let mut req_body: serde_json::Value = serde_json::from_slice(&body).expect("body");
                req_body["stream"] = serde_json::Value::Bool(stream);
                let answer = if stream { "stream" } else { "json" };
                let body_file = scratch.join(format!("body-{size}-{answer}.json"));
                std::fs::write(&body_file, serde_json::to_vec(&req_body).expect("body"))
                    .expect("write body file");
                let flags: &[&str] = if stream { &["stream"] } else { &[] };
                let gateways = [
                    ("passthrough", &passthrough),
                    ("resent", &resent),
                    ("new", &new_text),
                ];
                let envoys: Vec<&Envoy> = gateways.iter().map(|(_, e)| *e).collect();
                let measured =
                    measure_interleaved(&wrk, &envoys, &body_file, clients, flags, seconds);
                for ((label, _), (m, _)) in gateways.iter().zip(&measured) {
                    assert_eq!(
                        m.errors, 0,
                        "requests failed ({size_label}, {clients} clients, {answer}, {label}):\n{}",
                        m.line
                    );
                }
                let base = &measured[0].0;
                for ((text, _), (with, ratio)) in gateways.iter().zip(&measured).skip(1) {
                    let ratio = *ratio;
                    let added = with.p50.saturating_sub(base.p50);
                    println!(
                        "| {size_label} | {clients} | {answer} | {text} | {:.0} | {:.0} | {:.2} | {} / {} | {} / {} | {} | {:.0} | {} / {} |",
                        base.rps, with.rps, ratio, ms(base.p50), ms(base.p99), ms(with.p50), ms(with.p99), ms(added), with.rps * mb, ms(base.cpu), ms(with.cpu)
                    );
                    let cell = format!("{size_label}, {text}, {clients} client(s), {answer}");
                    if size == 1_000_000 && clients == 1 {
                        let met = added <= Duration::from_millis(3);
                        verdicts.push(format!(
                            "{cell}: filter adds {} ms to the median (target <= 3 ms): {}",
                            ms(added),
                            if met { "met" } else { "MISSED" }
                        ));
                    }
                    if clients == 8 {
                        let met = ratio >= 1.0 / 3.0;
                        verdicts.push(format!(
                            "{cell}: filter keeps {:.0}% of passthrough req/s (target >= 33%): {}",
                            ratio * 100.0,
                            if met { "met" } else { "MISSED" }
                        ));
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!();
    for v in verdicts {
        println!("{v}");
    }
}
