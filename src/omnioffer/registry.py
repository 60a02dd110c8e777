"""The local model registry: versioned artifact directories under `models/`.

Layout: `models/<version>/manifest.json` plus the files it lists with a sha256
each, and `models/current`, a one-line text file naming the active version.

Why these choices:
- A version appears all at once or not at all: it is assembled in a hidden
  staging directory beside its final place and renamed (atomic on one
  filesystem), so a crash or an error never leaves a half-written version.
- `current` is a file, not a symlink, because symlinks are unreliable on Windows,
  in some Docker volume drivers and through some sync tools; a file replaced with
  `os.replace` switches just as atomically and is trivially readable.
- Every file is checked against its sha256 when loaded, and `.npy` files are read
  with `allow_pickle=False`: a model directory is data, never code.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import numpy as np
import numpy.typing as npt

from omnioffer.contracts.artifact import (
    MANIFEST_NAME,
    ArtifactError,
    Manifest,
    check_version_name,
    decode_manifest,
    encode_manifest,
    make_version_name,
)
from omnioffer.errors import UsageError

__all__ = [
    "CURRENT_NAME",
    "ArtifactError",
    "LoadedVersion",
    "get_current",
    "load_version",
    "make_version_name",
    "read_manifest",
    "set_current",
    "sha256_file",
    "unset_current",
    "verify_version",
    "write_version",
]

CURRENT_NAME = "current"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class LoadedVersion:
    """A verified model version: its manifest and every `.npy` array, by relative path."""

    name: str
    path: Path
    manifest: Manifest
    arrays: dict[str, npt.NDArray[np.generic]] = field(default_factory=dict)

    def file(self, relative: str) -> Path:
        """Absolute path of a file the manifest lists (checked when the version loaded)."""
        if relative not in self.manifest.files:
            raise ArtifactError(f"{self.name}: {relative} is not part of this version")
        return self.path / relative


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, streamed so large factor matrices never sit in memory twice."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _payload_files(root: Path) -> list[str]:
    """Relative POSIX paths of every file under root except the manifest."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).as_posix() != MANIFEST_NAME
    )


def _fsync_write(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_version(
    models_dir: Path, version: str, staging_dir: Path, manifest: Manifest
) -> Manifest:
    """Publish the files of `staging_dir` as `models_dir/<version>`, all or nothing.

    The files are copied into a hidden directory beside the target, hashed, the
    manifest (with `model_version` and `files` filled in) written, then the
    directory renamed into place. On any failure the hidden directory is removed.
    The staging directory is left untouched. Returns the manifest as written.
    """
    check_version_name(version)
    target = models_dir / version
    if target.exists():
        raise UsageError(f"model version {version} already exists in {models_dir}")
    if not staging_dir.is_dir():
        raise UsageError(f"staging directory {staging_dir} does not exist")
    if (staging_dir / MANIFEST_NAME).exists():
        raise UsageError(f"{staging_dir}: {MANIFEST_NAME} is written by the registry")
    models_dir.mkdir(parents=True, exist_ok=True)
    temp = models_dir / f".tmp-{version}-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(staging_dir, temp)
        files = {rel: sha256_file(temp / rel) for rel in _payload_files(temp)}
        final = msgspec.structs.replace(manifest, model_version=version, files=files)
        _fsync_write(temp / MANIFEST_NAME, encode_manifest(final))
        temp.rename(target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return final


def read_manifest(root: Path, version: str) -> Manifest:
    """The manifest of the version directory `root`, parsed (its files not checked)."""
    path = root / MANIFEST_NAME
    if not root.is_dir():
        raise ArtifactError(f"model version {version} not found in {root.parent}")
    if not path.is_file():
        raise ArtifactError(f"{version}/{MANIFEST_NAME}: missing")
    manifest = decode_manifest(path.read_bytes(), f"{version}/{MANIFEST_NAME}")
    if manifest.model_version != version:
        raise ArtifactError(
            f"{version}/{MANIFEST_NAME}: names version {manifest.model_version!r}, "
            f"but lives in directory {version!r}"
        )
    return manifest


def _check_file_set(root: Path, version: str, manifest: Manifest) -> None:
    """The directory holds exactly the manifest's files: none missing, none extra."""
    listed = set(manifest.files)
    for rel in sorted(listed):
        if rel.startswith("/") or ".." in rel.split("/") or rel == MANIFEST_NAME:
            raise ArtifactError(f"{version}/{MANIFEST_NAME}: unsafe file path {rel!r}")
    present = set(_payload_files(root))
    for problem, names in (
        (f"missing (listed in {MANIFEST_NAME})", sorted(listed - present)),
        (f"extra file not listed in {MANIFEST_NAME}", sorted(present - listed)),
    ):
        if names:
            more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
            raise ArtifactError(f"{version}/{names[0]}: {problem}{more}")


def _check_digest(version: str, rel: str, actual: str, expected: str) -> None:
    if actual != expected.lower():
        raise ArtifactError(
            f"{version}/{rel}: sha256 mismatch (manifest {expected}, file {actual}); "
            "the file was modified or corrupted after the version was written"
        )


def _load_npy(version: str, rel: str, data: bytes) -> npt.NDArray[np.generic]:
    try:
        array: npt.NDArray[np.generic] = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        raise ArtifactError(f"{version}/{rel}: cannot load without pickle: {exc}") from exc
    return array


def _resolve(models_dir: Path, version: str | None) -> str:
    if version is not None:
        return check_version_name(version)
    current = get_current(models_dir)
    if current is None:
        raise ArtifactError(f"{models_dir}: no current model version (train one first)")
    return current


def verify_version(models_dir: Path, version: str | None = None) -> Manifest:
    """Check a version's manifest and every checksum without loading arrays."""
    name = _resolve(models_dir, version)
    root = models_dir / name
    manifest = read_manifest(root, name)
    _check_file_set(root, name, manifest)
    for rel, expected in manifest.files.items():
        _check_digest(name, rel, sha256_file(root / rel), expected)
    return manifest


def load_version(
    models_dir: Path, version: str | None = None, *, only: Collection[str] | None = None
) -> LoadedVersion:
    """Verify a version (default: the current one) and load its `.npy` arrays.

    Arrays are parsed from the same bytes that were hashed, so what is loaded is
    exactly what was checked. `only` restricts verifying and loading to those files
    (a server needs just the rankers, not a million customers' factors).
    """
    name = _resolve(models_dir, version)
    root = models_dir / name
    manifest = read_manifest(root, name)
    _check_file_set(root, name, manifest)
    arrays: dict[str, npt.NDArray[np.generic]] = {}
    for rel, expected in sorted(manifest.files.items()):
        if only is not None and rel not in only:
            continue
        if rel.endswith(".npy"):
            data = (root / rel).read_bytes()
            _check_digest(name, rel, hashlib.sha256(data).hexdigest(), expected)
            arrays[rel] = _load_npy(name, rel, data)
        else:
            _check_digest(name, rel, sha256_file(root / rel), expected)
    return LoadedVersion(name=name, path=root, manifest=manifest, arrays=arrays)


def get_current(models_dir: Path) -> str | None:
    """The active version's name, or None when no version was ever made current."""
    pointer = models_dir / CURRENT_NAME
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    if not name:
        return None
    return check_version_name(name)


def unset_current(models_dir: Path) -> None:
    """Remove `models/current`: no version is current (undoes a first activation)."""
    (models_dir / CURRENT_NAME).unlink(missing_ok=True)


def set_current(models_dir: Path, version: str, *, verify: bool = True) -> None:
    """Point `models/current` at a version, atomically (temp file + os.replace).

    With `verify` (the default) every checksum is checked first, so the pointer
    never names a broken version.
    """
    check_version_name(version)
    if verify:
        verify_version(models_dir, version)
    elif not (models_dir / version).is_dir():
        raise ArtifactError(f"model version {version} not found in {models_dir}")
    temp = models_dir / f".{CURRENT_NAME}-{uuid.uuid4().hex[:8]}.tmp"
    try:
        _fsync_write(temp, f"{version}\n".encode())
        temp.replace(models_dir / CURRENT_NAME)  # os.replace: atomic on POSIX and Windows
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
