//! `make bench-gateway`: Envoy with the filter versus Envoy without it
//! (passthrough), side by side in one run, against a local upstream that
//! reads every request body whole and answers a fixed message (JSON, or a
//! streamed SSE answer for conversations).
//!
//! The bodies are realistic and about 1 MB (tests/support/realistic.rs):
//! - `code`: a tool result of real Python (the standard library);
//! - `aws`: a tool result of the labelled corpus's AWS texts (botocore's
//!   example outputs and hand-written AWS artifacts, ~4 values per KB);
//! - `conversation`: a Claude-Code-shaped request of 20 to 60 tool results
//!   of 1 to 50 KB cut from both;
//! - `synthetic`: the old body, one Rust snippet and one sentence repeated
//!   with 64 distinct ids, kept under a name that says what it is.
//!
//! Each is sent two ways: `resent`, the same body every time (Claude Code
//! re-sends the conversation on every turn; the filter's detection memo
//! serves it), and `never-seen`, 12 different bodies of the kind in turn to
//! a filter without memo (`memo_texts: 0`), so no text is served from the
//! memo and no body is learnt by the caches. Passthrough gets the same
//! bodies. The bodies are written to files ahead of time and every request
//! is formatted once by the load tool, which does no work per request.
//!
//! Reported per cell: req/s and its share of passthrough's, p50 and p99 at
//! 1 and 8 clients and what the filter adds to them, and Envoy's CPU per
//! request (all its threads, from /proc) with and without the filter. The
//! verdicts at the end are issue 14's targets.
//!
//! The load comes from wrk (Debian package `wrk`, which `make wrk` installs)
//! running `tests/gateway/wrk_bench.lua`: keep-alive connections, one per
//! client. wrk is `AWS_MASKER_WRK` (set by `make bench-gateway`), else `wrk`
//! on PATH; missing fails the benchmark.
//!
//! Ignored in `make test`; run with `make bench-gateway`. `BENCH_SECONDS`
//! sets the measuring time per gateway and cell (default 3), taken as
//! 1 s rounds in turn with the other gateway, after a 1 s warm-up.

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

/// How many different bodies a never-seen cell sends in turn.
const NEVER_SEEN_BODIES: usize = 12;

/// A body kind of the benchmark: name, answer kind, and the body of a
/// variant (0: the resent body; 1 and up: the never-seen ones).
type BodyKind = (&'static str, &'static str, fn(usize) -> Vec<u8>);

/// The body kinds of the benchmark.
fn body_kinds() -> Vec<BodyKind> {
    use crate::realistic::{aws_output, claude_conversation, python_code, tool_result_request};
    const MB: usize = 1_000_000;
    vec![
        ("code", "json", |v| tool_result_request(&python_code(MB, v))),
        ("aws", "json", |v| tool_result_request(&aws_output(MB, v))),
        ("conversation", "stream", |v| {
            claude_conversation(MB, v as u64)
        }),
        ("synthetic", "json", |_| {
            crate::claude_like::claude_like_body(MB)
        }),
    ]
}

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
    bodies: &[PathBuf],
    clients: usize,
    answer: &str,
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
        .arg(answer)
        .args(bodies);
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
    bodies: &[PathBuf],
    clients: usize,
    answer: &str,
    rounds: u64,
) -> Vec<(Measure, f64)> {
    for envoy in envoys {
        let _warmup = run_wrk(wrk, envoy, bodies, clients, answer, 1);
    }
    let mut runs: Vec<Vec<Measure>> = envoys.iter().map(|_| Vec::new()).collect();
    let mut ratios: Vec<Vec<f64>> = envoys.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        let mut base = None;
        for ((envoy, runs), ratios) in envoys.iter().zip(&mut runs).zip(&mut ratios) {
            let m = run_wrk(wrk, envoy, bodies, clients, answer, 1);
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

/// One row of the table, and the verdicts of issue 14's targets on it.
struct Row<'a> {
    kind: &'a str,
    text: &'a str,
    clients: usize,
    answer: &'a str,
    mb: f64,
    base: &'a Measure,
    with: &'a Measure,
    ratio: f64,
}

impl Row<'_> {
    fn print(&self) {
        let (base, with) = (self.base, self.with);
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.0} | {:.2} | {} / {} | {} / {} | {} / {} | {} / {} | {} | {:.0} |",
            self.kind, self.text, self.clients, self.answer, base.rps, with.rps, self.ratio,
            ms(base.p50), ms(base.p99), ms(with.p50), ms(with.p99),
            ms(with.p50.saturating_sub(base.p50)), ms(with.p99.saturating_sub(base.p99)),
            ms(base.cpu), ms(with.cpu), ms(with.cpu.saturating_sub(base.cpu)), with.rps * self.mb
        );
    }

    /// Issue 14's targets that apply to this row.
    fn verdicts(&self) -> Vec<String> {
        let mut out = Vec::new();
        let added = self.with.p50.saturating_sub(self.base.p50);
        let cpu = self.with.cpu.saturating_sub(self.base.cpu);
        let cell = format!("{}, {}, {} client(s)", self.kind, self.text, self.clients);
        let verdict = |met: bool| if met { "met" } else { "MISSED" };
        let mut check =
            |what: String, met: bool| out.push(format!("{cell}: {what}: {}", verdict(met)));
        let ms3 = Duration::from_millis(3);
        let ms1 = Duration::from_millis(1);
        match (self.kind, self.text, self.clients) {
            ("aws", "never-seen", 1) => {
                check(
                    format!("adds {} ms to p50 (target <= 3)", ms(added)),
                    added <= ms3,
                );
                check(
                    format!("adds {} ms of Envoy CPU (target <= 3)", ms(cpu)),
                    cpu <= ms3,
                );
            }
            ("code", "never-seen", 1) => check(
                format!("adds {} ms to p50 (target <= 1)", ms(added)),
                added <= ms1,
            ),
            (_, "resent", 1) if self.kind != "synthetic" => check(
                format!("adds {} ms to p50 (target <= 1)", ms(added)),
                added <= ms1,
            ),
            ("aws", "never-seen", 8) => check(
                format!(
                    "keeps {:.0}% of passthrough req/s (target >= 33%)",
                    self.ratio * 100.0
                ),
                self.ratio >= 1.0 / 3.0,
            ),
            ("code", "never-seen", 8) | ("code" | "aws" | "conversation", "resent", 8) => check(
                format!(
                    "keeps {:.0}% of passthrough req/s (target >= 50%)",
                    self.ratio * 100.0
                ),
                self.ratio >= 0.5,
            ),
            _ => {}
        }
        out
    }
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
    let never_seen = start(
        "bench-filter-no-memo",
        true,
        r#"{"secret": "bench-secret-0123456789abcdef", "memo_texts": 0}"#,
    );

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("\nGateway benchmark: Envoy {} workers, {cores} cores, {seconds} rounds of 1 s per gateway and cell taken in turn with passthrough after 1 s of warm-up (medians), wrk with keep-alive connections (one per client). Bodies of about 1 MB; never-seen: {NEVER_SEEN_BODIES} bodies in turn, filter without memo.\n", 2);
    println!("| body | text | clients | answer | passthrough req/s | filter req/s | share | passthrough p50 / p99 ms | filter p50 / p99 ms | added p50 / p99 ms | Envoy CPU ms/req passthrough / filter | added CPU ms | filter MB/s |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut verdicts = Vec::new();
    for (kind, answer, body) in body_kinds() {
        let write = |v: usize| {
            let path = scratch.join(format!("{kind}-{v}.json"));
            std::fs::write(&path, body(v)).expect("write body file");
            path
        };
        let resent_bodies = vec![write(0)];
        let never_seen_bodies: Vec<PathBuf> = if kind == "synthetic" {
            resent_bodies.clone()
        } else {
            (1..=NEVER_SEEN_BODIES).map(write).collect()
        };
        let mb = std::fs::metadata(&resent_bodies[0]).map_or(0, |m| m.len()) as f64 / 1e6;
        for (text, filter, bodies) in [
            ("resent", &resent, &resent_bodies),
            ("never-seen", &never_seen, &never_seen_bodies),
        ] {
            for clients in [1usize, 8] {
                let measured = measure_interleaved(
                    &wrk,
                    &[&passthrough, filter],
                    bodies,
                    clients,
                    answer,
                    seconds,
                );
                for (label, (m, _)) in ["passthrough", "filter"].iter().zip(&measured) {
                    assert_eq!(
                        m.errors, 0,
                        "requests failed ({kind}, {text}, {clients} clients, {label}):\n{}",
                        m.line
                    );
                }
                let row = Row {
                    kind,
                    text,
                    clients,
                    answer,
                    mb,
                    base: &measured[0].0,
                    with: &measured[1].0,
                    ratio: measured[1].1,
                };
                row.print();
                verdicts.extend(row.verdicts());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!();
    for v in verdicts {
        println!("{v}");
    }
}
