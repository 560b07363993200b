#!/usr/bin/env bash
# `make bench-v8`: instructions per 1 MB request masked, and per 1 MB
# answer restored, in V8, the engine of Envoy's Wasm runtime, as numbers
# that do not move with the machine's load (wall-clock figures on these
# small shared machines move by tens of percent between runs).
# `make bench-native` (`scripts/bench_v8.sh native`): the same jobs
# natively, for the per-change counts of commit messages.
#
# The files are the gateway benchmark's realistic 1 MB bodies and an answer
# echoing ~500 tokens, written by `cargo bench --bench instructions -- write`
# (tests/support/realistic.rs). The jobs (benches/v8/src/jobs.rs) are the
# same code natively and in the .wasm, which is built for wasm32-wasip1 like
# the filter (benches/v8) and run in Node's V8 with TurboFan only
# (--no-liftoff) on one thread (--single-threaded --predictable). Each job
# is counted under callgrind at n = 1 and n = 4 runs; the difference / 3
# leaves out start-up, compilation and reading the files. `new` masks with
# the memo off (every text scanned as never seen), `resent` with it on (the
# same body again). In V8, `ms` is wall clock outside valgrind (the
# fastest of 5 pairs of 11 and 1 runs), for scale only.
# Needs node (18 or later; NODE names another binary) and valgrind.
# JOBS="mask aws new;restore-json" runs only those rows.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-v8}"
node="${NODE:-node}"
tools=(valgrind)
[[ "$mode" == v8 ]] && tools+=("$node")
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "bench-$mode: $tool is not on PATH" >&2; exit 1; }
done

target="${CARGO_TARGET_DIR:-$PWD/target}"
dir="$target/v8-bench/files"
harness=$(cargo bench --bench instructions --no-run 2>&1 |
  sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
[[ -x "$harness" ]] || { echo "bench-$mode: no harness binary" >&2; exit 1; }
"$harness" write "$dir"

if [[ "$mode" == v8 ]]; then
  (cd benches/v8 && cargo build --release --target wasm32-wasip1 --target-dir "$target/v8-bench")
  wasm="$target/v8-bench/wasm32-wasip1/release/aws_masker_v8_bench.wasm"
  runner=("$node" --no-warnings --no-liftoff --single-threaded --predictable benches/v8/run.mjs "$wasm" "$dir")
else
  runner=("$harness" "$dir")
fi

# Instructions of one run doing job "$2..." $1 times.
count() {
  local n=$1
  shift
  valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
    "${runner[@]}" "$n" "$@" 2>&1 |
    awk '/Collected/ { print $4 }'
}

# Instructions of one run of job "$@".
per_run() {
  local few many
  few=$(count 1 "$@")
  many=$(count 4 "$@")
  [[ -n "$few" && -n "$many" ]] || { echo "bench-$mode: callgrind printed no count for $*" >&2; exit 1; }
  echo $(((many - few) / 3))
}

IFS=';' read -ra jobs <<<"${JOBS:-mask code new;mask code resent;mask aws new;mask aws resent;mask conversation new;mask conversation resent;mask synthetic new;mask synthetic resent;restore-json;restore-json-stream;restore-sse small;restore-sse large}"
echo "| job | $mode instructions per run | ms per run |"
echo "|---|---|---|"
declare -A seen
for job in "${jobs[@]}"; do
  read -ra words <<<"$job"
  n=$(per_run "${words[@]}")
  seen["$job"]=$n
  ms="-"
  [[ "$mode" == v8 ]] && ms=$(TIME=1 "${runner[@]}" 10 "${words[@]}")
  awk -v n="$n" -v j="$job" -v ms="$ms" 'BEGIN { printf "| %s | %.2fM | %s |\n", j, n / 1e6, ms }'
  # The .wasm must write what the native build writes.
  if [[ "$mode" == v8 ]]; then
    want=$("$harness" "$dir" 0 "${words[@]}")
    got=$("${runner[@]}" 0 "${words[@]}")
    [[ "$got" == "$want" ]] || { echo "bench-v8: $job: the .wasm wrote other bytes than the native build" >&2; exit 1; }
  fi
done

# What one more SSE event costs: the same answer in small and in large
# deltas, over the difference in events.
small="${seen[restore-sse small]:-}"
large="${seen[restore-sse large]:-}"
if [[ -n "$small" && -n "$large" ]]; then
  es=$(grep -c '^event:' "$dir/stream-small.sse")
  el=$(grep -c '^event:' "$dir/stream-large.sse")
  awk -v s="$small" -v l="$large" -v es="$es" -v el="$el" 'BEGIN {
    printf "\nSSE: %d events (small deltas) vs %d (large): %.0f instructions per event (all in), %.0f per extra event\n",
      es, el, s / es, (s - l) / (es - el) }'
fi
