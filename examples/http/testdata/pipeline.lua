-- wrk script: every write carries a batch of pipelined GET requests, as in
-- the TechEmpower "plaintext" test. The batch size is the first script
-- argument (after "--" on the wrk command line) and defaults to 16:
--
--   wrk -t1 -c50 -d2s -s pipeline.lua http://127.0.0.1:9000/ -- 16

local batch

init = function(args)
  local depth = tonumber(args[1]) or 16
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
