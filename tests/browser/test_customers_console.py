"""The customers console in a real Chromium: the list's pages and filters, the customer page,
and both at a phone's width."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Database
from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.events.enums import OrderStatus
from rapport.events.orders import ItemInput, OrderInput, orders
from rapport.identity.models import Workspace
from tests.fixtures.browser import sign_in_page, watch
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.server import LiveServer

START = datetime(2026, 3, 1, 12, tzinfo=UTC)
ADDRESS = {"city": "Berlin", "postalCode": "10115", "street": "Invalidenstraße 117, Hinterhaus"}


async def _people(database: Database, workspace: Workspace, count: int) -> list[str]:
    """Create `count` profiles seen an hour apart; the newest has an address and an order."""
    ids = []
    async with database.session() as session:
        for n in range(count):
            traits = {"name": f"Person {n}", "email": f"person{n}@example.com"}
            signal = IdentitySignal(
                identifiers=[Observed("user_id", f"person-{n}")],
                at=START + timedelta(hours=n),
                channel="web",
                source="test",
                traits=traits | ({"address": ADDRESS} if n == count - 1 else {}),
            )
            customer_id = await customers.observe(session, workspace.id, signal)
            assert customer_id is not None
            ids.append(customer_id)
        await _order(session, workspace, ids[-1])
    return ids


async def _order(session: AsyncSession, workspace: Workspace, customer_id: str) -> None:
    """Place an order with many long lines (they must wrap, not widen the page)."""
    lines = [
        ItemInput(
            f"SKU-{n}", f"SKU-{n}", f"ITEM WITH A RATHER LONG DESCRIPTION NUMBER {n}", 1, Decimal(1)
        )
        for n in range(12)
    ]
    data = OrderInput(
        order_key="536365",
        status=OrderStatus.completed,
        origin="csv",
        channel="web",
        placed_at=START,
        customer_id=customer_id,
        currency="GBP",
        total=Decimal("1234.5"),
        items=lines,
    )
    await orders.apply(session, workspace.id, data)
    await orders.refresh_customer(session, workspace.id, customer_id)


async def test_list_pages_and_filters(
    page: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    await _people(database, workspace, 55)
    problems = await watch(page)
    await sign_in_page(page, live_server.url, account.email, account.password, "/console/customers")
    rows = page.locator(".customer-table tbody tr")
    await expect(page.locator("[data-total]")).to_have_text("55 customers")
    await expect(rows).to_have_count(50)
    await expect(rows.first.locator("td").nth(3)).to_have_text("1,234.50 GBP")
    await page.get_by_role("link", name="Next page").click()
    await expect(rows).to_have_count(5)
    await expect(rows.last.get_by_role("link")).to_have_text("Person 0")
    await page.get_by_role("link", name="First page").click()
    await page.get_by_label("Has orders").check()
    await page.get_by_role("button", name="Apply").click()
    await expect(page.locator("[data-total]")).to_have_text("1 customer")
    await expect(rows.get_by_role("link")).to_have_text(["Person 54"])
    await page.screenshot(path=tmp_path / "customers.png", full_page=True)
    assert await problems.all(page) == []


async def test_customer_page_reads_as_a_profile(
    page: Page, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    await _people(database, workspace, 2)
    problems = await watch(page)
    await sign_in_page(page, live_server.url, account.email, account.password, "/console/customers")
    await page.get_by_role("link", name="Person 1").click()
    await expect(page).to_have_title("Person 1 · Customers · Rapport")
    address = page.locator(".traits .value-fields")
    await expect(address.locator("dt")).to_have_text(["City", "Postal code", "Street"])
    await expect(address.locator("dd").first).to_have_text("Berlin")
    await expect(page.locator(".history-order strong")).to_have_text("Order 536365")
    await page.get_by_label("Show").select_option("order")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator(".history-item")).to_have_count(1)
    await page.get_by_role("button", name="Grant Marketing email").click()
    await expect(page.get_by_role("status")).to_have_text("Consent recorded.")
    await page.screenshot(path=tmp_path / "customer.png", full_page=True)
    await page.get_by_role("link", name="← All customers").click()
    await expect(page).to_have_url(f"{live_server.url}/console/customers")
    assert await problems.all(page) == []


async def test_pages_fit_a_phone(
    browser: Browser, live_server: LiveServer, database: Database, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    people = await _people(database, workspace, 3)
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    problems = await watch(page)
    await sign_in_page(page, live_server.url, account.email, account.password, "/console/customers")
    widths = {}
    for path in ("/console/customers", f"/console/customers/{people[-1]}"):
        await page.goto(f"{live_server.url}{path}")
        widths[path] = await page.evaluate("document.documentElement.scrollWidth")
        await page.screenshot(path=tmp_path / f"phone-{len(widths)}.png", full_page=True)
    assert widths == {path: 390 for path in widths}
    assert await problems.all(page) == []
    await context.close()
