"""Argument types and flags shared by the command groups, and the handler signature."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TypeAlias

from omnioffer.contracts.schema import DEFAULT_CHANNELS

Handler = Callable[[argparse.Namespace], int]
# argparse's class is not subscriptable at run time, so the alias is a string
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def channel_list(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of channel names")
    return names


def default_channels() -> str:
    return os.environ.get("OMNIOFFER_CHANNELS", ",".join(DEFAULT_CHANNELS))


def store_flag(p: argparse.ArgumentParser) -> None:
    """`--store` of the commands that work on the feature store."""
    p.add_argument(
        "--store",
        default=None,
        help="feature store URL: redis://host:port/db or sqlite:///path "
        "(env OMNIOFFER_STORE_URL; default: the embedded ./omnioffer-store.sqlite)",
    )


def strict_flag(p: argparse.ArgumentParser) -> None:
    """`--strict` of validate and train."""
    p.add_argument(
        "--strict",
        action="store_true",
        help="refuse references between tables that do not resolve, repeated event ids and"
        " backwards offer windows, instead of dropping those rows",
    )
