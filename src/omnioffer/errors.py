"""One exception hierarchy for the whole package; the CLI maps it to exit codes."""

from __future__ import annotations


class OmniofferError(Exception):
    """Base of every error omnioffer raises on purpose."""

    exit_code = 1


class DataError(OmniofferError):
    """Input data violates the data contract or cannot be read (exit code 1)."""

    exit_code = 1


class UsageError(OmniofferError):
    """The command was called wrongly: bad flag value, missing path (exit code 2)."""

    exit_code = 2
