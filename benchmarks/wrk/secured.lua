-- wrk: decisions.lua with an API key (Authorization: Bearer $OMNIOFFER_BENCH_KEY), for
-- bench_serve.py --secured (a service with keys and rate limits on); same arguments.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local channels = { "web", "app", "email", "store" }
local key = os.getenv("OMNIOFFER_BENCH_KEY") or error("set OMNIOFFER_BENCH_KEY")
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }

function request()
  local body = string.format('{"customer_id": "%s", "channel": "%s"}',
    pick_customer(), channels[math.random(1, #channels)])
  return wrk.format("POST", "/v1/decisions", headers, body)
end
