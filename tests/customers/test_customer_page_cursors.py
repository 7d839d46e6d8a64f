"""The customer page's cursors (timeline and orders) serve only the customer they came from."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from rapport.core.db import Database
from rapport.events.enums import OrderStatus
from rapport.events.orders import OrderInput, orders
from rapport.identity.enums import Role
from tests.fixtures.customers import make_shop
from tests.fixtures.events import identify, track
from tests.fixtures.identity import make_staff
from tests.fixtures.sessions import session_headers, sign_in

START = datetime(2026, 5, 1, 10, tzinfo=UTC)
OLDER_EVENTS = re.compile(r'href="(\?cursor=[^"#]+)[^"]*">Older<')
OLDER_ORDERS = re.compile(r'href="(\?orders_cursor=[^"#]+)[^"]*">Older orders<')


async def test_a_customer_pages_cursors_are_400_on_another_customer(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        *(
            track(f"Step {n}", userId="u-1", timestamp=(START + timedelta(minutes=n)).isoformat())
            for n in range(30)
        ),
        identify(userId="u-2"),
    )
    first, second = (await shop.profile("u-1")).id, (await shop.profile("u-2")).id
    async with database.session() as session:
        for n in range(11):
            placed = START + timedelta(days=n)
            data = OrderInput(
                order_key=f"A-{n:02}",
                status=OrderStatus.completed,
                origin="csv",
                channel="web",
                placed_at=placed,
                customer_id=first,
                currency="EUR",
                total=Decimal(1),
            )
            await orders.apply(session, shop.workspace.id, data)
    account = await make_staff(database, shop.workspace, Role.agent)
    headers = session_headers((await sign_in(database, account)).token)
    page = await client.get(f"/console/customers/{first}", headers=headers)
    [timeline_link] = OLDER_EVENTS.findall(page.text)
    [orders_link] = OLDER_ORDERS.findall(page.text)
    for link in (timeline_link, orders_link):
        own = await client.get(f"/console/customers/{first}{link}", headers=headers)
        other = await client.get(f"/console/customers/{second}{link}", headers=headers)
        assert (own.status_code, other.status_code) == (200, 400)
