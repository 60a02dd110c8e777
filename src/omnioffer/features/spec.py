"""The one definition of every ranker input: names and order, fills, windows, smoothing.

Training (polars, over the sampled training groups) and serving (numpy, per request)
both read these; the artifact records the order each ranker was trained with.
"""

from __future__ import annotations

ITEM_STATS = ("it_price", "it_pop28", "it_pop7", "it_pop_all", "it_trend", "it_repeat_rate")
ITEM_FILL = {"it_price": 0.0, "it_pop28": 0.0, "it_pop7": 0.0, "it_pop_all": 0.0,
             "it_trend": 0.0, "it_repeat_rate": 0.0}  # fmt: skip
