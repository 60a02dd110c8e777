"""`omnioffer versions` and `omnioffer activate`: the registry from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from omnioffer.errors import UsageError
from omnioffer.registry import get_current, list_versions, set_current


def run_versions(models_dir: Path, out: TextIO = sys.stdout) -> int:
    if not models_dir.is_dir():
        raise UsageError(f"{models_dir} is not a model registry folder")
    versions = list_versions(models_dir)
    if not versions:
        print(f"no model versions in {models_dir}", file=out)
        return 0
    for info in versions:
        mark = "*" if info.current else " "
        primary = "  ".join(f"{k} {v:.4f}" for k, v in sorted(info.primary.items()))
        problem = f"  BROKEN: {info.problem}" if info.problem else ""
        print(f"{mark} {info.name}  {info.created_at}  {primary}{problem}", file=out)
    return 0


def run_activate(models_dir: Path, version: str, out: TextIO = sys.stdout) -> int:
    previous = get_current(models_dir)
    set_current(models_dir, version)
    print(f"current model version: {version} (was {previous or 'none'})", file=out)
    return 0
