-- wrk: GET /floor/<customer id> on benchmarks/floor_app.py (one Redis GET each), with the
-- same customer picks as decisions.lua; same arguments (see common.lua).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

function request()
  return wrk.format("GET", "/floor/" .. pick_customer())
end
