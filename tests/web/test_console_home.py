"""The console home: today's customers, orders, revenue and events, and the first steps."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import httpx

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.events.enums import OrderStatus
from rapport.events.orders import OrderInput, orders
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from rapport.web.console import AREAS
from tests.fixtures.events import identify, process_all, track, write_key_auth
from tests.fixtures.identity import make_source, make_staff, make_workspace
from tests.web.console import sign_in


def figures(html: str) -> dict[str, str]:
    """Return the figures the home page shows, by name."""
    found = re.findall(r'<p class="figure" data-figure="([a-z]+)">(.*?)</p>', html)
    return dict(found)


async def _order(
    database: Database,
    workspace: Workspace,
    key: str,
    total: str,
    *,
    currency: str = "USD",
    status: OrderStatus = OrderStatus.completed,
    days_ago: int = 0,
) -> None:
    data = OrderInput(
        order_key=key,
        status=status,
        origin="csv",
        channel="web",
        placed_at=utcnow() - timedelta(days=days_ago),
        currency=currency,
        total=None if status == OrderStatus.refunded else Decimal(total),
        refunded=Decimal(total) if status == OrderStatus.refunded else None,
    )
    async with database.session() as session:
        await orders.apply(session, workspace.id, data)


async def test_home_shows_todays_customers_orders_revenue_and_events(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace, Role.agent)
    source = await make_source(database, workspace)
    calls = [identify(userId="ann"), track("Viewed", userId="ann"), track("Viewed")]
    response = await client.post(
        "/v1/batch", json={"batch": calls}, headers=write_key_auth(source.write_key)
    )
    assert response.status_code == 200
    await process_all(database)
    await _order(database, workspace, "A", "20.00")
    await _order(database, workspace, "A", "5.00", status=OrderStatus.refunded)
    await _order(database, workspace, "B", "7.50", currency="EUR")
    await _order(database, workspace, "C", "99.00", status=OrderStatus.cancelled)
    await _order(database, workspace, "D", "50.00", days_ago=2)
    await sign_in(client, account.email, account.password)
    page = await client.get("/console")
    assert figures(page.text) == {
        "customers": "2",
        "orders": "2",
        "revenue": "7.50 EUR<br>15.00 USD",
        "events": "3",
    }


async def test_an_empty_workspace_shows_zeros_and_no_soon_list(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    page = await client.get("/console")
    assert figures(page.text) == {"customers": "0", "orders": "0", "revenue": "0", "events": "0"}
    assert "Coming to this console" not in page.text
    assert page.text.count(">soon</span>") == sum(not area.enabled for area in AREAS)
