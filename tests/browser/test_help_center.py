"""The public help center on a 390 px phone: search, read an article, switch its language; a
German phone gets the German help center without choosing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from rapport.core.db import Database
from tests.fixtures.browser import watch
from tests.fixtures.identity import make_workspace
from tests.fixtures.knowledge import make_article
from tests.fixtures.server import LiveServer

PHONE = {"width": 390, "height": 844}
LONG_BODY = (
    "Returns are free within 30 days.\n\n"
    "| Country | Days | Label |\n|---|---|---|\n| Germany | 30 | free |\n\n"
    "See https://example.com/a-very-long-address-that-must-wrap-somewhere-on-a-phone-screen "
    "and [our shop](https://example.com)."
)


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    """A page in its own context with a phone's viewport."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    yield page
    await context.close()


async def _width(page: Page) -> int:
    return int(await page.evaluate("document.documentElement.scrollWidth"))


async def test_a_customer_searches_reads_and_switches_language_on_a_phone(
    phone: Page, live_server: LiveServer, database: Database
) -> None:
    workspace = await make_workspace(database, "a-shop-with-a-rather-long-name")
    english = await make_article(
        database, workspace.id, "Returns and refunds", LONG_BODY, slug="returns", tags=["Returns"]
    )
    await make_article(
        database,
        workspace.id,
        "Rücksendung",
        "Rücksendungen sind 30 Tage lang kostenlos.",
        slug="ruecksendung",
        locale="de",
        translation_of=english,
    )
    problems = await watch(phone)
    await phone.goto(f"{live_server.url}/help/{workspace.slug}")
    await expect(phone).to_have_title(f"{workspace.name} help center")
    index_width = await _width(phone)
    await phone.get_by_label("Search articles").fill("refund")
    await phone.get_by_role("button", name="Search").click()
    await phone.get_by_role("link", name="Returns and refunds").first.click()
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Returns and refunds")
    assert await phone.get_attribute("html", "lang") == "en"
    article_width = await _width(phone)
    await phone.get_by_role("link", name="de", exact=True).click()
    await expect(phone).to_have_title(f"Rücksendung · {workspace.name} \u2013 Hilfe-Center")
    assert await phone.get_attribute("html", "lang") == "de"
    assert (index_width, article_width, await _width(phone)) == (390, 390, 390)
    assert await problems.all(phone) == []


async def test_a_german_phone_gets_the_german_help_center_without_choosing(
    browser: Browser, live_server: LiveServer, database: Database
) -> None:
    workspace = await make_workspace(database)
    english = await make_article(database, workspace.id, "Returns", LONG_BODY, slug="returns")
    await make_article(
        database, workspace.id, "Rücksendung", "Rücksendungen sind 30 Tage lang kostenlos.",
        slug="ruecksendung", locale="de", translation_of=english,
    )  # fmt: skip
    context = await browser.new_context(viewport=PHONE, is_mobile=True, locale="de-DE")
    page = await context.new_page()
    problems = await watch(page)
    await page.goto(f"{live_server.url}/help/{workspace.slug}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wie können wir helfen?")
    await page.get_by_label("Artikel durchsuchen").fill("kostenlos")
    await page.get_by_role("button", name="Suchen").click()
    await expect(page.get_by_role("heading", level=2).first).to_have_text(
        "Ergebnisse für „kostenlos“"
    )
    await page.get_by_role("link", name="Rücksendung").first.click()
    await expect(page.get_by_role("link", name="← Alle Artikel")).to_be_visible()
    assert await page.get_attribute("html", "lang") == "de"
    assert await _width(page) == 390
    assert await problems.all(page) == []
    await context.close()
