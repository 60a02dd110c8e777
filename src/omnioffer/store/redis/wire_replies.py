"""Error replies as redis-py 8's exceptions: the same class, message and status code that
redis-py's reply parser makes of each (tests/unit/store/redis/test_wire_options.py checks
the table against redis-py's), from redis-py's public exception classes only.

`translate_errors` sorts these into StoreUnavailable and StoreError, so a class here
decides whether a caller degrades (LOADING, READONLY, OOM, max clients...) or sees a bug.
"""

from __future__ import annotations

from collections.abc import Mapping

from redis import exceptions as rx

# An ERR reply is a plain ResponseError unless its whole message is one of these.
_ERR: Mapping[str, type[rx.RedisError]] = {
    "max number of clients reached": rx.ConnectionError,
    "invalid password": rx.AuthenticationError,
    "wrong number of arguments for 'auth' command": rx.AuthenticationWrongNumberOfArgsError,
    "wrong number of arguments for 'AUTH' command": rx.AuthenticationWrongNumberOfArgsError,
    "Error loading the extension. Please check the server logs.": rx.ModuleError,
    "Error unloading module: the module exports one or more module-side data types, "
    "can't unload": rx.ModuleError,
    "Error unloading module: no such module with that name": rx.ModuleError,
    "Error unloading module: operation not possible.": rx.ModuleError,
    "AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?": rx.AuthenticationError,
    "Client sent AUTH, but no password is set": rx.AuthenticationError,
    "problem with LDAP service": rx.ExternalAuthProviderError,
    "no such fieldset": rx.NoSuchFieldsetError,
}

# The other error codes with a class of their own; any code not here: ResponseError.
_CODES: Mapping[str, type[rx.RedisError]] = {
    "OOM": rx.OutOfMemoryError,
    "WRONGPASS": rx.AuthenticationError,
    "EXECABORT": rx.ExecAbortError,
    "LOADING": rx.BusyLoadingError,
    "NOSCRIPT": rx.NoScriptError,
    "READONLY": rx.ReadOnlyError,
    "NOAUTH": rx.AuthenticationError,
    "NOPERM": rx.NoPermissionError,
    "ASK": rx.AskError,
    "TRYAGAIN": rx.TryAgainError,
    "MOVED": rx.MovedError,
    "CLUSTERDOWN": rx.ClusterDownError,
    "CROSSSLOT": rx.ClusterCrossSlotError,
    "MASTERDOWN": rx.MasterDownError,
}


def reply_error(reply: str) -> rx.RedisError:
    """The exception for one error reply ("CODE message"): known codes lose their code
    from the message and keep it as status_code, as in redis-py."""
    code = reply.split(" ", maxsplit=1)[0]
    if code == "ERR":
        message = reply[len(code) + 1 :]
        return _ERR.get(message, rx.ResponseError)(message, status_code=code)
    kind = _CODES.get(code)
    if kind is None:
        return rx.ResponseError(reply)
    return kind(reply[len(code) + 1 :], status_code=code)


def connect_error(where: str, exc: BaseException) -> str:
    """redis-py's message for a failed connect or socket option ("Error 111 connecting
    to host:port. Connection refused.")."""
    if not exc.args:
        return f"Error connecting to {where}."
    if len(exc.args) == 1:
        return f"Error {exc.args[0]} connecting to {where}."
    return f"Error {exc.args[0]} connecting to {where}. {exc.args[1]}."
