"""Browser fixtures: one Chromium per run, a fresh context per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from rapport.config import Settings
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, SIZES
from tests.fixtures.server import LiveServer, serve

# Assertions wait for the page to reach the expected state; Playwright's 5 s default is too short
# when every core runs a test worker beside Chromium and its server (CI once saw a click's
# navigation take longer). A wrong state still fails, only later.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, launched once."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A page in its own browser context (its own cookies), desktop-sized."""
    context = await browser.new_context(viewport={"width": 1360, "height": 860})
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture(params=sorted(SIZES))
async def sized(request: pytest.FixtureRequest, browser: Browser) -> AsyncIterator[Page]:
    """A page in its own context, at a desktop's or a phone's size."""
    phone = request.param == "phone"
    context = await browser.new_context(
        viewport=SIZES[request.param], is_mobile=phone, has_touch=phone
    )
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
def working_server(settings: Settings) -> Iterator[LiveServer]:
    """A live server whose worker runs the jobs (the assistant's turns)."""
    with serve(settings.model_copy(update={"run_worker": True})) as server:
        yield server
