-- wrk script of `make bench-gateway` (tests/gateway/bench.rs runs it):
-- POST /v1/messages with a Claude-like JSON body read from a file, and one
-- JSON line of results at the end.
--
--   wrk -t T -c C -d Ds -s wrk_bench.lua URL -- BODY_FILE [stream]
--
-- BODY_FILE (or env WRK_BENCH_BODY) is the request body; `stream` (or env
-- WRK_BENCH_STREAM=1) adds `x-bench-stream: 1`, on which the bench upstream
-- answers a streamed SSE message instead of a JSON one.
--
-- A response counts as an error when its status is not 2xx (wrk itself only
-- counts statuses > 399) or its body is empty.

local threads = {}

-- Main environment: keep each thread to collect its counters in done().
function setup(thread)
   table.insert(threads, thread)
end

-- Each thread's environment, before its first request.
function init(args)
   local path = args[1] or os.getenv("WRK_BENCH_BODY")
   if not path or path == "" then
      error("wrk_bench.lua: no body file (script argument after `--`, or WRK_BENCH_BODY)")
   end
   local file = assert(io.open(path, "rb"))
   local body = file:read("*a")
   file:close()
   local stream = args[2] == "stream" or os.getenv("WRK_BENCH_STREAM") == "1"

   wrk.method = "POST"
   wrk.path = "/v1/messages"
   wrk.body = body
   wrk.headers["content-type"] = "application/json"
   wrk.headers["anthropic-version"] = "2023-06-01"
   if stream then
      wrk.headers["x-bench-stream"] = "1"
   end
   non_2xx = 0
   empty_body = 0
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non_2xx = non_2xx + 1
   elseif body == nil or #body == 0 then
      empty_body = empty_body + 1
   end
end

-- One machine-readable line; durations and latencies in microseconds.
function done(summary, latency, requests)
   local bad_status, bad_body = 0, 0
   for _, thread in ipairs(threads) do
      bad_status = bad_status + (thread:get("non_2xx") or 0)
      bad_body = bad_body + (thread:get("empty_body") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      '{"wrk_bench":1,"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"empty_body":%d},"latency_us":{"p50":%d,"p99":%d}}\n',
      summary.requests, summary.duration,
      e.connect, e.read, e.write, bad_status, e.timeout, bad_body,
      latency:percentile(50), latency:percentile(99)))
end
