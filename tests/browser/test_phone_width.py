"""Every console page fits a 390 px phone: no sideways scrolling, navigation behind a button."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from rapport.core.db import Database
from rapport.identity.enums import Role, Scope
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.events import identify, process_all, track, write_key_auth
from tests.fixtures.identity import (
    StaffAccount,
    make_api_key,
    make_invitation,
    make_source,
    make_staff,
    make_workspace,
)
from tests.fixtures.server import LiveServer

PHONE = {"width": 390, "height": 844}
# The one error expected: the unknown customer's page answers 404 on purpose.
NOT_FOUND = (
    "console: Failed to load resource: the server responded with a status of 404 (Not Found)"
)
SETTINGS_PAGES = ["profile", "workspace", "team", "api-keys", "sources", "audit"]


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    """A page in its own context with a phone's viewport."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    yield page
    await context.close()


async def _busy_workspace(database: Database, server: LiveServer) -> tuple[StaffAccount, str]:
    """An owner in a workspace with long names, keys, a source, events, an order, an invitation."""
    workspace = await make_workspace(database, "a-shop-with-a-rather-long-name")
    owner = await make_staff(database, workspace)
    await make_staff(database, workspace, Role.agent, email=f"a.very.long.address.{owner.email}")
    await make_api_key(database, workspace, list(Scope))
    await make_invitation(database, workspace, "someone.with.a.long.address@example.com")
    source = await make_source(database, workspace, "Web shop with a long descriptive name")
    user = {"userId": "customer-with-a-long-user-id-0123456789", "context": {"ip": "203.0.113.9"}}
    calls = [
        identify(
            traits={"email": "long.customer.email.address@example.com", "name": "Ann"}, **user
        ),
        track(
            "Order Completed", properties={"order_id": "ORDER-1234567890", "total": 42.5}, **user
        ),
        track("Product Viewed", properties={"product_id": "sku-0123456789abcdef" * 3}, **user),
    ]
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/v1/batch", json={"batch": calls}, headers=write_key_auth(source.write_key)
        )
        assert response.status_code == 200
    await process_all(database)
    return owner, "customer-with-a-long-user-id-0123456789"


async def _width(page: Page, url: str) -> int:
    response = await page.goto(url)
    assert response is not None and response.status < 500, url
    return int(await page.evaluate("document.documentElement.scrollWidth"))


async def _console_pages(page: Page, server: LiveServer) -> list[str]:
    pages = [f"{server.url}/console", f"{server.url}/console/customers"]
    await page.goto(f"{server.url}/console/customers")
    profile = page.locator("table a").first
    await expect(profile).to_be_visible()
    pages.append(f"{server.url}{await profile.get_attribute('href')}")
    pages.append(f"{server.url}/console/customers?q=long.customer.email.address%40example.com")
    pages += [f"{server.url}/console/settings/{name}" for name in SETTINGS_PAGES]
    pages += [f"{server.url}/console/mfa/setup", f"{server.url}/console/customers/unknown"]
    return pages


async def test_every_console_page_fits_a_390_pixel_phone(
    phone: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    owner, _ = await _busy_workspace(database, live_server)
    problems = await watch(phone)
    assert await _width(phone, f"{live_server.url}/console/sign-in") <= PHONE["width"]
    await sign_in_page(phone, live_server.url, owner.email, owner.password, "/console")
    widths = {}
    for url in await _console_pages(phone, live_server):
        widths[url.removeprefix(live_server.url)] = await _width(phone, url)
        name = url.removeprefix(live_server.url).strip("/").replace("/", "-").split("?")[0]
        await phone.screenshot(path=tmp_path / f"{name}.png", full_page=True)
    assert {path: width for path, width in widths.items() if width > PHONE["width"]} == {}
    assert await problems.all(phone) == [NOT_FOUND]


async def test_the_pages_outside_the_shell_fit_a_phone(
    phone: Page, live_server: LiveServer, database: Database
) -> None:
    workspace = await make_workspace(database, "a-shop-with-a-rather-long-name")
    issued = await make_invitation(database, workspace, "someone.with.a.long.address@example.com")
    link = f"{live_server.url}/console/invitations/{issued.token}"
    widths = {"invitation": await _width(phone, link)}
    widths["sign-in"] = await _width(phone, f"{live_server.url}/console/sign-in")
    assert {name: width for name, width in widths.items() if width > PHONE["width"]} == {}


async def test_on_a_phone_the_navigation_opens_from_the_menu_button(
    phone: Page, live_server: LiveServer, database: Database
) -> None:
    owner = await make_staff(database, await make_workspace(database))
    await sign_in_page(phone, live_server.url, owner.email, owner.password, "/console")
    navigation = phone.get_by_role("navigation", name="Main")
    menu = phone.get_by_role("button", name="Menu")
    await expect(navigation).to_be_hidden()
    await expect(menu).to_have_attribute("aria-expanded", "false")
    await menu.click()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    await navigation.get_by_role("link", name="Customers").click()
    await expect(phone).to_have_url(f"{live_server.url}/console/customers")


async def test_on_a_short_page_the_folded_navigation_stays_a_thin_bar(
    phone: Page, live_server: LiveServer, database: Database
) -> None:
    # The layout grid once shared a short page's spare height with the bar: an empty band
    # of some 200 px above the content.
    owner = await make_staff(database, await make_workspace(database))
    await sign_in_page(phone, live_server.url, owner.email, owner.password, "/console")
    await phone.goto(f"{live_server.url}/console/inbox")
    bar = await phone.evaluate("document.querySelector('.sidebar').getBoundingClientRect().height")
    page = await phone.evaluate("document.documentElement.scrollHeight")
    assert (page <= PHONE["height"], bar < 80) == (True, True), (page, bar)
