"""The fixed request script the golden test replays against a committed version.

Decisions on every channel (by id, by identifier, with carts, for unknown customers),
recommendations, similar items, feedback, and real-time events between decisions, so
that the whole decision path and ingest run. Every ranker input and output passing
through onnxruntime is recorded too. `record_golden.py` writes the golden file from
this script; `test_golden.py` replays it and compares.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from litestar.testing import TestClient

from omnioffer.version.scorer import OnnxScorer

HERE = Path(__file__).parent
MODELS = HERE / "models"
GOLDEN = HERE / "golden.json"  # the answers
CALLS = HERE / "ranker_calls.npz"  # the ranker inputs and outputs
CHANNELS = ("web", "app", "store", "email", "sms", "call_center", "social")


@dataclass
class RankerCalls:
    """Every OnnxScorer.score call, in order: ranker file, input rows, output scores."""

    rankers: list[str] = field(default_factory=list)
    inputs: list[npt.NDArray[np.float32]] = field(default_factory=list)
    outputs: list[npt.NDArray[np.float32]] = field(default_factory=list)

    def save(self, path: Path) -> None:
        """As a compressed .npz (float32 as the rankers read them) with the recording CPU."""
        arrays = {f"in{n}": x for n, x in enumerate(self.inputs)}
        arrays |= {f"out{n}": y for n, y in enumerate(self.outputs)}
        np.savez_compressed(path, rankers=np.array(self.rankers), cpu=np.array(cpu()), **arrays)

    @classmethod
    def load(cls, path: Path) -> tuple[RankerCalls, str]:
        """The calls saved in `path`, and the CPU they were recorded on."""
        with np.load(path) as z:
            rankers = [str(r) for r in z["rankers"]]
            n = range(len(rankers))
            return cls(rankers, [z[f"in{k}"] for k in n], [z[f"out{k}"] for k in n]), str(z["cpu"])


def cpu() -> str:
    """This machine's CPU model: float32 BLAS and SIMD kernels, and so the last bits of
    some ranker inputs, differ between CPU models."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


@contextmanager
def recorded_onnx() -> Iterator[RankerCalls]:
    """Record every OnnxScorer.score call while the block runs."""
    calls = RankerCalls()
    original = OnnxScorer.score

    def score(self: OnnxScorer, features: Any) -> Any:
        out = original(self, features)
        calls.rankers.append(self.path.name)
        calls.inputs.append(np.array(features, dtype=np.float32))
        calls.outputs.append(np.array(out, dtype=np.float32))
        return out

    OnnxScorer.score = score  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        OnnxScorer.score = original  # type: ignore[method-assign]


def _serving(name: str) -> pl.DataFrame:
    (version,) = [p for p in MODELS.iterdir() if p.is_dir()]
    return pl.read_parquet(version / "serving" / f"{name}.parquet")


def _post(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    out: dict[str, Any] = {"path": path, "body": body, "status": response.status_code}
    payload = response.json()
    if isinstance(payload, dict):
        payload.pop("decision_id", None)  # random per call
    out["response"] = payload
    return out


def run_script(client: TestClient, now: float) -> list[dict[str, Any]]:
    """The script's answers, in order (decision ids dropped: they are random)."""
    customers = _serving("customers")["customer_key"].to_list()[:60]
    items = _serving("items")["item_id"].to_list()
    links = _serving("identities").sort("id_type", "id_value").rows()[:10]
    out: list[dict[str, Any]] = []
    for n, cid in enumerate(customers):
        channel = CHANNELS[n % len(CHANNELS)]
        body: dict[str, Any] = {"customer_id": cid, "channel": channel, "k": 1 + n % 5}
        if n % 3 == 0:
            body["context"] = {"cart": [items[(7 * n) % len(items)]]}
        out.append(_post(client, "/v1/decisions", body))
        out.append(_post(client, "/v1/recommendations", {
            "customer_id": cid, "channel": channel, "k": 5 + n % 7,
            "exclude": [items[n % len(items)]]}))  # fmt: skip
    for id_type, id_value, _ in links:
        out.append(_post(client, "/v1/decisions", {"id_type": id_type, "id_value": id_value,
                                                   "channel": "web", "k": 3}))  # fmt: skip
    for who in ("nobody-1", "nobody-2"):
        out.append(_post(client, "/v1/decisions", {"customer_id": who, "channel": "app"}))
        out.append(_post(client, "/v1/recommendations", {"customer_id": who, "channel": "web"}))
    for item in items[:5]:
        out.append({"similar": item,
                    "response": client.get(f"/v1/items/{item}/similar?k=4").json()})  # fmt: skip
    out.extend(_omnichannel(client, customers[:12], items, now))
    return out


def _omnichannel(
    client: TestClient, customers: list[str], items: list[str], now: float
) -> list[dict[str, Any]]:
    """Events on one channel, then decisions on another; feedback on served offers."""
    out: list[dict[str, Any]] = []
    kinds = ("add_to_cart", "purchase", "view")
    for n, cid in enumerate(customers):
        first = client.post("/v1/decisions", json={"customer_id": cid, "channel": "app"}).json()
        offers = [o["offer_id"] for o in first["offers"]]
        events = [{"event_id": f"golden-{n}-{j}", "customer_id": cid, "channel": "web",
                   "event_type": kinds[(n + j) % 3], "item_id": items[(5 * n + j) % len(items)],
                   "timestamp": now - 600 + 60 * j} for j in range(3)]  # fmt: skip
        if offers:
            events.append({"event_id": f"golden-{n}-o", "customer_id": cid, "channel": "store",
                           "event_type": "offer_redeem" if n % 2 else "offer_dismiss",
                           "offer_id": offers[0], "timestamp": now - 60})  # fmt: skip
            fb = {"decision_id": first["decision_id"], "offer_id": offers[-1],
                  "outcome": ("impression", "click")[n % 2], "channel": "app"}  # fmt: skip
            out.append(_post(client, "/v1/feedback", fb) | {"body": "feedback"})
        out.append(_post(client, "/v1/events", {"events": events}))
        for channel in ("email", "web", "store"):
            out.append(_post(client, "/v1/decisions", {"customer_id": cid, "channel": channel,
                                                       "k": 4}))  # fmt: skip
        out.append(_post(client, "/v1/recommendations", {"customer_id": cid, "channel": "app"}))
    return out
