//! `run(n)`: runs a job of `jobs.rs` `n` times in the engine built for
//! wasm32-wasip1 as the filter is; the job and the directory of its files
//! (`/bench`, a WASI preopen) come as the WASI arguments. Returns the bytes
//! written. `scripts/bench_v8.sh` runs it in Node's V8 under callgrind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod jobs;

#[no_mangle]
pub extern "C" fn run(n: u32) -> u64 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    jobs::run("/bench", &args, n as usize)
}
