"""The per-customer data the experiments add to the store, in one place (for erasure).

Redis keys (store/redis/keys.py) and embedded-store tables (store/sqlite/schema.py):
- the sticky first-touch record: Redis `oo:1:{c:<id>}:ft` (the customer's hash tag,
  no TTL), table `first_touch(customer_id)`; an identity link moves an anonymous id's
  record to the customer and deletes the anonymous one;
- the decision log: Redis stream `oo:1:dlog` and table `decision_log`, one entry per
  recorded decision with field/column `c` / `customer_id` (not hash-tagged: a
  stream shared by all customers, like the event log `oo:1:log`).
"""

from __future__ import annotations

REDIS_CUSTOMER_KEYS = ("ft",)  # suffixes after "{c:<id>}:" added for experiments
REDIS_SHARED_STREAMS = ("dlog",)  # entries carry the customer id in field "c"
SQLITE_CUSTOMER_TABLES = ("first_touch", "decision_log")  # both keyed by customer_id
