#!/usr/bin/env bash
# `make bench-v8`: instructions per masked 1 MB request in V8, the engine
# of Envoy's Wasm runtime, as a number that does not move with the
# machine's load (wall-clock figures on these small shared machines move by
# tens of percent between runs).
#
# The engine is built for wasm32-wasip1 like the filter (benches/v8), run
# in Node's V8 with TurboFan only (--no-liftoff) on one thread
# (--single-threaded --predictable), under callgrind; the count of 12
# requests minus that of 2 leaves out start-up and compilation. Two rows:
# `new` (memo off: every text scanned) and `resent` (memo on, the same body
# again). Needs node (18 or later; NODE names another binary) and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

node="${NODE:-node}"
for tool in "$node" valgrind; do
  command -v "$tool" >/dev/null || { echo "bench-v8: $tool is not on PATH" >&2; exit 1; }
done

target_dir=target/v8-bench
(cd benches/v8 && cargo build --release --target wasm32-wasip1 --target-dir "../../$target_dir")
wasm="$target_dir/wasm32-wasip1/release/aws_masker_v8_bench.wasm"

# Instructions of one Node run masking $1 requests with memo_texts $2.
count() {
  valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
    "$node" --no-warnings --no-liftoff --single-threaded --predictable \
    benches/v8/run.mjs "$wasm" "$1" "$2" 2>&1 |
    awk '/Collected/ { print $4 }'
}

echo "| text | V8 instructions per 1 MB request |"
echo "|---|---|"
for row in "new 0" "resent 4096"; do
  set -- $row
  few=$(count 2 "$2")
  many=$(count 12 "$2")
  [[ -n "$few" && -n "$many" ]] || { echo "bench-v8: callgrind printed no count" >&2; exit 1; }
  awk -v a="$few" -v b="$many" -v t="$1" 'BEGIN { printf "| %s | %.2fM |\n", t, (b - a) / 10 / 1e6 }'
done
