"""Summary numbers, hand-computed on the fixture (8 events, 5 purchases by 3 buyers)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from omnioffer.contracts.summary import Summary, format_summary, summarize
from omnioffer.contracts.validate import load_valid


@pytest.fixture(params=["csv_dir", "parquet_dir"])
def summary(request: pytest.FixtureRequest) -> Summary:
    root: Path = request.getfixturevalue(request.param)
    return summarize(load_valid(root))


def test_counts(summary: Summary) -> None:
    assert sorted(summary.rows.values()) == [1, 2, 2, 3, 4, 8]
    assert summary.customers_in_file == 3
    assert summary.event_customers == 3  # 007, c2, c3; the cookie abc is linked to c3
    assert summary.merged_ids == 0
    assert summary.anonymous_pct == 0.0
    assert summary.items_in_file == 4
    assert summary.event_items == 3
    assert summary.offers_in_file == 2
    assert summary.event_offers == 1


def test_date_range_and_mixes(summary: Summary) -> None:
    assert summary.first_event == datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    assert summary.last_event == datetime(2024, 1, 7, 8, 30, 0, 500_000, tzinfo=UTC)
    assert summary.event_type_pct == {
        "purchase": 62.5,
        "add_to_cart": 12.5,
        "offer_impression": 12.5,
        "view": 12.5,
    }
    assert summary.channel_pct == {"web": 50.0, "app": 25.0, "email": 12.5, "store": 12.5}
    assert summary.channels == ("web", "app", "email", "store")


def test_purchase_statistics(summary: Summary) -> None:
    # purchases per buyer: 007 -> 3 (i1, i1, i2), c2 -> 1, c3 -> 1
    assert summary.purchasing_customers == 3
    assert summary.purchases_median == 1.0
    assert summary.purchases_mean == pytest.approx(5 / 3)
    assert summary.purchases_p90 == pytest.approx(2.6)  # linear: 1 + 0.8 * (3 - 1)
    assert summary.repeat_customer_rate == pytest.approx(1 / 3)
    # 5 purchases, 4 distinct (customer, item) pairs: one purchase repeats an item
    assert summary.repeat_item_rate == pytest.approx(0.2)


def test_format_fits_one_screen(summary: Summary) -> None:
    text = format_summary(summary)
    lines = text.splitlines()
    assert len(lines) <= 25
    assert max(len(line) for line in lines) <= 100
    assert "customers   3 in file; 3 distinct in events (identities resolved)" in lines
    assert "purchases   3 buying customers; per buyer median 1, mean 1.67, p90 2.6" in lines
    assert "33.3% of buyers bought twice or more; 20.0% of purchases repeat an item" in text
    assert "date range  2024-01-01 10:00 .. 2024-01-07 08:30 UTC (5 days)" in lines
