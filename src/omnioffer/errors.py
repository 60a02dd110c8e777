"""One exception hierarchy for the whole package (usage, data, input, not found; the
store's errors derive from it in store/base.py). The CLI maps it to exit codes, the
HTTP layer to problem responses (api/errors.py); the stages raise it and know no HTTP."""

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


class PolicyRefusedError(UsageError):
    """A running service refused a changed [policy] and kept the one in force (HTTP 422)."""


class InputError(OmniofferError):
    """A request is well-formed JSON of the right types but semantically wrong (HTTP 422).

    `field` is the JSON path of the offending value, e.g. "$.events[3].item_id".
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(OmniofferError):  # noqa: N818 (public name, read as "404 Not Found")
    """The addressed resource (an item, a decision) does not exist (HTTP 404)."""


class VersionMismatch(OmniofferError):  # noqa: N818 (public name, read as "412")
    """A write named a version (`If-Match`) that is no longer the current one (HTTP 412)."""
