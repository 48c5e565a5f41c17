-- wrk script for the HTTP scenarios. Every write carries a batch of
-- pipelined GET requests; the batch size is the first script argument
-- (after "--"), default 1, which is plain keep-alive without pipelining:
--
--   wrk -t1 -c100 -d5s -s http.lua http://127.0.0.1:9000/ -- 16
--
-- When the run ends it prints one JSON line (prefixed "result ") that the
-- runner reads: responses, seconds, bytes, latency quantiles in
-- microseconds (per batch when pipelining) and wrk's error counts.

local batch

init = function(args)
  local depth = tonumber(args[1]) or 1
  if depth < 1 then
    depth = 1
  end
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format("GET", wrk.path)
  end
  -- Built once per thread: request() runs for every batch and must be cheap.
  batch = table.concat(requests)
end

request = function()
  return batch
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'result {"responses":%d,"seconds":%.6f,"bytes":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration / 1e6, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
