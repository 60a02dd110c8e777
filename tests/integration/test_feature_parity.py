"""Online features (src/omnioffer/decide) equal offline training features on the same history.

The serving files of a trained version are materialised into records exactly as the
service reads them; training's polars features are computed at the same cutoff from
the same resolved events, with the version's own factors. Any drift between the two
implementations fails here. The shared `both` fixture lives in conftest.py.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from omnioffer.contracts.payloads import decode_batch
from omnioffer.features.candidates import generate as online_candidates
from omnioffer.features.history import History
from omnioffer.features.items import item_features
from omnioffer.features.spec import item_feature_names
from omnioffer.version.model import VersionModel
from training.features.item_features import build_item_features
from training.items.candidates import CandidateConfig, generate_candidates
from training.prep.snapshot import Snapshot

SAMPLE = 60
CHANNELS = ("web", "store", "email")


def test_item_candidates_and_features_match_training(
    both: tuple[VersionModel, dict[str, bytes], Snapshot],
) -> None:
    model, records, snap = both
    rng = np.random.default_rng(3)
    people = sorted(records)
    chosen = [people[i] for i in rng.choice(len(people), SAMPLE, replace=False)]
    groups = pl.DataFrame(
        [(c, ch) for c in chosen for ch in CHANNELS],
        schema=["customer_key", "channel"],
        orient="row",
    )
    cfg = model.catalog.candidates
    config = CandidateConfig(**{k: v for k, v in cfg.items()})
    offline = build_item_features(generate_candidates(groups, snap, config=config), snap)
    names = item_feature_names(snap.channels)
    checked = 0
    for cid in chosen:
        batch = decode_batch(records[cid])
        user = np.frombuffer(batch.factors, dtype=np.float32) if batch.factors else None
        h = History.build(batch.events, model, model.catalog.cutoff)
        for ch in CHANNELS:
            cands = online_candidates(h, model, user, ch)
            cols = item_features(h, model, user, cands, ch)
            want = offline.filter((pl.col("customer_key") == cid) & (pl.col("channel") == ch))
            got_ids = [model.catalog.item_ids[i] for i in cands.items.tolist()]
            order = np.argsort(np.array(got_ids))
            assert [got_ids[i] for i in order] == want.get_column("item_id").sort().to_list()
            want = want.sort("item_id")
            for name in names:
                np.testing.assert_allclose(
                    cols[name][order],
                    want.get_column(name).to_numpy(),
                    rtol=1e-5,
                    atol=1e-4,
                    err_msg=f"{name} for {cid} on {ch}",
                )
            checked += 1
    assert checked == SAMPLE * len(CHANNELS)
