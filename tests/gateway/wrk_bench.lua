-- wrk script of `make bench-gateway` (tests/gateway/bench.rs runs it):
-- POST /v1/messages with JSON bodies read from files, and one JSON line of
-- results at the end.
--
--   wrk -t T -c C -d Ds -s wrk_bench.lua URL -- json|stream BODY_FILE...
--
-- With one body file every request sends it (a resent conversation); with
-- several, each connection sends them in turn (a body the gateway has not
-- just seen). Every request is formatted once, at start-up, so the load
-- tool does no work per request. `stream` adds `x-bench-stream: 1`, on
-- which the bench upstream answers a streamed SSE message instead of a
-- JSON one.
--
-- A response counts as an error when its status is not 2xx (wrk itself only
-- counts statuses > 399) or its body is empty.

local threads = {}

-- Main environment: keep each thread to collect its counters in done().
function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

-- Each thread's environment, before its first request.
function init(args)
   local stream = args[1] == "stream"
   if args[1] ~= "stream" and args[1] ~= "json" then
      error("wrk_bench.lua: the first script argument is json or stream")
   end
   local headers = {
      ["content-type"] = "application/json",
      ["anthropic-version"] = "2023-06-01",
   }
   if stream then
      headers["x-bench-stream"] = "1"
   end
   requests = {}
   for i = 2, #args do
      local file = assert(io.open(args[i], "rb"))
      local body = file:read("*a")
      file:close()
      table.insert(requests, wrk.format("POST", "/v1/messages", headers, body))
   end
   if #requests == 0 then
      error("wrk_bench.lua: no body file after `json` or `stream`")
   end
   -- Threads start at different bodies.
   next_request = (id or 0) % #requests
   non_2xx = 0
   empty_body = 0
end

function request()
   next_request = next_request % #requests + 1
   return requests[next_request]
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
