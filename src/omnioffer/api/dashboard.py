"""The experiments dashboard: `GET /dashboard`, a page of this package's own HTML, CSS
and JavaScript (`dashboard_assets/`, served under `/dashboard/assets/`; no CDN, no
inline script or style, so the strict Content-Security-Policy of HTML pages holds).

The page and its assets hold no data and are open, like the API document. The data
comes from admin-scoped routes the page's script calls: `GET /v1/experiments` (the
definitions) and each experiment's results route, sending
the admin key typed into the page (kept in the tab's sessionStorage) when the service
checks keys. docs/experiments.md ("Dashboard") shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from litestar import Router, get
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import File

DASHBOARD_PATH = "/dashboard"
_OWN = Path(__file__).with_name("dashboard_assets")
ASSETS: Mapping[str, str] = {
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
}


@get("/", sync_to_thread=False, include_in_schema=False)
def page() -> File:
    return File(path=_OWN / "index.html", media_type="text/html",
                content_disposition_type="inline")  # fmt: skip


@get("/assets/{name:str}", sync_to_thread=False, include_in_schema=False)
def asset(name: Annotated[str, Parameter(max_length=100)]) -> File:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFoundException(f"no asset {name!r}")
    return File(path=_OWN / name, media_type=media_type, content_disposition_type="inline")


DASHBOARD = Router(path=DASHBOARD_PATH, route_handlers=[page, asset],
                   tags=["experiments"])  # fmt: skip
