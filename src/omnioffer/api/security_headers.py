"""Security headers on every answer the app sends (a `before_send` hook, so 404s of
unrouted paths, refusals and CORS preflights get them too):

- `X-Content-Type-Options: nosniff` everywhere, so no answer is ever run as a script
  or a page because of what it contains;
- `Cache-Control: no-store` on everything but the API document and its viewer:
  decisions, recommendations, events and feedback answers, and the errors of those
  routes, carry personal data that no browser or shared cache should keep;
- on HTML pages (the API viewer), `Referrer-Policy: no-referrer` and a
  Content-Security-Policy that lets the page load scripts, styles, images and data
  from this service only (the viewer's assets are served locally, `docs_ui`), never
  be framed, and post no forms.
"""

from __future__ import annotations

from litestar.types import Message, Scope

from omnioffer.api.docs_ui import DOCS_PATH

HTML_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_NO_STORE = (b"cache-control", b"no-store")
_HTML = ((b"referrer-policy", b"no-referrer"), (b"content-security-policy", HTML_CSP.encode()))


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Litestar `before_send` hook: add the headers to the start of every HTTP answer."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers") or ())
    html = has_cache_control = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-type":
            html = value.startswith(b"text/html")
        elif lowered == b"cache-control":
            has_cache_control = True
    headers.append(_NOSNIFF)
    path = str(scope.get("path", ""))
    if not has_cache_control and not (path == DOCS_PATH or path.startswith(DOCS_PATH + "/")):
        headers.append(_NO_STORE)
    if html:
        headers.extend(_HTML)
    message["headers"] = headers
