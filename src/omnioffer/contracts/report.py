"""`omnioffer validate DIR`: print the problems (or the summary) and pick the exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from omnioffer.contracts.schema import DEFAULT_CHANNELS
from omnioffer.contracts.summary import format_summary
from omnioffer.contracts.validate import validate_dir
from omnioffer.errors import UsageError


def run_validate(
    data_dir: Path,
    *,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    max_problems: int = 50,
    out: TextIO = sys.stdout,
) -> int:
    """Print one `file:row:column: message` line per problem and return 1, or the summary and 0.

    A missing directory is a usage error (exit 2), not a data problem.
    """
    if not data_dir.is_dir():
        raise UsageError(f"data directory not found: {data_dir}")
    result = validate_dir(data_dir, channels=channels, max_problems=max_problems)
    for problem in result.problems:
        print(problem, file=out)
    if result.total > len(result.problems):
        more = result.total - len(result.problems)
        print(f"... and {more} more problems ({result.total} in total)", file=out)
    if result.total:
        return 1
    if result.summary is not None:
        print(format_summary(result.summary), file=out)
    return 0
