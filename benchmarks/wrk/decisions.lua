-- wrk: POST /v1/decisions (default k = 5) for varied customers across the store, 4 channels.
--   wrk -t2 -c32 -d30s --latency -s benchmarks/wrk/decisions.lua http://127.0.0.1:8000 \
--       -- IDS_FILE TOTAL [UNKNOWN_SHARE] [SEED]
-- (see common.lua for the arguments)
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local channels = { "web", "app", "email", "store" }
local headers = { ["Content-Type"] = "application/json" }

function request()
  local body = string.format('{"customer_id": "%s", "channel": "%s"}',
    pick_customer(), channels[math.random(1, #channels)])
  return wrk.format("POST", "/v1/decisions", headers, body)
end
