"""Why not this offer: `explain` names offers and the decision answers, per offer, its
rank or the stage and rule that kept it out; an empty decision counts its reasons."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
from helpers import customer_with_offers, post_events
from litestar.testing import TestClient

from omnioffer.service import create_service_app
from served_version import AS_OF_DAYS, iso, load_into, service_settings
from training.train import TrainOutcome


def _ask(client: TestClient, cid: str, channel: str, explain: list[str], k: int = 3,
         **extra: Any) -> dict[str, Any]:  # fmt: skip
    body = {"customer_id": cid, "channel": channel, "k": k, "explain": explain, **extra}
    r = client.post("/v1/decisions", json=body)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def _by_offer(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["offer_id"]: v for v in answer["explained"]}


def _offers_table(models: Path) -> pl.DataFrame:
    (version,) = [p for p in models.iterdir() if p.is_dir() and (p / "serving").is_dir()][:1]
    return pl.read_parquet(version / "serving" / "offers.parquet")


def test_each_named_offer_gets_its_rank_or_the_rule_that_removed_it(
    served: tuple[TestClient, float], trained: tuple[Path, TrainOutcome]
) -> None:
    client, now = served
    cid = customer_with_offers(client, ("app",))
    preview = _ask(client, cid, "app", [], k=50, dry_run=True)
    ranked = [o["offer_id"] for o in preview["offers"]]
    assert len(ranked) >= 4
    table = _offers_table(trained[0])
    listed = pl.col("channels").list
    not_on_app = table.filter((listed.len() > 0) & ~listed.contains("app"))
    not_on_app = not_on_app.get_column("offer_id")
    assert len(not_on_app), "the generator makes channel-bound offers"
    redeemed = ranked[1]
    post_events(client, {"customer_id": cid, "channel": "store", "event_type": "offer_redeem",
                         "offer_id": redeemed, "timestamp": iso(now - 60)})  # fmt: skip
    named = [ranked[0], ranked[3], redeemed, "no-such-offer", *not_on_app.head(1).to_list()]
    answer = _ask(client, cid, "app", named, k=1, dry_run=True)
    got = _by_offer(answer)
    assert list(got) == named  # one verdict per named offer, in order
    assert got[ranked[0]] == {"offer_id": ranked[0], "served": True, "rank": 1}
    assert got[ranked[3]]["stage"] == "arbitration" and got[ranked[3]]["code"] == "outranked"
    assert got[ranked[3]]["reason"].startswith("ranked ")
    assert (got[redeemed]["stage"], got[redeemed]["code"]) == ("contact", "redeemed")
    assert (got["no-such-offer"]["stage"], got["no-such-offer"]["code"]) == ("catalog", "unknown")
    other = got[not_on_app[0]]
    assert (other["stage"], other["code"]) == ("eligibility", "channel"), other
    assert "empty_reasons" not in answer  # it served an offer


def test_a_spent_budget_is_named_as_the_reason(
    trained: tuple[Path, TrainOutcome], tmp_path: Path
) -> None:
    models = trained[0]
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    now = load_into(url, models) + timedelta(days=AS_OF_DAYS).total_seconds()
    plain = service_settings(url, models, as_of=iso(now), replay_clock="frozen")
    with TestClient(create_service_app(plain)) as client:
        cid = customer_with_offers(client, ("app",))
        top = _ask(client, cid, "app", [], dry_run=True)["offers"][0]["offer_id"]
    policy = {"offer_budgets": {top: 0}}
    capped = service_settings(url, models, as_of=iso(now), replay_clock="frozen", policy=policy)
    with TestClient(create_service_app(capped)) as client:
        answer = _ask(client, cid, "app", [top], dry_run=True)
    got = _by_offer(answer)[top]
    assert (got["stage"], got["code"], got["served"]) == ("budget", "budget", False)
    assert top not in [o["offer_id"] for o in answer["offers"]]


def test_an_empty_decision_counts_why(served: tuple[TestClient, float]) -> None:
    client, now = served
    cid = customer_with_offers(client, ("web",))
    offer = _ask(client, cid, "web", [], dry_run=True)["offers"][0]["offer_id"]
    shown = [{"customer_id": cid, "channel": "web", "event_type": "offer_impression",
              "offer_id": offer, "timestamp": iso(now - 60 * (n + 1)),
              "event_id": f"why-cap-{n}"} for n in range(6)]  # fmt: skip
    post_events(client, *shown)  # daily_cap (6) impressions in the last 24 h
    answer = _ask(client, cid, "web", [])
    assert answer["offers"] == []
    reasons = answer["empty_reasons"]
    assert list(reasons) == ["daily_cap"] and reasons["daily_cap"] > 0
    assert "explained" not in answer
