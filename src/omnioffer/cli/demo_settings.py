"""The settings the demo leaves behind, so a plain `omnioffer serve` afterwards serves it.

The demo's history ends on a fixed synthetic date, so its offers have long expired on
the wall clock; the demo serves it with a replay clock (`as_of`) instead. It writes that
clock, its store and its models into `./omnioffer.toml`, which `omnioffer serve` reads
when given no --config and no OMNIOFFER_CONFIG. A file there that the demo did not
write (no MARKER first line) is never touched: the demo then says how to serve it with
flags instead.
"""

from __future__ import annotations

import json
from pathlib import Path

SETTINGS_FILE = Path("omnioffer.toml")  # what `omnioffer serve` reads when told nothing
MARKER = "# written by `omnioffer demo`"


def write_demo_settings(
    path: Path, *, store_url: str, models: Path, as_of: str, experiments: Path | None = None
) -> bool:
    """Write the demo's serving settings to `path` (replacing only a file the demo wrote);
    False when `path` holds someone else's settings and was left alone."""
    if path.exists() and not _ours(path):
        return False
    lines = [
        f"{MARKER}: a plain `omnioffer serve` in this folder serves the demo (delete this",
        "# file, or pass --config, to serve something else). Keys: see the README.",
        f"store_url = {json.dumps(store_url)}",
        f"models_dir = {json.dumps(str(models.resolve()))}",
        "# the demo's history ended on a fixed date: its offers are live on this clock,",
        "# which starts here when the service starts and moves with wall time",
        f"as_of = {json.dumps(as_of)}",
    ]
    if experiments is not None:
        lines.append(f"experiments_file = {json.dumps(str(experiments))}")
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(path)
    return True


def _ours(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().startswith(MARKER)
    except (OSError, UnicodeDecodeError):
        return False
