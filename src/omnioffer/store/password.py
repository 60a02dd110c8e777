"""The Redis password from outside the store URL: a setting (OMNIOFFER_STORE_PASSWORD)
or a file (OMNIOFFER_STORE_PASSWORD_FILE, e.g. a mounted secret), so it need not sit
in a URL that scripts, shells and process lists show."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

from omnioffer.errors import UsageError

ENV, ENV_FILE = "OMNIOFFER_STORE_PASSWORD", "OMNIOFFER_STORE_PASSWORD_FILE"


def store_password(password: str | None, file: str | None) -> str | None:
    """The password given directly or in a file (its first line); UsageError for both,
    or for a file that is missing or empty."""
    if password and file:
        raise UsageError("store_password and store_password_file: give one of them, not both")
    if not file:
        return password or None
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"store_password_file {file}: cannot read it ({exc.strerror})") from None
    if not lines or not lines[0].strip():
        raise UsageError(f"store_password_file {file}: the file is empty")
    return lines[0].strip()


def password_from_env(env: Mapping[str, str]) -> str | None:
    """store_password from the environment (for CLI commands that take --store)."""
    return store_password(env.get(ENV) or None, env.get(ENV_FILE) or None)


def with_password(url: str, password: str | None) -> str:
    """`url` with the password in its netloc, unless it has one there or as ?password=
    already (the URL's own wins, as a more specific setting)."""
    parts = urlsplit(url)
    if not password or parts.password is not None or "password" in parse_qs(parts.query):
        return url
    user = quote(parts.username or "", safe="")
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{parts.netloc}"))
