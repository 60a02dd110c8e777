"""The model card: files, PNG sizes, tables, lift arithmetic, ECE, determinism."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from training.evaluate.scoreboard import Scoreboard
from training.publish.card import expected_calibration_error, write_card
from training.publish.card_plots import DPI, SIZES

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PRIMARY = {"items": "ndcg@10", "offers": "ndcg@5"}


def _items_board() -> Scoreboard:
    # Hand-checked: best baseline on ndcg@10 is popular_channel (0.125);
    # lift = 0.2 / 0.125 = 1.600x; share of oracle = 0.2 / 0.25 = 80.0%.
    overall = {
        "popular": {"ndcg@10": 0.1, "map@12": 0.05, "recall@50": 0.3},
        "popular_channel": {"ndcg@10": 0.125, "map@12": 0.06, "recall@50": 0.31},
        "repurchase": {"ndcg@10": 0.08, "map@12": 0.07, "recall@50": 0.2},
        "als": {"ndcg@10": 0.12, "map@12": 0.055, "recall@50": 0.45},
        "ranker": {"ndcg@10": 0.2, "map@12": 0.09, "recall@50": 0.5},
        "oracle": {"ndcg@10": 0.25, "map@12": 0.2, "recall@50": 0.6},
    }
    per_channel = {
        "web": {m: {"ndcg@10": v["ndcg@10"] + 0.01} for m, v in overall.items()},
        "store": {m: {"ndcg@10": v["ndcg@10"] - 0.01} for m, v in overall.items()},
    }
    return Scoreboard(overall, per_channel, groups=1234)


def _offers_board() -> Scoreboard:
    # No oracle; popular_channel lacks ndcg@5 so it cannot be the best baseline
    # even though its hit@5 is the highest. Lift = 0.33 / 0.22 = 1.500x.
    overall = {
        "popular": {"ndcg@5": 0.22, "hit@5": 0.4},
        "popular_channel": {"hit@5": 0.9},
        "ranker": {"ndcg@5": 0.33, "hit@5": 0.5},
    }
    per_channel = {"app": {"popular": {"ndcg@5": 0.2}, "ranker": {"ndcg@5": 0.3125}}}
    return Scoreboard(overall, per_channel, groups=50)


def _write(out: Path, **overrides: object) -> list[Path]:
    rng = np.random.default_rng(7)
    pred = rng.random(500)
    kwargs: dict[str, object] = {
        "version": "v-test",
        "window": {"start": "2026-01-01", "test_start": "2026-03-01"},
        "boards": {"items": _items_board(), "offers": _offers_board()},
        "primary": PRIMARY,
        "importance": {
            "items": [(f"feat_{i:02d}", float(i)) for i in range(25)],  # ascending on purpose
            "offers": [("price", 2.0), ("recency", 6.0)],
        },
        "calibration": {"offers": (pred, (rng.random(500) < pred).astype(np.float64))},
        "candidate_recall": {"als": 0.41, "repurchase": 0.2},
        "timings": {"load": 1.5, "fit": 2.25},
        "params": {"lr": np.float64(0.05), "leaves": np.int64(31), "tags": ["a", "b"]},
        "notes": ["first note", "second\nnote"],
    }
    kwargs.update(overrides)
    return write_card(out, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One card shared by the read-only tests: rendering eight PNGs is the slow part."""
    return _write(tmp_path_factory.mktemp("card") / "not" / "yet" / "there")


@pytest.fixture(scope="module")
def card(written: list[Path]) -> str:
    return written[0].read_text(encoding="utf-8")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_every_file_is_written_and_returned(written: list[Path]) -> None:
    files, out = written, written[0].parent
    assert [f.name for f in files] == [
        "card.md",
        "metrics_items.png",
        "channels_items.png",
        "metrics_offers.png",
        "channels_offers.png",
        "importance_items.png",
        "importance_offers.png",
        "calibration_offers.png",
    ]
    assert all(f.parent == out and f.is_file() and f.stat().st_size > 0 for f in files)
    assert sorted(p.name for p in out.iterdir()) == sorted(f.name for f in files)


def test_pngs_have_the_signature_and_the_fixed_pixel_size(written: list[Path]) -> None:
    for path in written[1:]:
        width, height = SIZES[path.stem.split("_")[0]]
        assert _png_size(path) == (width * DPI, height * DPI), path.name


def test_model_rows_carry_four_decimal_values(card: str) -> None:
    assert "# Model card: v-test" in card
    assert "| model | ndcg@10 | map@12 | recall@50 |" in card
    assert "| popular | 0.1000 | 0.0500 | 0.3000 |" in card
    assert "| popular_channel | 0.1250 | 0.0600 | 0.3100 |" in card
    assert "| repurchase | 0.0800 | 0.0700 | 0.2000 |" in card
    assert "| als | 0.1200 | 0.0550 | 0.4500 |" in card
    assert "| ranker | 0.2000 | 0.0900 | 0.5000 |" in card
    assert "| oracle | 0.2500 | 0.2000 | 0.6000 |" in card
    assert "| start | 2026-01-01 |" in card
    assert "1,234 evaluation groups" in card


def test_lift_over_best_baseline_and_share_of_oracle(card: str) -> None:
    assert "ranker 0.2000 / best baseline `popular_channel` 0.1250 = **1.600x**" in card
    assert "ranker 0.2000 / oracle 0.2500 = **80.0%**" in card


def test_board_without_oracle_and_with_a_missing_metric(card: str) -> None:
    offers = card[card.index("## Task `offers`") : card.index("## Candidate recall")]
    assert "| popular_channel | \N{EN DASH} | 0.9000 |" in offers
    assert "ranker 0.3300 / best baseline `popular` 0.2200 = **1.500x**" in offers
    assert "oracle" not in offers
    assert "| app | 0.2000 | \N{EN DASH} | 0.3125 |" in offers


def test_per_channel_table_of_the_primary_metric(card: str) -> None:
    header = "| channel | popular | popular_channel | repurchase | als | ranker | oracle |"
    assert header in card
    assert "| store | 0.0900 | 0.1150 | 0.0700 | 0.1100 | 0.1900 | 0.2400 |" in card
    assert card.index("| store |") < card.index("| web |")  # channels sorted


def test_lift_is_not_available_without_a_ranker(tmp_path: Path) -> None:
    board = Scoreboard({"popular": {"ndcg@10": 0.1}}, {}, groups=3)
    out = tmp_path / "c"
    files = write_card(
        out, version="v", window={}, boards={"items": board}, primary=PRIMARY, importance={}
    )
    card = files[0].read_text(encoding="utf-8")
    assert "Lift on ndcg@10: n/a" in card
    assert [f.name for f in files] == ["card.md", "metrics_items.png", "channels_items.png"]


def test_importance_is_sorted_by_gain_and_cut_to_fifteen(card: str) -> None:
    assert "| 1 | feat_24 | 24.0 | 8.0% |" in card  # 24 / sum(0..24)=300
    assert "| 15 | feat_10 |" in card
    assert "feat_09" not in card
    assert card.index("| 1 | recency |") < card.index("| 2 | price |")


def test_calibration_summary_recall_timings_params_notes(tmp_path: Path) -> None:
    pred = np.full(20, 0.5)
    outcome = np.ones(20)
    card = (_write(tmp_path, calibration={"offers": (pred, outcome)})[0]).read_text("utf-8")
    assert "Expected calibration error (10 quantile bins): **0.5000** over 20 rows" in card
    assert "| 1 | 2 | 0.5000 | 1.0000 |" in card
    assert "| als | 0.4100 |" in card
    assert "| **total** | 3.75 |" in card
    block = card.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block) == {"leaves": 31, "lr": 0.05, "tags": ["a", "b"]}
    assert "- first note\n- second note\n" in card
    assert "![offers calibration](calibration_offers.png)" in card
    assert "![items metrics](metrics_items.png)" in card


def test_ece_golden_cases() -> None:
    outcome = np.array([0.0, 1.0] * 50)
    assert expected_calibration_error(outcome.copy(), outcome) == 0.0  # says 0 or 1, right
    assert expected_calibration_error(np.full(100, 0.5), np.ones(100)) == pytest.approx(0.5)
    # Constant 0.25 with exactly one hit in every 4 rows: each equal-count bin of 4 matches.
    quarter = np.array([1.0, 0.0, 0.0, 0.0] * 10)
    assert expected_calibration_error(np.full(40, 0.25), quarter) == pytest.approx(0.0)
    # Two bins of two: gaps 0.3 (0.3 vs 0.0) and 0.4 (0.9 vs 0.5); equal weights.
    pred, hits = np.array([0.3, 0.3, 0.9, 0.9]), np.array([0.0, 0.0, 1.0, 0.0])
    assert expected_calibration_error(pred, hits, bins=2) == pytest.approx((0.3 + 0.4) / 2)


def test_ece_edge_cases() -> None:
    assert math.isnan(expected_calibration_error(np.zeros(0), np.zeros(0)))
    with pytest.raises(ValueError, match="must be equal"):
        expected_calibration_error(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="bins"):
        expected_calibration_error(np.zeros(3), np.zeros(3), bins=0)
    # Fewer rows than bins: empty bins are skipped, not counted as perfect.
    assert expected_calibration_error(np.array([0.2]), np.array([1.0])) == pytest.approx(0.8)


def test_two_runs_are_byte_identical(tmp_path: Path) -> None:
    first = _write(tmp_path / "a")
    second = _write(tmp_path / "b")
    assert first[0].read_bytes() == second[0].read_bytes()
    for a, b in zip(first[1:], second[1:], strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        assert b"Software" not in a.read_bytes()
