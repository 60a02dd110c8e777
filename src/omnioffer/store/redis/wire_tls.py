"""TLS for `wire` (rediss:// URLs): the ssl_* query options and the SSLContext redis-py 8
builds from them, with its defaults (certificates required, host names checked)."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass

TLS_QUERY = frozenset(
    {
        "ssl_keyfile",
        "ssl_certfile",
        "ssl_cert_reqs",
        "ssl_include_verify_flags",
        "ssl_exclude_verify_flags",
        "ssl_ca_certs",
        "ssl_ca_data",
        "ssl_ca_path",
        "ssl_check_hostname",
        "ssl_min_version",
        "ssl_ciphers",
        "ssl_password",
    }
)
_CERT_REQS = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
_FALSE = ("0", "F", "FALSE", "N", "NO")


def to_bool(value: str) -> bool:
    """A boolean query option, as redis-py's to_bool reads one (blank values never get here)."""
    return value.upper() not in _FALSE


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """redis-py's SSLConnection options, as its RedisSSLContext holds them."""

    cert_reqs: ssl.VerifyMode = ssl.CERT_REQUIRED
    check_hostname: bool = True  # always False when cert_reqs is CERT_NONE
    keyfile: str | None = None
    certfile: str | None = None
    password: str | None = None
    ca_certs: str | None = None
    ca_data: str | None = None
    ca_path: str | None = None
    include_verify_flags: tuple[ssl.VerifyFlags, ...] = ()
    exclude_verify_flags: tuple[ssl.VerifyFlags, ...] = ()
    min_version: int | None = None
    ciphers: str | None = None


def tls_options(query: Mapping[str, str]) -> TlsOptions | None:
    """The ssl_* options of a URL (values as parse_qs gives them); None where redis-py
    refuses them when it first connects (an unknown ssl_cert_reqs). ValueError where
    redis-py's from_url raises one."""
    cert_reqs = _CERT_REQS.get(query.get("ssl_cert_reqs", "required"))
    if cert_reqs is None:
        return None
    check = query.get("ssl_check_hostname")
    min_version = query.get("ssl_min_version")
    return TlsOptions(
        cert_reqs=cert_reqs,
        check_hostname=(check is None or to_bool(check)) and cert_reqs != ssl.CERT_NONE,
        keyfile=query.get("ssl_keyfile"),
        certfile=query.get("ssl_certfile"),
        password=query.get("ssl_password"),
        ca_certs=query.get("ssl_ca_certs"),
        ca_data=query.get("ssl_ca_data"),
        ca_path=query.get("ssl_ca_path"),
        include_verify_flags=_flags(query.get("ssl_include_verify_flags")),
        exclude_verify_flags=_flags(query.get("ssl_exclude_verify_flags")),
        min_version=None if min_version is None else _int(min_version, "ssl_min_version"),
        ciphers=query.get("ssl_ciphers"),
    )


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Invalid value for '{name}' in connection URL.") from None


def _flags(value: str | None) -> tuple[ssl.VerifyFlags, ...]:
    """ "[VERIFY_X509_STRICT, VERIFY_X509_PARTIAL_CHAIN]" (brackets optional), as redis-py."""
    if value is None:
        return ()
    flags = []
    for name in value.replace("[", "").replace("]", "").split(","):
        flag = getattr(ssl.VerifyFlags, name.strip(), None)
        if not isinstance(flag, ssl.VerifyFlags):
            raise ValueError(f"Invalid ssl verify flag: {name.strip()}")
        flags.append(flag)
    return tuple(flags)


class TlsContext:
    """Makes the SSLContext on first use (at connect time, as redis-py) and keeps it."""

    def __init__(self, options: TlsOptions) -> None:
        self.options = options
        self._context: ssl.SSLContext | None = None

    def __call__(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = self._make()
        return self._context

    def _make(self) -> ssl.SSLContext:
        opts = self.options
        context = ssl.create_default_context()
        context.check_hostname = opts.check_hostname
        context.verify_mode = opts.cert_reqs
        for flag in opts.include_verify_flags:
            context.verify_flags |= flag
        for flag in opts.exclude_verify_flags:
            context.verify_flags &= ~flag
        if opts.certfile or opts.keyfile:
            context.load_cert_chain(opts.certfile, opts.keyfile, opts.password)  # type: ignore[arg-type]
        if opts.ca_certs or opts.ca_data or opts.ca_path:
            context.load_verify_locations(opts.ca_certs, opts.ca_path, opts.ca_data)
        if opts.min_version is not None:
            context.minimum_version = opts.min_version  # type: ignore[assignment]
        if opts.ciphers is not None:
            context.set_ciphers(opts.ciphers)
        return context
