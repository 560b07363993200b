//! The native harness of `make bench-native` and the writer of the files
//! `make bench-v8` reads (scripts/bench_v8.sh):
//!
//! - `instructions write DIR`: writes the 1 MB request bodies of the
//!   gateway benchmark (`code`, `aws`, `conversation`, `synthetic`:
//!   tests/support/realistic.rs, variant 0), and an answer echoing about
//!   500 tokens: its original text (`answer.txt`: AWS output, then code),
//!   the masked answer as JSON (`answer.json`) and streamed in small and
//!   large deltas (`stream-small.sse`, `stream-large.sse`);
//! - `instructions DIR N JOB ARGS...`: runs a job of benches/v8/src/jobs.rs `N`
//!   times, for callgrind to count (`N = 0`: once, printing the digest of
//!   its output).
//!
//! Not a criterion bench: it measures nothing by itself.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[path = "../tests/support/claude_like.rs"]
mod claude_like;
#[path = "../tests/support/corpus.rs"]
mod corpus;
#[path = "v8/src/jobs.rs"]
mod jobs;
#[path = "../tests/support/realistic.rs"]
mod realistic;
#[path = "../tests/support/splitmix.rs"]
mod splitmix;

use aws_masker::mask::MaskReport;

const MB: usize = 1_000_000;
/// How many token occurrences the answer holds.
const ANSWER_TOKENS: u64 = 500;

/// AWS output holding about [`ANSWER_TOKENS`] values, then code up to
/// 1 MB: an answer quoting back part of what the request held.
fn answer_text() -> String {
    let e = jobs::engine(0);
    let values = |aws: usize| {
        let mut report = MaskReport::default();
        let text = realistic::aws_output(aws, 0);
        let _ = e.mask_text_report(&text, &mut e.new_token_map(), &mut report);
        report.total()
    };
    // Values grow about linearly with the text: two corrections land
    // within a few values of the target.
    let mut aws = 150_000;
    for _ in 0..3 {
        aws = (aws as u64 * ANSWER_TOKENS / values(aws).max(1)) as usize;
    }
    let mut text = realistic::aws_output(aws, 0);
    text.push('\n');
    text.push_str(&realistic::python_code(MB - text.len(), 0));
    text
}

fn write(dir: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let put = |name: &str, bytes: &[u8]| std::fs::write(format!("{dir}/{name}"), bytes).unwrap();
    put(
        "code.json",
        &realistic::tool_result_request(&realistic::python_code(MB, 0)),
    );
    put(
        "aws.json",
        &realistic::tool_result_request(&realistic::aws_output(MB, 0)),
    );
    put("conversation.json", &realistic::claude_conversation(MB, 0));
    put("synthetic.json", &claude_like::claude_like_body(MB));
    let text = answer_text();
    let e = jobs::engine(0);
    let masked = e.mask_text(&text, &mut e.new_token_map()).into_owned();
    put("answer.txt", text.as_bytes());
    put("answer.json", &realistic::messages_answer(&masked));
    put(
        "stream-small.sse",
        &realistic::messages_stream(&masked, 16).concat(),
    );
    put(
        "stream-large.sse",
        &realistic::messages_stream(&masked, 1024).concat(),
    );
}

fn main() {
    // `cargo bench` adds `--bench`.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.as_slice() {
        [w, dir] if w == "write" => write(dir),
        [dir, n, job @ ..] => {
            let n: usize = n.parse().expect("N");
            let out = std::hint::black_box(jobs::run(dir, job, n));
            if n == 0 {
                println!("{out}");
            }
        }
        // `cargo test --all-targets` runs bench targets with no argument:
        // nothing to measure then.
        [] => eprintln!("usage: instructions write DIR | instructions DIR N JOB ARGS..."),
        _ => {
            eprintln!("usage: instructions write DIR | instructions DIR N JOB ARGS...");
            std::process::exit(2);
        }
    }
}
