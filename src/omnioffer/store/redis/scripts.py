"""The Lua scripts of the Redis backend: every multi-key step that must be atomic.

A script runs to completion without interleaving, and its effects are persisted and
replicated as one unit, so a client that disappears mid-call leaves all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omnioffer.store.base import StoredEvent, StoreLimits
from omnioffer.store.redis import keys

# KEYS: log, then per event: seen, events, identity, anonymous events, counters,
#       first touch, anonymous first touch.
# ARGV: cap, events ttl, dedup ttl, log max length (0: unbounded),
#       then per event: customer, payload, link?, field, count?
INGEST = """
local cap, ev_ttl, dedup_ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local log_max = tonumber(ARGV[4])
local out = {}
for i = 0, (#KEYS - 1) / 7 - 1 do
  local k, a = 1 + i * 7, 4 + i * 5
  local cid, payload, list = ARGV[a + 1], ARGV[a + 2], KEYS[k + 2]
  if redis.call('SET', KEYS[k + 1], '1', 'NX', 'EX', dedup_ttl) then
    if ARGV[a + 3] == '1' then
      redis.call('SET', KEYS[k + 3], cid)
      if KEYS[k + 4] ~= list then
        local moved = redis.call('LRANGE', KEYS[k + 4], 0, -1)
        for j = 1, #moved, 1000 do
          redis.call('RPUSH', list, unpack(moved, j, math.min(j + 999, #moved)))
        end
        redis.call('DEL', KEYS[k + 4])
        local touch = redis.call('GET', KEYS[k + 7])
        if touch then
          redis.call('SET', KEYS[k + 6], touch, 'NX')
          redis.call('DEL', KEYS[k + 7])
        end
      end
    end
    redis.call('RPUSH', list, payload)
    redis.call('LTRIM', list, -cap, -1)
    redis.call('EXPIRE', list, ev_ttl)
    if log_max > 0 then
      redis.call('XADD', KEYS[1], 'MAXLEN', '~', log_max, '*', 'c', cid, 'p', payload)
    else
      redis.call('XADD', KEYS[1], '*', 'c', cid, 'p', payload)
    end
    if ARGV[a + 5] == '1' then redis.call('HINCRBY', KEYS[k + 5], ARGV[a + 4], 1) end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""
# KEYS: versions, active. ARGV: version.
ACTIVATE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 'unknown' end
local state = cjson.decode(raw)['state']
if state ~= 'ready' then return state end
redis.call('SET', KEYS[2], ARGV[1])
return 'ok'
"""
# KEYS: versions, active. ARGV: version, JSON of the loading state.
BEGIN = """
if redis.call('GET', KEYS[2]) == ARGV[1] then return 'active' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'
"""
# KEYS: versions, active. ARGV: version. Demotes to loading so it cannot be activated.
DROP = """
if redis.call('GET', KEYS[2]) == ARGV[1] then return 'active' end
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 'unknown' end
local doc = cjson.decode(raw)
doc['state'] = 'loading'
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(doc))
return 'ok'
"""


def ingest_call(
    events: Sequence[StoredEvent], limits: StoreLimits, log_max_len: int | None = None
) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of one INGEST call; every id is validated before anything is sent."""
    script_keys: list[str] = [keys.log()]
    args: list[Any] = [
        limits.max_events_per_customer,
        limits.events_ttl_s,
        limits.dedup_ttl_s,
        log_max_len or 0,
    ]
    for e in events:
        events_key = keys.customer_events(e.customer_id)
        ident = anon = counter = events_key  # placeholders (same slot) when unused
        touch = anon_touch = keys.customer_first_touch(e.customer_id)
        if e.link is not None:
            ident = keys.identity(e.link.id_type, e.link.id_value)
            anon = keys.customer_events(e.link.anonymous_id)
            anon_touch = keys.customer_first_touch(e.link.anonymous_id)
        offer, field = e.counter if e.counter is not None else ("", "")
        if e.counter is not None:
            counter = keys.counters(offer)
        script_keys += [keys.seen(e.event_id), events_key, ident, anon, counter, touch,
                        anon_touch]  # fmt: skip
        args += [
            e.customer_id,
            e.payload,
            int(e.link is not None),
            field,
            int(e.counter is not None),
        ]
    return script_keys, args


# KEYS: experiments. ARGV: checksum, blob, expected ("-": unconditional, "": none stored).
PUT_EXPERIMENTS = """
if ARGV[3] ~= '-' then
  local cur = redis.call('HGET', KEYS[1], 'sum') or ''
  if cur ~= ARGV[3] then return 0 end
end
redis.call('HSET', KEYS[1], 'sum', ARGV[1], 'blob', ARGV[2])
return 1
"""
