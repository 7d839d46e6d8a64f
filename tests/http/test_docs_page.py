"""/docs works offline: Swagger UI from npm's swagger-ui-dist, same-origin only, strict CSP."""

from __future__ import annotations

import re

import httpx

ASSET = re.compile(r'(?:src|href)="([^"]*)"')


async def test_docs_page_references_only_same_origin_files(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert ASSET.findall(response.text) == [
        "/static/favicon.svg",
        "/static/vendor/swagger-ui.css",
        "/static/vendor/swagger-ui-bundle.js",
        "/static/docs.js",
    ]
    assert '<div id="swagger-ui" data-openapi-url="/openapi.json">' in response.text
    assert "<script>" not in response.text and "<style" not in response.text


async def test_docs_files_are_served(client: httpx.AsyncClient) -> None:
    expected = {
        "/static/vendor/swagger-ui.css": "text/css; charset=utf-8",
        "/static/vendor/swagger-ui-bundle.js": "text/javascript; charset=utf-8",
        "/static/docs.js": "text/javascript; charset=utf-8",
    }
    for path, content_type in expected.items():
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == content_type, path
    bundle = await client.get("/static/vendor/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.content


async def test_docs_policy_allows_no_other_origin_and_no_inline_script(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/docs")
    assert response.headers["content-security-policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


async def test_redoc_is_not_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/redoc")
    assert response.status_code == 404
