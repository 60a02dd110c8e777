-- wrk: a mixed load of decisions, events and feedback (bench_soak.py).
--   wrk -t2 -c16 -d60s --latency -s benchmarks/wrk/mixed.lua http://127.0.0.1:8000 \
--       -- IDS_FILE TOTAL SEED ITEMS_FILE EVENT_EPOCH DELAY_MS API_KEY RUN_TAG
-- Per request: 60 % POST /v1/decisions, 30 % POST /v1/events (one view, add_to_cart or
-- purchase of a real item, a unique event_id), 10 % POST /v1/feedback (an impression
-- on an offer of a decision this thread was served; a decision when none is known yet).
-- DELAY_MS: each connection waits this long before its next request (the pace).
-- Counts per kind and status come out in one WRKMIXED line after the WRKJSON line.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local channels = { "web", "app", "email", "store" }
local kinds = { "view", "add_to_cart", "purchase" }
local items, n_items, epoch, delay_ms, tag = {}, 0, 0, 0, "x"
local served = {}  -- ring of {decision_id, offer_id, channel}
local n_served, sent = 0, 0
local headers = { ["Content-Type"] = "application/json" }
-- per thread: ok/bad by kind ("d", "e", "f"); events accepted by the store
ok = { d = 0, e = 0, f = 0 }
bad = { d = 0, e = 0, f = 0 }
events_accepted, feedback_accepted = 0, 0

local threads = {}
local base_setup = setup
function setup(thread)
  base_setup(thread)
  table.insert(threads, thread)
end

local base_init = init
function init(args)
  base_init({ args[1], args[2], "0", args[3] })
  for line in io.lines(args[4]) do
    if #line > 0 then
      n_items = n_items + 1
      items[n_items] = line
    end
  end
  epoch = tonumber(args[5])
  delay_ms = tonumber(args[6])
  if args[7] and #args[7] > 0 then
    headers["Authorization"] = "Bearer " .. args[7]
  end
  tag = (args[8] or "x") .. "-" .. (thread_no or 0)
end

function delay()
  return delay_ms
end

local function decision()
  local body = string.format('{"customer_id": "%s", "channel": "%s"}',
    pick_customer(), channels[math.random(1, #channels)])
  return wrk.format("POST", "/v1/decisions", headers, body)
end

function request()
  sent = sent + 1
  local r = math.random()
  if r < 0.3 then
    local body = string.format(
      '{"events": [{"event_id": "soak-%s-%d", "customer_id": "%s", "channel": "%s", '
        .. '"event_type": "%s", "item_id": "%s", "timestamp": %d}]}',
      tag, sent, pick_customer(), channels[math.random(1, #channels)],
      kinds[math.random(1, #kinds)], items[math.random(1, n_items)], epoch)
    return wrk.format("POST", "/v1/events", headers, body)
  end
  if r < 0.4 and n_served > 0 then
    local s = served[math.random(1, n_served)]
    local body = string.format(
      '{"decision_id": "%s", "offer_id": "%s", "outcome": "impression", "channel": "%s"}',
      s[1], s[2], s[3])
    return wrk.format("POST", "/v1/feedback", headers, body)
  end
  return decision()
end

function response(status, hdrs, body)
  local kind = "d"
  if body:find('"duplicates"', 1, true) then
    kind = "e"
    events_accepted = events_accepted + tonumber(body:match('"accepted":%s*(%d+)') or "0")
  elseif body:find('"duplicate"', 1, true) then
    kind = "f"
    if body:find('"accepted":%s*true') then
      feedback_accepted = feedback_accepted + 1
    end
  end
  if status >= 200 and status < 300 then
    ok[kind] = ok[kind] + 1
  else
    bad[kind] = bad[kind] + 1
    return
  end
  if kind == "d" then
    local id = body:match('"decision_id":%s*"(%x+)"')
    local offer = body:match('"offer_id":%s*"([^"]+)"')
    local channel = body:match('"channel":%s*"([^"]+)"')
    if id and offer and channel then
      if n_served < 200 then
        n_served = n_served + 1
        served[n_served] = { id, offer, channel }
      else
        served[math.random(1, n_served)] = { id, offer, channel }
      end
    end
  end
end

local base_done = done
function done(summary, latency, requests)
  base_done(summary, latency, requests)
  local t = { ok_d = 0, ok_e = 0, ok_f = 0, bad_d = 0, bad_e = 0, bad_f = 0, ev = 0, fb = 0 }
  for _, thread in ipairs(threads) do
    local o, b = thread:get("ok"), thread:get("bad")
    for _, k in ipairs({ "d", "e", "f" }) do
      t["ok_" .. k] = t["ok_" .. k] + o[k]
      t["bad_" .. k] = t["bad_" .. k] + b[k]
    end
    t.ev = t.ev + thread:get("events_accepted")
    t.fb = t.fb + thread:get("feedback_accepted")
  end
  io.write(string.format(
    'WRKMIXED {"decisions": %d, "events": %d, "feedback": %d, "bad_decisions": %d, '
      .. '"bad_events": %d, "bad_feedback": %d, "events_accepted": %d, '
      .. '"feedback_accepted": %d}\n',
    t.ok_d, t.ok_e, t.ok_f, t.bad_d, t.bad_e, t.bad_f, t.ev, t.fb))
end
