"""The one place exceptions become RFC 7807 problem bodies (application/problem+json).

Every error answer has the same shape, so clients can show `errors[].field` (a JSON
path into their own request, e.g. "$.events[0].quantity") next to the bad value.
Litestar reports body errors at "$.data..." (the handler's `data` argument); that
prefix is removed so paths point into the request body itself.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    SerializationException,
    ValidationException,
)
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap

from omnioffer.contracts.http import member_path
from omnioffer.errors import InputError, NotFound, PolicyRefusedError, VersionMismatch
from omnioffer.store.base import NothingMaterialized, StoreUnavailable

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://omnioffer.dev/problems/"

logger = logging.getLogger("omnioffer.api")

_AT_PATH = re.compile(r"^(?P<message>.*) - at `(?P<path>\$[^`]*)`$", re.DOTALL)
_NAMED_FIELD = re.compile(
    r"^Object (?:missing required|contains unknown) field `(?P<name>.*)`$", re.DOTALL
)
_BODY_ROOT = "$.data"  # where Litestar puts the request body in its own paths


class FieldError(msgspec.Struct):
    field: str  # JSON path into the request, "$" for the whole body
    message: str


class Problem(msgspec.Struct, kw_only=True):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []


def _problem(
    slug: str, title: str, status: int, detail: str, errors: list[FieldError] | None = None
) -> Problem:
    return Problem(
        type=PROBLEM_BASE + slug, title=title, status=status, detail=detail, errors=errors or []
    )


def _malformed(detail: str) -> Problem:
    return _problem(
        "malformed-json", "malformed JSON", HTTP_400_BAD_REQUEST, detail, [FieldError("$", detail)]
    )


def _field_error(message: str, path: str) -> FieldError:
    """A "missing/unknown field `x`" error at `path` is really about `path.x`."""
    named = _NAMED_FIELD.match(message)
    return FieldError(member_path(named["name"], path) if named else path, message)


def _body_path(raw: str) -> str:
    """Litestar's "$.data.k" (body) is the client's "$.k"; "$.k" (query, path) stays."""
    if raw == _BODY_ROOT:
        return "$"
    if raw.startswith((_BODY_ROOT + ".", _BODY_ROOT + "[")):
        return "$" + raw[len(_BODY_ROOT) :]
    return raw


def _from_msgspec(text: str) -> FieldError:
    at = _AT_PATH.match(text)
    message, raw = (at["message"], at["path"]) if at else (text, "$")
    return _field_error(message, _body_path(raw))


def _from_extra(item: Any) -> FieldError:
    """Fallback when the msgspec error is not at hand: Litestar's {key, message, source}."""
    if not isinstance(item, dict):
        return FieldError("$", str(item))
    key, message = str(item.get("key") or ""), str(item.get("message", "invalid value"))
    if not key or (item.get("source") == "body" and key == "data"):
        return _field_error(message, "$")
    return _field_error(message, "$" + key if key.startswith("[") else "$." + key)


def _validation_problem(exc: ValidationException) -> Problem:
    cause = exc.__cause__
    if isinstance(cause, msgspec.ValidationError) and not hasattr(cause, "errors"):
        text = str(cause)
        if text == "Object missing required field `data`":  # nothing was sent at all
            return _malformed("the request body is empty; expected a JSON object")
        errors = [_from_msgspec(text)]
    else:
        extra = exc.extra if isinstance(exc.extra, list) else []
        errors = [_from_extra(item) for item in extra] or [FieldError("$", exc.detail)]
    first = errors[0]
    detail = f"{first.message} (at {first.field})"
    return _problem("invalid-request", "invalid request", HTTP_400_BAD_REQUEST, detail, errors)


def _http_problem(exc: HTTPException) -> Problem:
    if isinstance(exc, ValidationException):
        return _validation_problem(exc)
    if isinstance(exc, ClientException) and isinstance(exc.__cause__, SerializationException):
        return _malformed(f"the request body is not valid JSON: {exc.detail}")
    if isinstance(exc, NotFoundException):
        return _problem("not-found", "not found", HTTP_404_NOT_FOUND, "no route matches this path")
    if isinstance(exc, MethodNotAllowedException):
        detail = "this path does not support the request method"
        return _problem("method-not-allowed", "method not allowed", exc.status_code, detail)
    if exc.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        detail = "the request body is larger than this server accepts"
        errors = [FieldError("$", detail)]
        return _problem("payload-too-large", "payload too large", exc.status_code, detail, errors)
    return status_problem(exc.status_code, exc.detail)


def status_problem(status: int, detail: str | None = None) -> Problem:
    """A problem named for its HTTP status: slug and title from the status phrase (429:
    `too-many-requests`, 415: `unsupported-media-type`)."""
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = "bad request"
    return _problem(phrase.replace(" ", "-"), phrase, status, detail or phrase)


def _internal() -> Problem:
    detail = "an unexpected error occurred; it has been logged"
    return _problem("internal-error", "internal error", HTTP_500_INTERNAL_SERVER_ERROR, detail)


def _domain_problem(exc: Exception) -> tuple[Problem, dict[str, str]] | None:
    """The omnioffer exceptions the Decider raises on purpose."""
    if isinstance(exc, VersionMismatch):
        return _problem("version-mismatch", "precondition failed", 412, str(exc)), {}
    return _store_or_input_problem(exc)


def _store_or_input_problem(exc: Exception) -> tuple[Problem, dict[str, str]] | None:
    if isinstance(exc, InputError):
        errors = [FieldError(exc.field, exc.message)]
        detail = f"{exc.message} (at {exc.field})"
        status = HTTP_422_UNPROCESSABLE_ENTITY
        return _problem("invalid-input", "invalid input", status, detail, errors), {}
    if isinstance(exc, PolicyRefusedError):
        status = HTTP_422_UNPROCESSABLE_ENTITY
        return _problem("policy-refused", "policy refused", status, str(exc)), {}
    if isinstance(exc, NotFound):
        return _problem("not-found", "not found", HTTP_404_NOT_FOUND, str(exc) or "not found"), {}
    if isinstance(exc, NothingMaterialized):  # retrying will not help: say what will
        status = HTTP_503_SERVICE_UNAVAILABLE
        return _problem("not-materialized", "service unavailable", status, str(exc)), {}
    if isinstance(exc, StoreUnavailable):
        detail = "the feature store is temporarily unavailable; retry shortly"
        status = HTTP_503_SERVICE_UNAVAILABLE
        return _problem("store-unavailable", "service unavailable", status, detail), {
            "Retry-After": "1"
        }
    return None


def _undecodable_body(exc: Exception) -> Problem | None:
    """Body decoding failures Litestar does not wrap (msgspec lets these through as is)."""
    if isinstance(exc, UnicodeDecodeError):
        return _malformed("the request body is not valid UTF-8")
    if isinstance(exc, RecursionError) and "deserializ" in str(exc):
        return _malformed("the request body is nested too deeply")
    return None


def problem_for(exc: Exception) -> tuple[Problem, dict[str, str]]:
    """The problem body and extra headers for `exc` (the single exception-to-HTTP mapping)."""
    if (domain := _domain_problem(exc)) is not None:
        return domain
    if (undecodable := _undecodable_body(exc)) is not None:
        return undecodable, {}
    if isinstance(exc, HTTPException) and exc.status_code < HTTP_500_INTERNAL_SERVER_ERROR:
        return _http_problem(exc), dict(exc.headers or {})
    return _internal(), {}


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=msgspec.json.encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers or {},
    )


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Litestar exception handler: log what the operator must see, answer with a problem."""
    problem, headers = problem_for(exc)
    # the route's template, not the path: a path can hold a customer id (/v1/customers/...)
    route = request.scope.get("path_template") or request.url.path
    if problem.status == HTTP_503_SERVICE_UNAVAILABLE:
        logger.warning("store unavailable on %s %s: %s", request.method, route, exc)
    elif problem.status >= HTTP_500_INTERNAL_SERVER_ERROR:
        logger.error("unhandled error on %s %s", request.method, route, exc_info=exc)
    return problem_response(problem, headers)


def exception_handlers() -> ExceptionHandlersMap:
    """Every exception goes through `handle_exception` (Litestar resolves by MRO)."""
    return {Exception: handle_exception}
