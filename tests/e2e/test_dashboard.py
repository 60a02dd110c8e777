"""The dashboard end to end in headless Chromium (Debian's, driven by Playwright): the
real service (`omnioffer serve`, uvicorn on a free port) over a store seeded with an
experiment's decisions and events; the numbers a person sees on /dashboard equal the
results API's, under the page's strict Content-Security-Policy (no CSP violation, no
script error). Fails, never skips, without chromium. `DASHBOARD_SCREENSHOT=path`
also saves a screenshot (docs/dashboard.png is one)."""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.append(str(Path(__file__).resolve().parents[1] / "unit" / "jobs"))
import experiment_world as world

from omnioffer.contracts.decision_log import encode_line
from omnioffer.contracts.experiments import Definitions, checksum, encode_definitions
from omnioffer.contracts.payloads import encode_event
from omnioffer.store import StoredEvent, open_store
from redis_server import free_port

CHROMIUM = "/usr/bin/chromium"
TRUTH = world.Truth(response={"control": 0.10, "treatment": 0.16},
                    revenue={"control": 20.0, "treatment": 23.0},
                    weights={"control": 0.5, "treatment": 0.5},
                    holdout_share=0.1, holdout_response=0.03)  # fmt: skip


async def _seed(url: str) -> None:
    decisions, events = world.simulate(TRUTH, 1500, seed=21)
    defs = Definitions(experiments=(world.experiment(TRUTH),))
    store = open_store(url)
    try:
        assert await store.put_experiments(checksum(defs), encode_definitions(defs), "")
        await store.log_decisions([(d.customer_id or "", encode_line(d)) for d in decisions])
        await store.ingest([StoredEvent(e.event_id or f"e{i}", cid, encode_event(e))
                            for i, (cid, e) in enumerate(events)])  # fmt: skip
    finally:
        await store.close()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of `omnioffer serve` over the seeded embedded store."""
    tmp = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{tmp / 'store.sqlite'}"
    asyncio.run(_seed(url))
    port = free_port()
    (tmp / "models").mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "omnioffer", "serve", "--store", url, "--port", str(port),
         "--models", str(tmp / "models")],
        stdout=subprocess.DEVNULL, stderr=(tmp / "serve.log").open("wb"),
        env={**os.environ, "OMNIOFFER_LOG_LEVEL": "warning"},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:  # poll until it answers (or died, or the deadline passed)
            assert proc.poll() is None, (tmp / "serve.log").read_text()
            try:
                _get(f"{base}/health/live")
                break
            except OSError:
                assert time.monotonic() < deadline, "omnioffer serve did not start"
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# The page's formats (dashboard.js), applied to the API's numbers.
def rate(x: float) -> str:
    return f"{100 * x:.2f}%"


def signed(x: float, unit: str) -> str:
    return ("+" if x >= 0 else "") + f"{100 * x:.2f}{unit}"


def lift_text(effect: dict[str, Any], value: float | None) -> str:
    if value is None:
        return "n/a"
    return signed(value, " pp" if effect["scale"] == "absolute" else "%")


def to_precision(x: float | None, digits: int = 3) -> str:
    """JavaScript's Number.prototype.toPrecision."""
    if x is None:
        return "n/a"
    if x == 0:
        return "0." + "0" * (digits - 1)
    mantissa, exp_text = f"{x:.{digits - 1}e}".split("e")
    exp = int(exp_text)
    if exp < -6 or exp >= digits:
        return f"{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp)}"
    return f"{x:.{max(0, digits - 1 - exp)}f}"


def arm_cells(m: dict[str, Any]) -> dict[str, str]:
    return {
        "exposed_customers": str(m["exposed_customers"]), "decisions": str(m["decisions"]),
        "impressions": str(m["impressions"]), "clicks": str(m["clicks"]),
        "redemptions": str(m["redemptions"]), "response_rate": rate(m["response_rate"]),
        "redemption_rate": rate(m["redemption_rate"]),
        "revenue_per_exposed": f"{m['revenue_per_exposed']:.2f}",
    }  # fmt: skip


def lift_cells(e: dict[str, Any], adjusted: float | None) -> dict[str, str]:
    ci = "n/a" if e["ci_low"] is None else (
        f"[{lift_text(e, e['ci_low'])}, {lift_text(e, e['ci_high'])}]")  # fmt: skip
    return {"lift": lift_text(e, e["lift"]), "ci": ci, "p_value": to_precision(e["p_value"]),
            "p_adjusted": to_precision(adjusted), "method": e["method"]}  # fmt: skip


def _cells(row: Any) -> dict[str, str]:
    return {c.get_attribute("data-field"): c.inner_text().strip()
            for c in row.query_selector_all("td[data-field]")
            if c.get_attribute("data-field") != "ci_bar"}  # fmt: skip


def _check_experiment(page: Any, results: dict[str, Any]) -> None:
    """Every number of the experiment's section equals the API's."""
    section = page.query_selector("section[data-experiment='exp1']")
    assert section is not None
    for v in results["variants"]:
        row = section.query_selector(f"table.arms tr[data-variant='{v['name']}']")
        assert _cells(row) == arm_cells(v["metrics"]), v["name"]
        for metric, e in v["lift"].items():
            row = section.query_selector(f"tr[data-variant='{v['name']}'][data-metric='{metric}']")
            adjusted = results["fdr"]["adjusted"].get(f"{v['name']}/{metric}")
            assert _cells(row) == lift_cells(e, adjusted), metric
            assert row.query_selector("svg.ci-bar rect") is not None  # a CI bar
    holdout = results["holdout"]
    for arm in ("held_out", "served"):
        row = section.query_selector(f"tr[data-holdout='{arm}']")
        assert _cells(row) == arm_cells(holdout[arm])
    for metric, e in holdout["lift"].items():
        row = section.query_selector(f"tr[data-holdout-lift='{metric}']")
        assert _cells(row) == lift_cells(e, None), metric
    plot = section.query_selector("svg.timeline")
    assert plot.get_attribute("data-points") == str(len(results["timeline"]))
    assert plot.query_selector("polyline[data-variant='treatment']") is not None
    srm = results["srm"]
    assert section.query_selector("[data-field='srm']").inner_text().startswith(
        f"sample ratio {'MISMATCH' if srm['mismatch'] else 'ok'}")  # fmt: skip


def test_the_dashboard_shows_the_results_apis_numbers(service: str) -> None:
    assert shutil.which("chromium") or Path(CHROMIUM).exists(), (
        "chromium is missing: apt-get install chromium (.ci/run does)"
    )
    from playwright.sync_api import sync_playwright

    results = _get(f"{service}/v1/experiments/exp1/results")
    listed = _get(f"{service}/v1/experiments")["experiments"]
    assert [e["id"] for e in listed] == ["exp1"]
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            answer = page.goto(f"{service}/dashboard")
            assert answer is not None and answer.status == 200
            csp = answer.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            page.wait_for_selector("body[data-loaded]", timeout=60_000)
            assert page.get_attribute("body", "data-loaded") == "true", page.inner_text("#status")
            _check_experiment(page, results)
            if shot := os.environ.get("DASHBOARD_SCREENSHOT"):
                page.screenshot(path=shot, full_page=True)
            # the fixed-horizon view: the page asks the API again, and shows its numbers
            page.select_option("#mode", "fixed")
            page.click("#refresh")
            page.wait_for_selector("body[data-loaded='true'][data-mode='fixed']")
            fixed = _get(f"{service}/v1/experiments/exp1/results?mode=fixed")
            e = fixed["variants"][1]["lift"]["response_rate"]
            row = page.query_selector("tr[data-variant='treatment'][data-metric='response_rate']")
            adjusted = fixed["fdr"]["adjusted"].get("treatment/response_rate")
            assert _cells(row) == lift_cells(e, adjusted)
            assert e["method"].endswith("fixed_horizon")
        finally:
            browser.close()
    assert problems == [], problems
    assert math.isfinite(results["variants"][1]["lift"]["response_rate"]["lift"])
