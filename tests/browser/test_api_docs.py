"""/docs in a real Chromium with no network beyond the server: Swagger UI still renders."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, Route, expect

from tests.fixtures.browser import watch
from tests.fixtures.server import LiveServer


async def test_docs_render_every_operation_offline_under_the_csp(
    page: Page, live_server: LiveServer
) -> None:
    document = httpx.get(f"{live_server.url}/openapi.json", timeout=60).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    elsewhere: list[str] = []

    async def offline(route: Route) -> None:
        if route.request.url.startswith(f"{live_server.url}/"):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")

    await page.route("**/*", offline)
    problems = await watch(page)
    await page.goto(f"{live_server.url}/docs")
    await expect(page.locator(".opblock")).to_have_count(operations)
    await expect(page.locator(".information-container .title")).to_contain_text("Rapport")
    await page.locator("#operations-identity-read_me_api_v1_me_get").click()
    await expect(page.get_by_text("NotSignedIn", exact=False)).to_be_visible()
    assert elsewhere == []
    assert await problems.all(page) == []
