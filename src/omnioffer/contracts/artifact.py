"""Artifact contract v1: the manifest that describes one model version.

`models/<version>/manifest.json` is the only thing the online service trusts about
a model directory: which files belong to it (with their sha256), which features
each ranker expects in which order, and how well the version scored. It is plain
JSON (msgspec), never pickle, so a model directory can be inspected and diffed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import msgspec

from omnioffer.errors import DataError

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"

# A version directory name: safe as a path component, never hidden, never the
# pointer file's name. `make_version_name` builds the sortable form.
VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
RESERVED_NAMES = frozenset({"current"})


class ArtifactError(DataError):
    """A model directory is missing, incomplete, tampered with or malformed."""


class TrainingWindow(msgspec.Struct, frozen=True, kw_only=True):
    """ISO 8601 UTC bounds: train on [start, end), evaluate on [test_start, test_end)."""

    start: str
    end: str
    test_start: str
    test_end: str


class RankerEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One exported ranker: its ONNX file and the exact feature order it was trained on.

    `output` says what the ONNX graph returns; "raw_score" means the LightGBM raw
    margin (log-odds for a binary objective: apply a sigmoid for a probability).
    """

    feature_names: list[str]
    file: str
    onnx_max_abs_diff: float
    latency_ms_100_rows: float
    objective: str = ""
    output: str = "raw_score"


Metrics = dict[str, dict[str, dict[str, float]]]  # task -> model -> metric -> value


class DroppedRows(msgspec.Struct, frozen=True, kw_only=True):
    """Rows of the training data that train dropped (contracts/problems.DROP_KINDS): of one
    kind in one file column, how many, and the first ones as `file:row:column: message`."""

    kind: str
    file: str
    column: str
    rows: int
    first: list[str] = msgspec.field(default_factory=list)


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """Everything `manifest.json` holds. `files` maps relative path -> sha256 hex.

    The registry fills `model_version` and `files` when it writes a version, so a
    caller builds a Manifest without them.
    """

    format_version: int = FORMAT_VERSION
    model_version: str = ""
    created_at: str
    data_fingerprint: str
    training_window: TrainingWindow
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    rankers: dict[str, RankerEntry] = msgspec.field(default_factory=dict)
    metrics: Metrics = msgspec.field(default_factory=dict)
    files: dict[str, str] = msgspec.field(default_factory=dict)
    notes: str = ""
    dropped: list[DroppedRows] = msgspec.field(default_factory=list)


def utc_now_iso() -> str:
    """Creation timestamps: second precision, explicit Z, so they sort as strings."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_version_name(data_fingerprint: str, now: datetime | None = None) -> str:
    """`20261122T223000Z-1a2b3c4d`: sorts by creation time, names the data it saw."""
    prefix = data_fingerprint.lower()[:8]
    if len(prefix) < 8 or not all(c in "0123456789abcdef" for c in prefix):
        raise ValueError(f"fingerprint must start with 8 hex digits, got {data_fingerprint!r}")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{prefix}"


def check_version_name(name: str) -> str:
    """Refuse names that could escape `models/` or shadow the pointer file."""
    if not VERSION_NAME.match(name) or name in RESERVED_NAMES:
        raise ArtifactError(
            f"invalid model version name {name!r}: use letters, digits, '.', '_', '-' "
            "(not starting with '.' and not 'current')"
        )
    return name


def encode_manifest(manifest: Manifest) -> bytes:
    """Indented, key-ordered JSON, so two manifests diff line by line."""
    raw = msgspec.json.encode(manifest, order="sorted")
    return msgspec.json.format(raw, indent=2) + b"\n"


def decode_manifest(data: bytes, source: str = MANIFEST_NAME) -> Manifest:
    """Parse and type-check a manifest; any problem is an ArtifactError naming `source`."""
    try:
        manifest = msgspec.json.decode(data, type=Manifest)
    except msgspec.DecodeError as exc:  # ValidationError is a subclass
        raise ArtifactError(f"{source}: invalid manifest: {exc}") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise ArtifactError(
            f"{source}: format_version {manifest.format_version} is not supported "
            f"(this omnioffer reads {FORMAT_VERSION})"
        )
    return manifest
