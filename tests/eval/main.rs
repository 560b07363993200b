//! `make eval`: detection quality on the labelled corpus, natively, the way
//! the filter masks a request (issue #13).
//!
//! - Positives (`tests/corpus/positives/*.jsonl`, from
//!   `scripts/corpus/`): every record is one request body with its
//!   customer values labelled by kind. A value counts as leaked when its
//!   spelling still stands in the masked body as a whole (not inside a
//!   longer run of letters and digits). Recall per kind.
//! - Round trip: `restore(mask(x)) == x` for every record (JSON bodies with
//!   `restore_json`, text with `restore_bytes`), and again through an SSE
//!   answer: a Messages API stream whose `text_delta` events carry the
//!   masked text (the decoded strings of a JSON body), cut into random
//!   deltas and random network chunks, restored by `SseRestorer`.
//! - Negatives: real code (a fixed list of the running python3's standard
//!   library, and the sources of crates pinned by Cargo.lock, from the
//!   cargo registry), prose (the Python docs topics, licences and the
//!   crates' Markdown), and the near-miss set
//!   (`tests/corpus/negatives/near_miss.jsonl`). A token in the masked
//!   output is a false-positive span; reported per MB.
//!
//! - The leak hunt (`tests/corpus/hunt/`, `hunt.rs`): 126 realistic texts
//!   written apart from the corpus's templates, each masked as text and as
//!   a tool result; the count of leaking labels and of AWS-owned values
//!   masked may not grow (`EVAL_HUNT=1` lists them).
//!
//! `EVAL_LEAKS=<class or kind> make eval` lists every leaked value of one
//! record class (`arn_placeholders`) or kind (`s3_buckets`).
//!
//! The figures are checked against `tests/eval/thresholds.json`: a ratchet
//! at the figures measured when it was last raised, next to the issue's
//! targets. Raise it when detection improves; it fails when it regresses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use aws_masker::config::Config;
use aws_masker::mask::{BodyKind, Engine, MaskReport};
use aws_masker::restore::{restore_bytes, restore_json, Escape, Restorer};
use aws_masker::stream::{ChunkRestorer, SseRestorer};
use aws_masker::token::TokenMap;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const SECRET: &[u8] = b"eval secret: 32 bytes, fixed...!";
/// Leaked values and false positives listed per kind / set.
const EXAMPLES: usize = 6;

/// Python standard library modules read as code negatives: ordinary code
/// of many kinds (parsers, network clients, data structures, CLI tools).
const PYTHON_STDLIB: &[&str] = &[
    "argparse.py",
    "ast.py",
    "base64.py",
    "calendar.py",
    "configparser.py",
    "contextlib.py",
    "csv.py",
    "dataclasses.py",
    "datetime.py",
    "difflib.py",
    "email/message.py",
    "email/utils.py",
    "enum.py",
    "ftplib.py",
    "functools.py",
    "gettext.py",
    "gzip.py",
    "hashlib.py",
    "http/client.py",
    "http/cookiejar.py",
    "http/server.py",
    "json/decoder.py",
    "json/encoder.py",
    "logging/__init__.py",
    "logging/handlers.py",
    "mimetypes.py",
    "os.py",
    "pathlib.py",
    "platform.py",
    "pprint.py",
    "random.py",
    "shlex.py",
    "shutil.py",
    "smtplib.py",
    "socket.py",
    "ssl.py",
    "statistics.py",
    "string.py",
    "subprocess.py",
    "tarfile.py",
    "tempfile.py",
    "textwrap.py",
    "threading.py",
    "tokenize.py",
    "traceback.py",
    "typing.py",
    "urllib/parse.py",
    "urllib/request.py",
    "uuid.py",
    "zipfile.py",
];
/// Prose in the Python installation.
const PYTHON_PROSE: &[&str] = &["pydoc_data/topics.py", "LICENSE.txt"];
/// Crates whose sources (code) and Markdown (prose) are negatives, at the
/// versions Cargo.lock pins.
const CRATES: &[&str] = &[
    "serde_json",
    "serde",
    "serde_core",
    "regex-lite",
    "memchr",
    "hmac",
    "sha2",
    "siphasher",
    "simdutf8",
    "itoa",
    "ryu",
];

// ---------------------------------------------------------------------------
// Corpus loading
// ---------------------------------------------------------------------------

struct Label {
    value: String,
    kind: String,
}

struct Record {
    id: String,
    json: bool,
    text: String,
    labels: Vec<Label>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_jsonl(path: &Path) -> Vec<Record> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `make corpus`)", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let labels = v["values"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| Label {
                            value: x["value"].as_str().unwrap().to_string(),
                            kind: x["kind"].as_str().unwrap().to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Record {
                id: v["id"].as_str().unwrap().to_string(),
                json: v["body"].as_str() == Some("json"),
                text: v["text"].as_str().unwrap().to_string(),
                labels,
            }
        })
        .collect()
}

fn positives() -> Vec<(String, Vec<Record>)> {
    let dir = root().join("tests/corpus/positives");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "expected the hand-written and botocore positives in {}",
        dir.display()
    );
    files
        .iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, read_jsonl(p))
        })
        .collect()
}

fn python_stdlib_dir() -> PathBuf {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sysconfig;print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("the eval reads the Python standard library: python3 must be on PATH");
    assert!(out.status.success(), "python3 failed: {out:?}");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn read_required(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "negative corpus file {} is missing or unreadable: {e}",
            path.display()
        )
    })
}

/// `name` → version of every package in Cargo.lock.
fn locked_versions() -> BTreeMap<String, String> {
    let lock = read_required(&root().join("Cargo.lock"));
    let mut out = BTreeMap::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take() {
                out.insert(n, v.trim_matches('"').to_string());
            }
        }
    }
    out
}

/// The unpacked source of `name-version` in the cargo registry.
fn crate_dir(name: &str, version: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let src = home.join("registry/src");
    let dirname = format!("{name}-{version}");
    std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("{}: {e} (run `cargo fetch`)", src.display()))
        .map(|e| e.unwrap().path().join(&dirname))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "{dirname} is not unpacked under {} (run `cargo fetch`)",
                src.display()
            )
        })
}

fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

struct Negatives {
    code: Vec<(String, String)>,
    prose: Vec<(String, String)>,
    near_miss: Vec<Record>,
}

fn negatives() -> Negatives {
    let stdlib = python_stdlib_dir();
    let mut code = Vec::new();
    let mut prose = Vec::new();
    for f in PYTHON_STDLIB {
        code.push((format!("python:{f}"), read_required(&stdlib.join(f))));
    }
    for f in PYTHON_PROSE {
        prose.push((format!("python:{f}"), read_required(&stdlib.join(f))));
    }
    let locked = locked_versions();
    for name in CRATES {
        let version = locked
            .get(*name)
            .unwrap_or_else(|| panic!("{name} is not in Cargo.lock"));
        let dir = crate_dir(name, version);
        let mut rs = Vec::new();
        walk(&dir.join("src"), "rs", &mut rs);
        assert!(!rs.is_empty(), "no Rust sources under {}", dir.display());
        for p in rs {
            let rel = p.strip_prefix(&dir).unwrap().display().to_string();
            code.push((format!("{name}-{version}:{rel}"), read_required(&p)));
        }
        let mut md: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        md.sort();
        for p in md {
            let rel = p.file_name().unwrap().to_string_lossy().into_owned();
            prose.push((format!("{name}-{version}:{rel}"), read_required(&p)));
        }
    }
    let near_miss = read_jsonl(&root().join("tests/corpus/negatives/near_miss.jsonl"));
    Negatives {
        code,
        prose,
        near_miss,
    }
}

// ---------------------------------------------------------------------------
// Masking, restoring, streaming
// ---------------------------------------------------------------------------

mod hunt;
/// Deterministic pseudo-random numbers for the SSE chunking.
#[path = "../support/splitmix.rs"]
mod splitmix;
#[path = "../support/tool_result.rs"]
mod tool_result;
use splitmix::Rng;

struct Masked {
    out: Vec<u8>,
    tokens: TokenMap,
}

fn mask(engine: &Engine, text: &str, json: bool) -> Masked {
    let mut tokens = engine.new_token_map();
    let kind = if json { BodyKind::Json } else { BodyKind::Text };
    let out = engine
        .mask_body(
            text.as_bytes(),
            kind,
            &mut tokens,
            &mut MaskReport::default(),
        )
        .unwrap_or_else(|e| panic!("mask failed: {e}"))
        .unwrap_or_else(|| text.as_bytes().to_vec());
    Masked { out, tokens }
}

fn restore(m: &Masked, json: bool) -> Vec<u8> {
    let restored = if json {
        restore_json(&m.tokens, &m.out, false).0
    } else {
        restore_bytes(&m.tokens, &m.out, Escape::Raw)
    };
    restored.unwrap_or_else(|| m.out.clone())
}

/// The decoded string literals of a JSON document, keys included, in
/// document order, one per line: what a model answering about the body
/// would write.
fn json_strings(body: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'"' {
            let start = i;
            i += 1;
            while i < body.len() && body[i] != b'"' {
                i += if body[i] == b'\\' { 2 } else { 1 };
            }
            let lit = std::str::from_utf8(&body[start..=i.min(body.len() - 1)]).unwrap();
            let s: String = serde_json::from_str(lit).unwrap();
            out.push_str(&s);
            out.push('\n');
        }
        i += 1;
    }
    out
}

/// `text` streamed back as a Messages API SSE answer, in random
/// `text_delta` pieces.
fn sse_answer(text: &str, rng: &mut Rng) -> Vec<u8> {
    let mut s = String::new();
    s.push_str("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":2048,\"output_tokens\":1}}}\n\n");
    s.push_str("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
    s.push_str("event: ping\ndata: {\"type\": \"ping\"}\n\n");
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut at = 0;
    while at < chars.len() {
        let n = rng.range(1, 24).min(chars.len() - at);
        let a = chars[at].0;
        let b = chars.get(at + n).map_or(text.len(), |c| c.0);
        let delta = serde_json::json!({
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": &text[a..b]},
        });
        let _ = write!(s, "event: content_block_delta\ndata: {delta}\n\n");
        at += n;
    }
    s.push_str(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    );
    s.push_str("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":512}}\n\n");
    s.push_str("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    s.into_bytes()
}

/// The text of the `text_delta` events of an SSE stream, concatenated.
fn sse_text(stream: &[u8]) -> String {
    let text = String::from_utf8(stream.to_vec()).expect("restored stream is UTF-8");
    let mut out = String::new();
    for event in text.split("\n\n") {
        for line in event.lines() {
            if let Some(data) = line.strip_prefix("data:") {
                let v: Value = serde_json::from_str(data.trim_start())
                    .unwrap_or_else(|e| panic!("restored SSE data is not JSON ({e}): {data}"));
                if v["delta"]["type"] == "text_delta" {
                    out.push_str(v["delta"]["text"].as_str().unwrap());
                }
            }
        }
    }
    out
}

/// Masked `text` echoed through an SSE answer cut into random chunks and
/// restored: the text the client reads.
fn sse_round_trip(masked_text: &str, tokens: &TokenMap, rng: &mut Rng) -> String {
    let stream = sse_answer(masked_text, rng);
    let mut r = SseRestorer::new(tokens.clone(), false);
    let mut out = Vec::with_capacity(stream.len() + 1024);
    let mut at = 0;
    while at < stream.len() {
        let n = rng.range(1, 700).min(stream.len() - at);
        r.push(&stream[at..at + n], &mut out);
        at += n;
    }
    r.finish(&mut out);
    assert!(!r.aborted(), "the SSE restorer gave up on the stream");
    sse_text(&out)
}

/// Whether `needle` stands in `hay` as a whole: not preceded or followed
/// by a letter or digit when its own first / last character is one.
fn contains_whole(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() || needle.len() > hay.len() {
        return false;
    }
    let alnum_first = needle[0].is_ascii_alphanumeric();
    let alnum_last = needle[needle.len() - 1].is_ascii_alphanumeric();
    let mut from = 0;
    while let Some(pos) = memfind(&hay[from..], needle) {
        let s = from + pos;
        let e = s + needle.len();
        let before_ok = !alnum_first || s == 0 || !hay[s - 1].is_ascii_alphanumeric();
        let after_ok = !alnum_last || e == hay.len() || !hay[e].is_ascii_alphanumeric();
        if before_ok && after_ok {
            return true;
        }
        from = s + 1;
    }
    false
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)
        {
            None => return None,
            Some(p) => {
                let s = i + p;
                if &hay[s..s + needle.len()] == needle {
                    return Some(s);
                }
                i = s + 1;
            }
        }
    }
    None
}

/// The class of a record id (`versions-0004` → `versions`), or the
/// source of a negative file (`python:http/server.py` → `python`).
fn class_of(id: &str) -> String {
    match id.rsplit_once('-') {
        Some((class, n)) if n.bytes().all(|b| b.is_ascii_digit()) => class.to_string(),
        _ => id.split(':').next().unwrap_or(id).to_string(),
    }
}

fn short(s: &str, n: usize) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= n {
        one_line
    } else {
        one_line.chars().take(n).collect::<String>() + "…"
    }
}

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

#[derive(Default)]
struct KindStats {
    labels: u64,
    leaked: u64,
    examples: Vec<String>,
}

#[derive(Default)]
struct RoundTrip {
    bodies: u64,
    failed: u64,
    /// Restored to the same JSON value, with escapes spelled another way.
    escapes_normalised: u64,
    sse_bodies: u64,
    sse_failed: u64,
    examples: Vec<String>,
}

#[derive(Default)]
struct NegStats {
    bytes: u64,
    spans: u64,
    examples: Vec<String>,
    /// Spans per record class (near-miss) or source (code, prose).
    by_class: BTreeMap<String, u64>,
}

impl NegStats {
    fn per_mb(&self) -> f64 {
        self.spans as f64 / (self.bytes as f64 / 1_000_000.0)
    }
}

/// Whether `text` is a JSON document (the engine masks a text body that
/// is JSON as JSON, and restoring it is JSON restoring).
fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

fn check_round_trip(
    rt: &mut RoundTrip,
    id: &str,
    text: &str,
    json: bool,
    m: &Masked,
    rng: &mut Rng,
) {
    let json = json || is_json(text);
    rt.bodies += 1;
    let restored = restore(m, json);
    if restored != text.as_bytes() {
        // An original spelled with escapes (`i\u002d…`, `\/`) comes back
        // spelled the plain way: the same JSON string, other bytes.
        let same_json = json
            && serde_json::from_slice::<Value>(&restored).ok()
                == serde_json::from_str::<Value>(text).ok();
        if same_json {
            rt.escapes_normalised += 1;
        } else {
            rt.failed += 1;
            if rt.examples.len() < EXAMPLES {
                rt.examples.push(format!("{id}: restore(mask(x)) != x"));
            }
        }
    }
    rt.sse_bodies += 1;
    let (echo, want) = if json {
        (json_strings(&m.out), json_strings(text.as_bytes()))
    } else {
        (String::from_utf8(m.out.clone()).unwrap(), text.to_string())
    };
    if sse_round_trip(&echo, &m.tokens, rng) != want {
        rt.sse_failed += 1;
        if rt.examples.len() < EXAMPLES {
            rt.examples
                .push(format!("{id}: SSE answer not restored exactly"));
        }
    }
}

fn negative(
    engine: &Engine,
    stats: &mut NegStats,
    rt: &mut RoundTrip,
    id: &str,
    text: &str,
    json: bool,
    rng: &mut Rng,
) {
    let m = mask(engine, text, json);
    stats.bytes += text.len() as u64;
    if m.tokens.is_empty() {
        rt.bodies += 1;
        return;
    }
    let masked = String::from_utf8(m.out.clone()).unwrap();
    let mut sink = String::new();
    let spans = Restorer::new(&m.tokens).restore_into(&masked, Escape::Raw, &mut sink) as u64;
    stats.spans += spans;
    *stats.by_class.entry(class_of(id)).or_default() += spans;
    // EVAL_FP=1: print every false positive (and how many spans).
    let show_all = std::env::var_os("EVAL_FP").is_some();
    if show_all {
        println!("fp {id}: {spans} spans");
    }
    for (token, original) in m.tokens.iter() {
        if show_all {
            println!("fp {id}: {} -> {token}", short(original, 70));
        }
        if stats.examples.len() < EXAMPLES * 3 {
            stats
                .examples
                .push(format!("{id}: {} -> {token}", short(original, 70)));
        }
    }
    check_round_trip(rt, id, text, json, &m, rng);
}

struct Figures {
    recall: BTreeMap<String, KindStats>,
    /// (labels, leaked) per record class.
    by_class: BTreeMap<String, (u64, u64)>,
    round_trip: RoundTrip,
    code: NegStats,
    prose: NegStats,
    near_miss: NegStats,
    positive_sizes: Vec<(String, usize, usize)>,
}

fn measure() -> Figures {
    let engine = Engine::new(Config::default(), SECRET);
    let mut rng = Rng(13);
    let mut recall: BTreeMap<String, KindStats> = BTreeMap::new();
    let mut by_class: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    // EVAL_LEAKS=<record class or kind>: print every leaked value of it.
    let show_leaks = std::env::var("EVAL_LEAKS").ok();
    let mut rt = RoundTrip::default();
    let mut positive_sizes = Vec::new();
    for (name, records) in positives() {
        positive_sizes.push((
            name,
            records.len(),
            records.iter().map(|r| r.text.len()).sum(),
        ));
        for rec in &records {
            let m = mask(&engine, &rec.text, rec.json);
            let class = by_class.entry(class_of(&rec.id)).or_default();
            for l in &rec.labels {
                let k = recall.entry(l.kind.clone()).or_default();
                k.labels += 1;
                class.0 += 1;
                if contains_whole(&m.out, l.value.as_bytes()) {
                    k.leaked += 1;
                    class.1 += 1;
                    if show_leaks
                        .as_deref()
                        .is_some_and(|c| c == class_of(&rec.id) || c == l.kind)
                    {
                        println!("leak {} {}: {}", rec.id, l.kind, short(&l.value, 200));
                    }
                    if k.examples.len() < EXAMPLES
                        && !k.examples.iter().any(|e| e.ends_with(&short(&l.value, 90)))
                    {
                        k.examples
                            .push(format!("{}: {}", rec.id, short(&l.value, 90)));
                    }
                }
            }
            check_round_trip(&mut rt, &rec.id, &rec.text, rec.json, &m, &mut rng);
        }
    }
    let neg = negatives();
    let (mut code, mut prose, mut near_miss) = (
        NegStats::default(),
        NegStats::default(),
        NegStats::default(),
    );
    for (id, text) in &neg.code {
        negative(&engine, &mut code, &mut rt, id, text, false, &mut rng);
    }
    for (id, text) in &neg.prose {
        negative(&engine, &mut prose, &mut rt, id, text, false, &mut rng);
    }
    for rec in &neg.near_miss {
        negative(
            &engine,
            &mut near_miss,
            &mut rt,
            &rec.id,
            &rec.text,
            rec.json,
            &mut rng,
        );
    }
    Figures {
        recall,
        by_class,
        round_trip: rt,
        code,
        prose,
        near_miss,
        positive_sizes,
    }
}

fn report(f: &Figures) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\n== aws-masker detection quality (tests/eval) ==");
    for (name, n, bytes) in &f.positive_sizes {
        let _ = writeln!(s, "positives {name}: {n} records, {bytes} bytes");
    }
    let _ = writeln!(
        s,
        "\n{:<22} {:>7} {:>7} {:>7}",
        "kind", "labels", "leaked", "recall"
    );
    let (mut all, mut leaked) = (0, 0);
    for (kind, k) in &f.recall {
        all += k.labels;
        leaked += k.leaked;
        let _ = writeln!(
            s,
            "{kind:<22} {:>7} {:>7} {:>7.3}",
            k.labels,
            k.leaked,
            recall(k)
        );
    }
    let _ = writeln!(
        s,
        "{:<22} {all:>7} {leaked:>7} {:>7.3}",
        "all",
        1.0 - leaked as f64 / all.max(1) as f64
    );
    let rt = &f.round_trip;
    let _ = writeln!(
        s,
        "\nround trip: {}/{} bodies exact ({} of them up to JSON escapes), SSE {}/{} exact",
        rt.bodies - rt.failed,
        rt.bodies,
        rt.escapes_normalised,
        rt.sse_bodies - rt.sse_failed,
        rt.sse_bodies
    );
    for e in &rt.examples {
        let _ = writeln!(s, "  {e}");
    }
    let code_prose = NegStats {
        bytes: f.code.bytes + f.prose.bytes,
        spans: f.code.spans + f.prose.spans,
        examples: Vec::new(),
        by_class: BTreeMap::new(),
    };
    let _ = writeln!(
        s,
        "\n{:<22} {:>10} {:>7} {:>9}",
        "negatives", "bytes", "spans", "spans/MB"
    );
    for (name, n) in [
        ("code", &f.code),
        ("prose", &f.prose),
        ("code+prose", &code_prose),
        ("near_miss", &f.near_miss),
    ] {
        let _ = writeln!(
            s,
            "{name:<22} {:>10} {:>7} {:>9.2}",
            n.bytes,
            n.spans,
            n.per_mb()
        );
    }
    let mut classes: Vec<(&String, &(u64, u64))> =
        f.by_class.iter().filter(|(_, c)| c.1 > 0).collect();
    classes.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(b.0)));
    let _ = writeln!(s, "\nleaks by record class (leaked/labels):");
    for (class, (n, leaked)) in classes {
        let _ = writeln!(s, "  {class:<28} {leaked:>5}/{n:<5}");
    }
    let _ = writeln!(s, "\nfalse-positive spans by class:");
    for (name, n) in [
        ("code", &f.code),
        ("prose", &f.prose),
        ("near_miss", &f.near_miss),
    ] {
        for (class, spans) in n.by_class.iter().filter(|(_, x)| **x > 0) {
            let _ = writeln!(s, "  {name:<10} {class:<28} {spans:>5}");
        }
    }
    let _ = writeln!(s, "\nleaked values, first {EXAMPLES} per kind:");
    for (kind, k) in &f.recall {
        for e in &k.examples {
            let _ = writeln!(s, "  {kind:<20} {e}");
        }
    }
    let _ = writeln!(s, "\nfalse positives (original -> token):");
    for (name, n) in [
        ("code", &f.code),
        ("prose", &f.prose),
        ("near_miss", &f.near_miss),
    ] {
        for e in &n.examples {
            let _ = writeln!(s, "  {name:<10} {e}");
        }
    }
    s
}

fn recall(k: &KindStats) -> f64 {
    1.0 - k.leaked as f64 / k.labels.max(1) as f64
}

#[test]
fn detection_quality() {
    let started = std::time::Instant::now();
    let f = measure();
    let table = report(&f);
    println!("{table}");
    println!("eval took {:.1?}", started.elapsed());

    let path = root().join("tests/eval/thresholds.json");
    let t: Value = serde_json::from_str(&read_required(&path)).unwrap();
    let ratchet = &t["ratchet"];
    let mut failures = Vec::new();
    // Figures are compared at the precision they are printed with, so a
    // ratchet copied from the table holds.
    let round3 = |x: f64| (x * 1000.0).round() / 1000.0;
    for (kind, k) in &f.recall {
        let min = ratchet["recall"][kind].as_f64().unwrap_or_else(|| {
            panic!(
                "{}: no ratchet.recall.{kind} (a new kind: add it)",
                path.display()
            )
        });
        if round3(recall(k)) < min {
            failures.push(format!("recall {kind}: {:.3} < {min}", recall(k)));
        }
    }
    if let Some(kinds) = ratchet["recall"].as_object() {
        for kind in kinds.keys() {
            if !f.recall.contains_key(kind) {
                failures.push(format!(
                    "recall {kind}: no label of that kind in the corpus"
                ));
            }
        }
    }
    let rt = &f.round_trip;
    if rt.failed > ratchet["round_trip_failures"].as_u64().unwrap() {
        failures.push(format!("round trip: {} bodies not exact", rt.failed));
    }
    if rt.sse_failed > ratchet["sse_round_trip_failures"].as_u64().unwrap() {
        failures.push(format!(
            "SSE round trip: {} bodies not exact",
            rt.sse_failed
        ));
    }
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    let code_prose_per_mb = (f.code.spans + f.prose.spans) as f64
        / ((f.code.bytes + f.prose.bytes) as f64 / 1_000_000.0);
    for (name, per_mb) in [
        ("code_prose", code_prose_per_mb),
        ("near_miss", f.near_miss.per_mb()),
    ] {
        let max = ratchet["fp_per_mb"][name].as_f64().unwrap();
        if round2(per_mb) > max {
            failures.push(format!("false positives {name}: {per_mb:.2}/MB > {max}"));
        }
    }
    assert!(
        failures.is_empty(),
        "detection regressed against {}:\n  {}",
        path.display(),
        failures.join("\n  ")
    );
}
