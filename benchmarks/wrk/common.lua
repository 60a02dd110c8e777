-- Shared by decisions.lua and floor.lua (loaded with dofile).
--
-- Script arguments (after `--` on the wrk command line):
--   1: file with the version's original customer ids, one a line, in clone order
--   2: total customers in the store (clones "<id>-<k>" for k >= 1, k-major order)
--   3: share of requests for unknown customers (0..1, default 0)
--   4: random seed (default 1)
-- Index i in [0, total) maps to ids[i % n], copy k = i // n, as bench_materialize
-- writes them, so every pick names a customer the store holds (unless unknown).

ids, n_ids, total, unknown_share = {}, 0, 0, 0

local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_no", thread_counter)
end

function init(args)
  local path = args[1] or error("give the ids file after --")
  for line in io.lines(path) do
    if #line > 0 then
      n_ids = n_ids + 1
      ids[n_ids] = line
    end
  end
  total = tonumber(args[2] or n_ids)
  unknown_share = tonumber(args[3] or "0")
  math.randomseed(tonumber(args[4] or "1") * 1000 + (thread_no or 0))
end

function pick_customer()
  if unknown_share > 0 and math.random() < unknown_share then
    return string.format("unknown-%d", math.random(1, 1000000000))
  end
  local i = math.random(0, total - 1)
  local k = math.floor(i / n_ids)
  local id = ids[(i % n_ids) + 1]
  if k == 0 then
    return id
  end
  return id .. "-" .. k
end

-- One machine-readable line for bench_serve.py (latencies in microseconds).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "p50": %d, "p75": %d, "p90": %d, "p99": %d, '
      .. '"p999": %d, "max": %d, "mean": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
