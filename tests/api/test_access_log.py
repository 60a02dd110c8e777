"""One log line per request, with the request id the response echoes, and the
decision's hashed customer, channel, decision id, model version and fallback."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from omnioffer.api.access_log import JsonFormatter
from omnioffer.api.app import _configure_logging
from omnioffer.errors import UsageError
from omnioffer.settings import Settings, load_settings

Client = TestClient[Litestar]


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def fields(self) -> list[dict[str, Any]]:
        return [getattr(r, "fields") for r in self.records]  # noqa: B009 (set by extra=)


@pytest.fixture
def lines(client: Client) -> Iterator[Lines]:
    """The access logger's records, caught after the app configured logging."""
    handler, logger = Lines(), logging.getLogger("omnioffer.access")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_a_decision_is_one_line_with_its_ids(client: Client, lines: Lines) -> None:
    body = {"customer_id": "c0000001", "channel": "app", "k": 2}
    answer = client.post("/v1/decisions", json=body, headers={"X-Request-ID": "req-42"})
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "req-42"
    [line] = lines.fields()
    assert line == {
        "request_id": "req-42", "method": "POST", "route": "/v1/decisions", "status": 200,
        "latency_ms": line["latency_ms"],
        "customer": hashlib.sha256(b"c0000001").hexdigest()[:16], "channel": "app",
        "decision_id": "d-1", "model_version": "v1", "fallback": None,
    }  # fmt: skip
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
    assert "c0000001" not in json.dumps(line)  # the customer id itself is never logged


@pytest.mark.parametrize("sent", [None, "has spaces", "x" * 200, "a;b"])
def test_a_missing_or_unusable_request_id_is_replaced(
    client: Client, lines: Lines, sent: str | None
) -> None:
    headers = {} if sent is None else {"X-Request-ID": sent}
    answer = client.get("/health/live", headers=headers)
    echoed = answer.headers["x-request-id"]
    assert len(echoed) == 32 and int(echoed, 16) >= 0 and echoed != sent
    [line] = lines.fields()
    assert line == {"request_id": echoed, "method": "GET", "route": "/health/live",
                    "status": 200, "latency_ms": line["latency_ms"]}  # fmt: skip


def test_errors_are_logged_with_their_status(client: Client, lines: Lines) -> None:
    answer = client.post("/v1/decisions", json={"customer_id": "c1", "channel": "app", "k": 0})
    assert answer.status_code == 400
    assert answer.headers["x-request-id"] == lines.fields()[0]["request_id"]
    assert lines.fields()[0]["status"] == 400


def test_json_and_human_formats(client: Client, lines: Lines) -> None:
    client.post("/v1/decisions", json={"customer_id": "c1", "channel": "web"},
                headers={"X-Request-ID": "r1"})  # fmt: skip
    [record] = lines.records
    as_json = json.loads(JsonFormatter().format(record))
    assert as_json["logger"] == "omnioffer.access" and as_json["level"] == "info"
    assert as_json["request_id"] == "r1" and as_json["decision_id"] == "d-1"
    assert as_json["time"].endswith("Z")
    human = logging.Formatter("%(message)s").format(record)
    assert human.startswith("request_id=r1 method=POST route=/v1/decisions status=200 ")
    assert "decision_id=d-1" in human and "fallback" not in human  # None fields are left out


def test_log_format_setting() -> None:
    json_config = _configure_logging(settings=Settings(log_format="json"))
    assert json_config.formatters["standard"] == {"()": JsonFormatter}
    human_config = _configure_logging(settings=Settings(log_format="human"))
    assert "()" not in human_config.formatters["standard"]
    assert load_settings(None, env={"OMNIOFFER_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(UsageError, match="OMNIOFFER_LOG_FORMAT"):
        load_settings(None, env={"OMNIOFFER_LOG_FORMAT": "xml"})
