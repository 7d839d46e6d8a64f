"""Static assets: the console's own files and HTMX straight from node_modules."""

from __future__ import annotations

from pathlib import Path

import httpx

from rapport.app import create_app
from rapport.config import Settings
from rapport.core.db import Database
from rapport.web.console.assets import PROJECT_DIR


async def test_htmx_is_served_from_node_modules(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/vendor/htmx.min.js")
    installed = PROJECT_DIR / "node_modules/htmx.org/dist/htmx.min.js"
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.content == installed.read_bytes()


async def test_missing_front_end_library_is_a_clear_404(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    app = create_app(settings.model_copy(update={"assets_dir": tmp_path}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 404
    assert response.text == (
        "htmx.min.js is not installed: run `make setup` (it runs `npm ci`) and reload."
    )


async def test_console_stylesheet_and_script_are_served(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/console.css")
    script = await client.get("/static/console.js")
    assert (css.status_code, script.status_code) == (200, 200)
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert "htmx:configRequest" in script.text


async def test_sign_in_page_has_no_inline_script_or_style(client: httpx.AsyncClient) -> None:
    page = (await client.get("/console/sign-in")).text
    assert "<style" not in page
    assert " style=" not in page
    assert "<script>" not in page
    assert page.count("<script src=") == 2
