"""Contract problems: one located finding each, and the error that carries them.

Every problem names a file, a 1-based data row (0 for the file or its header) and a
column ("-" for none), so a user can jump straight to the bad cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from omnioffer.errors import DataError

NO_COLUMN = "-"
FILE_ROW = 0


@dataclass(frozen=True, order=True)
class Problem:
    """One contract violation at `file:row:column` (row 1 = first data row)."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.message}"


class ContractViolation(DataError):  # noqa: N818 (the contract's own name for it)
    """Input data breaks the contract; `problems` holds the first few, `total` counts all."""

    def __init__(self, problems: list[Problem], total: int) -> None:
        self.problems = problems
        self.total = total
        shown = "\n".join(str(p) for p in problems)
        more = total - len(problems)
        tail = f"\n... and {more} more problems ({total} in total)" if more > 0 else ""
        super().__init__(f"data contract violated ({total} problems):\n{shown}{tail}")
