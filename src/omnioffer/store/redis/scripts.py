"""The Lua scripts of the Redis backend: every multi-key step that must be atomic.

A script runs to completion without interleaving, and its effects are persisted and
replicated as one unit, so a client that disappears mid-call leaves all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omnioffer.store.base import StoredEvent, StoreLimits
from omnioffer.store.checks import check_id
from omnioffer.store.redis import keys

# Shared by the scripts that append to the event log: XADD, then index the entry id
# under its customer; once the index is longer than `keep`, ids the log no longer holds
# (trimmed or capped) are pruned from its head. A stale id costs erasure nothing (XDEL
# of a missing id), so pruning only long indexes keeps the common append at two calls.
_LOG = """
local function older(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local function append_log(log, index, log_max, cid, payload, keep)
  local id
  if log_max > 0 then
    id = redis.call('XADD', log, 'MAXLEN', '~', log_max, '*', 'c', cid, 'p', payload)
  else
    id = redis.call('XADD', log, '*', 'c', cid, 'p', payload)
  end
  if redis.call('RPUSH', index, id) <= keep then return end
  local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)[1][1]
  while true do
    local head = redis.call('LINDEX', index, 0)
    if head == id or not older(head, first) then break end
    redis.call('LPOP', index)
  end
end
"""

# KEYS: log, then per event: seen, events, identity, anonymous events, counters,
#       anonymous seen, identities (reverse index), log index, first touch,
#       anonymous first touch.
# ARGV: cap, events ttl, dedup ttl, log max length (0: unbounded), now,
#       then per event: customer, payload, link?, field, count?, event id, identity member
INGEST = (
    _LOG
    + """
local cap, ev_ttl, dedup_ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local log_max, now = tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
for i = 0, (#KEYS - 1) / 10 - 1 do
  local k, a = 1 + i * 10, 5 + i * 7
  local seen, list = KEYS[k + 1], KEYS[k + 2]
  local cid, payload, eid = ARGV[a + 1], ARGV[a + 2], ARGV[a + 6]
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', now)  -- an expired marker is no marker
  if redis.call('ZADD', seen, 'NX', now + dedup_ttl, eid) == 0 then
    out[#out + 1] = 0
  else
    redis.call('EXPIRE', seen, dedup_ttl)
    if ARGV[a + 3] == '1' then
      redis.call('SET', KEYS[k + 3], cid)
      redis.call('SADD', KEYS[k + 7], ARGV[a + 7])
      if KEYS[k + 4] ~= list then
        local moved = redis.call('LRANGE', KEYS[k + 4], 0, -1)
        for j = 1, #moved, 1000 do
          redis.call('RPUSH', list, unpack(moved, j, math.min(j + 999, #moved)))
        end
        redis.call('DEL', KEYS[k + 4])
        local marks = redis.call('ZRANGE', KEYS[k + 6], 0, -1, 'WITHSCORES')
        for j = 1, #marks, 1000 do
          local batch = {}
          for m = j, math.min(j + 999, #marks), 2 do
            batch[#batch + 1] = marks[m + 1]
            batch[#batch + 1] = marks[m]
          end
          redis.call('ZADD', seen, 'GT', unpack(batch))
        end
        redis.call('DEL', KEYS[k + 6])
        local touch = redis.call('GET', KEYS[k + 10])
        if touch then
          redis.call('SET', KEYS[k + 9], touch, 'NX')
          redis.call('DEL', KEYS[k + 10])
        end
      end
    end
    redis.call('RPUSH', list, payload)
    redis.call('LTRIM', list, -cap, -1)
    redis.call('EXPIRE', list, ev_ttl)
    append_log(KEYS[1], KEYS[k + 8], log_max, cid, payload, cap)
    if ARGV[a + 5] == '1' then redis.call('HINCRBY', KEYS[k + 5], ARGV[a + 4], 1) end
    out[#out + 1] = 1
  end
end
return out
"""
)
# KEYS: consent overlay, log, log index. ARGV: customer, payload, log max length, index
# length kept unpruned, then channel, "1" | "0" pairs. Returns the whole overlay (HGETALL).
CONSENT = (
    _LOG
    + """
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
append_log(KEYS[2], KEYS[3], tonumber(ARGV[3]), ARGV[1], ARGV[2], tonumber(ARGV[4]))
return redis.call('HGETALL', KEYS[1])
"""
)
# KEYS: decision log, the customer's decision-log index. ARGV: customer, LoggedDecision
# JSON, log max length (0: unbounded), index length kept unpruned.
LOG_DECISION = (
    _LOG
    + """
append_log(KEYS[1], KEYS[2], tonumber(ARGV[3]), ARGV[1], ARGV[2], tonumber(ARGV[4]))
"""
)
# KEYS: identity. ARGV: customer. Unlinks the identifier only if it is still that
# customer's (a later link to another customer stays).
UNLINK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
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
    events: Sequence[StoredEvent], limits: StoreLimits, now: float, log_max_len: int | None = None
) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of one INGEST call; every id is validated before anything is sent."""
    script_keys: list[str] = [keys.log()]
    args: list[Any] = [
        limits.max_events_per_customer,
        limits.events_ttl_s,
        limits.dedup_ttl_s,
        log_max_len or 0,
        repr(now),
    ]
    for e in events:
        event_id = check_id(e.event_id, "event id")  # named first, as check_event does
        events_key = keys.customer_events(e.customer_id)
        ident = anon = counter = anon_seen = idents = events_key  # same slot when unused
        member = ""
        touch = anon_touch = keys.customer_first_touch(e.customer_id)
        if e.link is not None:
            ident = keys.identity(e.link.id_type, e.link.id_value)
            member = keys.identity_member(e.link.id_type, e.link.id_value)
            anon = keys.customer_events(e.link.anonymous_id)
            anon_seen = keys.customer_seen(e.link.anonymous_id)
            idents = keys.customer_identities(e.customer_id)
            anon_touch = keys.customer_first_touch(e.link.anonymous_id)
        offer, field = e.counter if e.counter is not None else ("", "")
        if e.counter is not None:
            counter = keys.counters(offer)
        seen = keys.customer_seen(e.customer_id)
        script_keys += [seen, events_key, ident, anon, counter, anon_seen, idents,
                        keys.customer_log(e.customer_id), touch, anon_touch]  # fmt: skip
        args += [
            e.customer_id,
            e.payload,
            int(e.link is not None),
            field,
            int(e.counter is not None),
            event_id,
            member,
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
