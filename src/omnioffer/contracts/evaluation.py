"""The `evaluation/` half of a model version: the offline rankings a replay compares with.

Training writes `evaluation/offers.parquet` (training/publish/offer_evaluation.py);
`omnioffer evaluate-serving` reads it (training/evaluate/serving_fidelity.py) and
replays the same customer-channel groups through the decision path. One row per
(customer_key, channel, offer_id) that is in the offer ranker's first `DEPTH` offers for
a test-window group with a response, or relevant to it (the customer answered it):

- `rank`: 1-based position in the ranker's offline order, null beyond `DEPTH` (deeper
  than the `TOP_K` the metrics read, so the offline list can be cut to the offers live
  at one instant and still fill its top `TOP_K`);
- `relevant`: the customer clicked or redeemed it after an impression in the test window.
"""

from __future__ import annotations

from collections.abc import Sequence

from omnioffer.contracts.artifact import ArtifactError

EVALUATION_FORMAT = 1
OFFERS = "evaluation/offers.parquet"
TOP_K = 10
DEPTH = 50
OFFER_COLUMNS = ("customer_key", "channel", "offer_id", "rank", "relevant")


def check_columns(found: Sequence[str], version: str) -> None:
    """Refuse an offers evaluation file that lacks a column a reader needs."""
    missing = [c for c in OFFER_COLUMNS if c not in found]
    if missing:
        raise ArtifactError(f"{version}: {OFFERS} lacks {', '.join(missing)}")
