"""The registry's versions as `omnioffer versions` lists them, with a headline number each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omnioffer.contracts.artifact import ArtifactError, Manifest
from omnioffer.registry import get_current, read_manifest

# The headline number per task that `list_versions` shows for the served model.
PRIMARY_METRICS: dict[str, str] = {"items": "ndcg@10", "offers": "ndcg@5"}
PRIMARY_MODEL = "ranker"


@dataclass(frozen=True)
class VersionInfo:
    """One row of `list_versions`; `problem` is set when the manifest cannot be read."""

    name: str
    created_at: str | None
    current: bool
    primary: dict[str, float]
    problem: str | None = None


def _primary(manifest: Manifest) -> dict[str, float]:
    model_metrics = {t: m.get(PRIMARY_MODEL, {}) for t, m in manifest.metrics.items()}
    return {
        f"{task}/{metric}": model_metrics[task][metric]
        for task, metric in PRIMARY_METRICS.items()
        if metric in model_metrics.get(task, {})
    }


def list_versions(models_dir: Path) -> list[VersionInfo]:
    """Every version directory, oldest first (names sort by time), manifests not verified.

    A directory whose manifest cannot be read is listed with `problem` set, so a
    broken version is visible rather than silently skipped.
    """
    if not models_dir.is_dir():
        return []
    current = get_current(models_dir)
    infos: list[VersionInfo] = []
    for entry in sorted(models_dir.iterdir()):
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        try:
            manifest = read_manifest(entry, entry.name)
        except ArtifactError as exc:
            infos.append(VersionInfo(entry.name, None, entry.name == current, {}, str(exc)))
            continue
        infos.append(
            VersionInfo(entry.name, manifest.created_at, entry.name == current, _primary(manifest))
        )
    return infos
