"""A bound on the request's headers (`max_header_bytes`, names and values together):
larger ones get a 431 problem before anything else is looked at.

This is the app's own check, the same for every HTTP implementation uvicorn may run.
uvicorn's h11 parser is given a matching bound (`server.run_uvicorn`), so it stops
reading a head far past it; httptools (the one `omnioffer serve` uses when installed)
has no such setting, so there the check runs once the head has been read.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_431_REQUEST_HEADER_FIELDS_TOO_LARGE

LINE_OVERHEAD = 4  # ": " and CRLF per header line


def header_bytes(headers: Iterable[tuple[bytes, bytes]]) -> int:
    """The size of the header lines as sent: name, value and 4 bytes of punctuation each."""
    return sum(len(name) + len(value) + LINE_OVERHEAD for name, value in headers)


def check_header_size(headers: Iterable[tuple[bytes, bytes]], max_bytes: int) -> None:
    """Raise 431 when the headers take more than `max_bytes`."""
    size = header_bytes(headers)
    if size > max_bytes:
        raise HTTPException(
            status_code=HTTP_431_REQUEST_HEADER_FIELDS_TOO_LARGE,
            detail=f"the request headers take {size} bytes; this service accepts at most "
            f"{max_bytes} (max_header_bytes)",
        )
