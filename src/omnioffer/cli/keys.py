"""`omnioffer keys create|list|revoke`: the API keys file the service checks.

The file is --keys-file, else OMNIOFFER_KEYS_FILE, else ./omnioffer-keys.json. A new
key is printed once and never stored (only its hash is); `--rate`/`--burst` give it a
rate limit of its own.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from omnioffer.api_keys import SCOPES, ApiKey, KeyFile
from omnioffer.cli.args import Subparsers, channel_list

DEFAULT_FILE = "omnioffer-keys.json"


def _file(args: argparse.Namespace) -> Path:
    return Path(args.keys_file or os.environ.get("OMNIOFFER_KEYS_FILE") or DEFAULT_FILE)


def cmd_keys_create(args: argparse.Namespace) -> int:
    keys = KeyFile.read(_file(args))
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    key = keys.create(args.name, scopes, args.key_channels or (), rate_per_s=args.rate,
                      burst=args.burst)  # fmt: skip
    keys.write()
    print(key)
    print(f"(shown once: only its hash is kept, in {keys.path})")
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    keys = KeyFile.read(_file(args))
    if not keys.keys:
        print(f"no API keys in {keys.path}")
    for k in keys.keys.values():
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        where = ",".join(k.channels) or "all channels"
        print(f"{k.key_id}  {k.name}  {','.join(k.scopes)}  {where}  {_limit(k)}  "
              f"created {k.created_at}  {state}")  # fmt: skip
    return 0


def _limit(key: ApiKey) -> str:
    if key.rate_per_s is None:
        return "default rate limit"
    if key.rate_per_s == 0:
        return "no rate limit"
    burst = f", burst {key.burst}" if key.burst is not None else ""
    return f"{key.rate_per_s:g}/s{burst}"


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    keys = KeyFile.read(_file(args))
    keys.revoke(args.key_id)
    keys.write()
    print(f"revoked {args.key_id}: refused by every worker within model_poll_s")
    return 0


def add_keys(sub: Subparsers) -> None:
    p = sub.add_parser("keys", help="create, list or revoke API keys")
    actions = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="a new key, printed once")
    create.add_argument("--name", required=True, help="who or what uses it")
    create.add_argument("--scopes", required=True, help=f"comma-separated: {', '.join(SCOPES)}")
    create.add_argument("--channels", dest="key_channels", type=channel_list, default=None,
                        help="limit it to these channels (default: all)")  # fmt: skip
    create.add_argument("--rate", type=float, default=None,
                        help="its own limit, requests/s per worker (default: the service's "
                        "rate_limit_per_s; 0: none)")  # fmt: skip
    create.add_argument("--burst", type=int, default=None,
                        help="its bucket size, with --rate (default: 1 s worth)")  # fmt: skip
    create.set_defaults(handler=cmd_keys_create)
    listing = actions.add_parser("list", help="every key, with its scopes and state")
    listing.set_defaults(handler=cmd_keys_list)
    revoke = actions.add_parser("revoke", help="refuse a key from now on")
    revoke.add_argument("key_id", help="the id `keys list` shows (after oo_)")
    revoke.set_defaults(handler=cmd_keys_revoke)
    for q in (create, listing, revoke):
        q.add_argument("--keys-file", default=None, help=f"default {DEFAULT_FILE}")
