"""Swagger UI at /docs, from npm's swagger-ui-dist: no CDN, no inline script."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/vendor/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""


@router.get("/docs")
async def api_docs(request: Request) -> HTMLResponse:
    """Show the interactive API documentation of the published OpenAPI document."""
    return HTMLResponse(
        DOCS_PAGE.format(
            title=escape(request.app.title), openapi_url=escape(request.app.openapi_url or "")
        )
    )
