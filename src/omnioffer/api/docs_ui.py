"""The API document and its viewer, served by the app alone: no CDN, no inline script.

Litestar's viewer plugins load their JavaScript and CSS from public CDNs. Here the
only viewer is Swagger UI, whose files come from the `swagger-ui-bundle-v2` package
and are served under `/schema/assets/` (an allow-list of names, nothing else of the
package's folder); the page starts it with a script of ours (`docs_assets/`), so the
Content-Security-Policy of HTML pages (`security_headers`) can allow scripts from
this service only. ReDoc, Stoplight Elements and RapiDoc are not offered: no package
ships their files without pulling another web framework in. The document itself is
at `/schema/openapi.json` and `/schema/openapi.yaml`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Router, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.params import Parameter
from litestar.response import File
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/schema"  # the document, its viewer and the viewer's assets
ASSETS_PATH = "/assets"  # under DOCS_PATH
_SWAGGER = Path(swagger_ui_path)
_OWN = Path(__file__).with_name("docs_assets")
ASSETS: Mapping[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (_SWAGGER / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_SWAGGER / "swagger-ui.css", "text/css"),
    "favicon-32x32.png": (_SWAGGER / "favicon-32x32.png", "image/png"),
    "swagger-init.js": (_OWN / "swagger-init.js", "text/javascript"),
    "docs.css": (_OWN / "docs.css", "text/css"),
}


@get(f"{ASSETS_PATH}/{{name:str}}", sync_to_thread=False, include_in_schema=False)
def docs_asset(name: Annotated[str, Parameter(max_length=100)]) -> File:
    """One file of the viewer, by its name in ASSETS."""
    found = ASSETS.get(name)
    if found is None:
        raise NotFoundException(f"no asset {name!r}")
    path, media_type = found
    return File(path=path, media_type=media_type, content_disposition_type="inline")


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI over the app's own document, every asset from the app itself."""

    def __init__(self, path: str | Sequence[str] = "/swagger") -> None:
        super().__init__(path=path, favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        assets = f"{DOCS_PATH}{ASSETS_PATH}"
        spec = html.escape(self.get_openapi_json_route(request))
        title = html.escape(str(openapi_schema["info"]["title"]))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="stylesheet" href="{assets}/docs.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js" data-spec="{spec}"></script>
</body>
</html>
""".encode()

    def receive_router(self, router: Router) -> None:
        router.register(docs_asset)


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """The viewer (also at the document path's root) and the document as JSON and YAML."""
    return [LocalSwaggerPlugin(), JsonRenderPlugin(), YamlRenderPlugin()]
