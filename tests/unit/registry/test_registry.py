"""Model registry: round trip, checksums, current pointer, atomic publication."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from omnioffer import registry
from omnioffer.contracts.artifact import (
    ArtifactError,
    Manifest,
    decode_manifest,
    encode_manifest,
    make_version_name,
)
from omnioffer.errors import DataError, UsageError
from omnioffer.registry import (
    get_current,
    load_version,
    set_current,
    sha256_file,
    write_version,
)
from omnioffer.registry_list import list_versions

V1 = "20261122T223000Z-1a2b3c4d"
V2 = "20261123T080000Z-1a2b3c4d"


def test_round_trip(models_dir: Path, staging: Path, manifest: Manifest) -> None:
    written = write_version(models_dir, V1, staging, manifest)
    loaded = load_version(models_dir, V1)
    assert loaded.manifest == written
    assert loaded.manifest.model_version == V1
    assert sorted(loaded.manifest.files) == [
        "factors/items.npy",
        "factors/users.npy",
        "items.json",
        "ranker_items.onnx",
    ]
    assert loaded.manifest.files["items.json"] == sha256_file(staging / "items.json")
    users = loaded.arrays["factors/users.npy"]
    assert users.dtype == np.float32
    assert np.array_equal(users, np.arange(12, dtype=np.float32).reshape(4, 3))
    assert loaded.file("ranker_items.onnx").read_bytes().startswith(b"not really")
    assert loaded.manifest.rankers["items"].feature_names == ["f0", "f1"]
    assert (staging / "items.json").exists()  # the staging directory is left alone


def test_manifest_json_is_readable_and_stable(manifest: Manifest) -> None:
    data = encode_manifest(manifest)
    parsed = json.loads(data)
    assert parsed["format_version"] == 1
    assert list(parsed) == sorted(parsed)
    assert decode_manifest(data) == manifest


def test_unsupported_format_version_is_refused(manifest: Manifest) -> None:
    data = json.loads(encode_manifest(manifest))
    data["format_version"] = 2
    with pytest.raises(ArtifactError, match="format_version 2"):
        decode_manifest(json.dumps(data).encode())


def test_tampered_file_is_named(models_dir: Path, staging: Path, manifest: Manifest) -> None:
    write_version(models_dir, V1, staging, manifest)
    np.save(models_dir / V1 / "factors" / "items.npy", np.zeros((5, 3), dtype=np.float32))
    with pytest.raises(ArtifactError, match=r"factors/items\.npy: sha256 mismatch") as info:
        load_version(models_dir, V1)
    assert isinstance(info.value, DataError)
    with pytest.raises(ArtifactError, match=r"items\.npy"):
        registry.verify_version(models_dir, V1)


def test_missing_file_is_named(models_dir: Path, staging: Path, manifest: Manifest) -> None:
    write_version(models_dir, V1, staging, manifest)
    (models_dir / V1 / "ranker_items.onnx").unlink()
    with pytest.raises(ArtifactError, match=r"ranker_items\.onnx: missing"):
        load_version(models_dir, V1)


def test_extra_file_is_named(models_dir: Path, staging: Path, manifest: Manifest) -> None:
    write_version(models_dir, V1, staging, manifest)
    (models_dir / V1 / "sneaky.py").write_text("import os")
    with pytest.raises(ArtifactError, match=r"sneaky\.py: extra file"):
        load_version(models_dir, V1)


def test_missing_manifest_and_version(models_dir: Path, staging: Path, manifest: Manifest) -> None:
    with pytest.raises(ArtifactError, match="not found"):
        load_version(models_dir, V1)
    write_version(models_dir, V1, staging, manifest)
    (models_dir / V1 / "manifest.json").unlink()
    with pytest.raises(ArtifactError, match=r"manifest\.json: missing"):
        load_version(models_dir, V1)


def test_object_array_is_refused(models_dir: Path, staging: Path, manifest: Manifest) -> None:
    # A pickled .npy, correctly checksummed: still refused, because loading it runs pickle.
    np.save(staging / "evil.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    write_version(models_dir, V1, staging, manifest)
    with pytest.raises(ArtifactError, match=r"evil\.npy: cannot load without pickle"):
        load_version(models_dir, V1)


def test_current_pointer(models_dir: Path, staging: Path, manifest: Manifest) -> None:
    write_version(models_dir, V1, staging, manifest)
    write_version(models_dir, V2, staging, manifest)
    assert get_current(models_dir) is None
    with pytest.raises(ArtifactError, match="no current"):
        load_version(models_dir)
    set_current(models_dir, V1)
    assert get_current(models_dir) == V1
    assert load_version(models_dir).name == V1
    set_current(models_dir, V2)
    assert (models_dir / "current").read_text() == f"{V2}\n"
    assert load_version(models_dir).name == V2
    assert not (models_dir / "current").is_symlink()
    assert [p.name for p in models_dir.iterdir() if p.name.startswith(".")] == []


def test_current_refuses_broken_version(
    models_dir: Path, staging: Path, manifest: Manifest
) -> None:
    write_version(models_dir, V1, staging, manifest)
    set_current(models_dir, V1)
    write_version(models_dir, V2, staging, manifest)
    (models_dir / V2 / "items.json").write_text("[]")
    with pytest.raises(ArtifactError, match=r"items\.json"):
        set_current(models_dir, V2)
    assert get_current(models_dir) == V1  # the old pointer survived the failed switch
    with pytest.raises(ArtifactError, match="not found"):
        set_current(models_dir, "20990101T000000Z-deadbeef", verify=False)


def test_failed_replace_keeps_old_pointer(
    models_dir: Path, staging: Path, manifest: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_version(models_dir, V1, staging, manifest)
    write_version(models_dir, V2, staging, manifest)
    set_current(models_dir, V1)

    def boom(self: Path, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        set_current(models_dir, V2)
    monkeypatch.undo()
    assert get_current(models_dir) == V1
    assert sorted(p.name for p in models_dir.iterdir()) == [V1, V2, "current"]


def test_no_partial_version_when_writing_fails(
    models_dir: Path, staging: Path, manifest: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = registry.sha256_file

    def fail_on_third(path: Path) -> str:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("read error")
        return real(path)

    monkeypatch.setattr(registry, "sha256_file", fail_on_third)
    with pytest.raises(OSError, match="read error"):
        write_version(models_dir, V1, staging, manifest)
    assert list(models_dir.iterdir()) == []
    monkeypatch.undo()
    write_version(models_dir, V1, staging, manifest)  # a retry succeeds cleanly
    assert load_version(models_dir, V1).name == V1


def test_write_refuses_bad_input(models_dir: Path, staging: Path, manifest: Manifest) -> None:
    write_version(models_dir, V1, staging, manifest)
    with pytest.raises(UsageError, match="already exists"):
        write_version(models_dir, V1, staging, manifest)
    for bad in ["current", "../escape", ".hidden", "a/b", ""]:
        with pytest.raises(ArtifactError, match="invalid model version name"):
            write_version(models_dir, bad, staging, manifest)
    (staging / "manifest.json").write_text("{}")
    with pytest.raises(UsageError, match="written by the registry"):
        write_version(models_dir, V2, staging, manifest)


def test_list_versions(models_dir: Path, staging: Path, manifest: Manifest) -> None:
    assert list_versions(models_dir) == []
    write_version(models_dir, V2, staging, manifest)
    write_version(models_dir, V1, staging, manifest)
    (models_dir / "20261124T000000Z-00000000").mkdir()  # no manifest: shown as broken
    set_current(models_dir, V2)
    infos = list_versions(models_dir)
    assert [i.name for i in infos] == [V1, V2, "20261124T000000Z-00000000"]
    assert [i.current for i in infos] == [False, True, False]
    assert infos[0].created_at == "2026-11-22T22:30:00Z"
    assert infos[0].primary == {"items/ndcg@10": 0.31}
    assert infos[2].problem is not None
    assert "missing" in infos[2].problem


def test_version_names_sort_by_time() -> None:
    early = make_version_name("1A2B3C4D99", datetime(2026, 11, 22, 22, 30, tzinfo=UTC))
    late = make_version_name("00000000", datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    assert early == "20261122T223000Z-1a2b3c4d"
    assert sorted([late, early]) == [early, late]
    with pytest.raises(ValueError, match="8 hex"):
        make_version_name("xyz")
