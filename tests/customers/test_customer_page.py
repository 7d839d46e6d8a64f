"""The console's customer page: values by type, sources by name, money with its currency,
paged orders, a timeline of events and orders with their key properties, staff actions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from rapport.core.db import Database
from rapport.events.enums import OrderStatus
from rapport.events.orders import OrderInput, orders
from rapport.identity.enums import Role
from tests.fixtures.customers import Shop, make_shop
from tests.fixtures.events import call, identify, track
from tests.fixtures.identity import make_staff
from tests.fixtures.sessions import session_headers, sign_in

ADDRESS = {"city": "Berlin", "postalCode": "10115", "street": "Invalidenstr. 1"}


async def _headers(shop: Shop, role: Role = Role.agent) -> dict[str, str]:
    account = await make_staff(shop.database, shop.workspace, role)
    return session_headers((await sign_in(shop.database, account)).token)


async def _customer(client: httpx.AsyncClient, database: Database) -> tuple[Shop, str]:
    shop = await make_shop(client, database)
    traits = {"firstName": "Ada", "lastName": "Lovelace", "address": ADDRESS, "vip": True}
    await shop.send(
        identify(userId="u-1", traits=traits, timestamp="2026-02-01T09:00:00Z"),
        call(
            "page",
            userId="u-1",
            name="Pricing",
            properties={"url": "https://shop.example/pricing"},
            timestamp="2026-02-01T09:05:00Z",
        ),
        track(
            "Product Viewed",
            userId="u-1",
            properties={"product_id": "85123A", "name": "Heart Holder", "price": 2.55},
            timestamp="2026-02-01T09:10:00Z",
        ),
        track(
            "Order Completed",
            userId="u-1",
            timestamp="2026-02-01T10:00:00Z",
            properties={"order_id": "536365", "total": 15.3, "currency": "EUR"},
        ),
    )
    return shop, (await shop.profile("u-1")).id


def _section(html: str, heading: str) -> str:
    return html.split(f'id="{heading}"', 1)[1].split("</section>", 1)[0]


async def test_traits_show_by_type_with_labels_and_source_names(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop, customer_id = await _customer(client, database)
    response = await client.get(f"/console/customers/{customer_id}", headers=await _headers(shop))
    html = response.text
    assert "<title>Ada Lovelace · Customers · Rapport</title>" in html
    assert "<dt>Address</dt>" in html and "<dt>City</dt><dd>Berlin</dd>" in html
    assert "<dt>Postal code</dt><dd>10115</dd>" in html and "{&#39;city&#39;" not in html
    assert "<dt>First name</dt>" in html and "<dt>Vip</dt>\n      <dd>Yes<" in html
    assert '<span class="trait-origin muted">web · 01 Feb 2026, 09:00 UTC</span>' in html
    assert html.count(shop.workspace.id) == 0
    assert 'href="/console/customers">← All customers</a>' in html


async def test_money_carries_its_currency(client: httpx.AsyncClient, database: Database) -> None:
    shop, customer_id = await _customer(client, database)
    response = await client.get(f"/console/customers/{customer_id}", headers=await _headers(shop))
    assert "<dt>Revenue</dt><dd>15.30 EUR</dd>" in response.text
    assert '<td data-label="Total" class="number">15.30 EUR</td>' in response.text


async def test_timeline_shows_key_properties_and_orders(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop, customer_id = await _customer(client, database)
    response = await client.get(f"/console/customers/{customer_id}", headers=await _headers(shop))
    timeline = _section(response.text, "timeline-heading")
    for text in (
        "<dt>URL</dt><dd>https://shop.example/pricing</dd>",
        "<dt>Product</dt><dd>Heart Holder</dd>",
        "<dt>Amount</dt><dd>2.55</dd>",
        "<dt>Amount</dt><dd>15.30 EUR</dd>",
        "<strong>Order 536365</strong>",
        "<dt>Traits</dt><dd>address, firstName, lastName, vip</dd>",
    ):
        assert text in timeline, text


async def test_timeline_filters_by_type(client: httpx.AsyncClient, database: Database) -> None:
    shop, customer_id = await _customer(client, database)
    headers = await _headers(shop)
    pages = await client.get(f"/console/customers/{customer_id}?type=page", headers=headers)
    placed = await client.get(f"/console/customers/{customer_id}?type=order", headers=headers)
    wrong = await client.get(f"/console/customers/{customer_id}?type=nonsense", headers=headers)
    headings = re.compile(r"<strong>([^<]+)</strong>")
    assert headings.findall(_section(pages.text, "timeline-heading")) == ["Pricing"]
    assert headings.findall(_section(placed.text, "timeline-heading")) == ["Order 536365"]
    assert wrong.status_code == 400


async def test_timeline_pages_older_and_newer(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    start = datetime(2026, 5, 1, 10, tzinfo=UTC)
    await shop.send(
        *(
            track(f"Step {n}", userId="u-2", timestamp=(start + timedelta(minutes=n)).isoformat())
            for n in range(30)
        )
    )
    customer_id = (await shop.profile("u-2")).id
    headers = await _headers(shop)
    link = re.compile(r'href="(\?cursor=[^"#]+)[^"]*">(Older|Newer)<')

    async def visit(path: str) -> tuple[list[str], dict[str, str]]:
        html = (await client.get(f"/console/customers/{customer_id}{path}", headers=headers)).text
        steps = re.findall(r"<strong>Step (\d+)</strong>", html)
        return steps, {name: href for href, name in link.findall(html)}

    newest, links = await visit("")
    older, older_links = await visit(links["Older"])
    back, back_links = await visit(older_links["Newer"])
    assert (newest[0], newest[-1], sorted(links)) == ("29", "5", ["Older"])
    assert (older, sorted(older_links)) == (["4", "3", "2", "1", "0"], ["Newer"])
    assert (back, sorted(back_links)) == (newest, ["Older"])


async def test_orders_are_paged_newest_first(client: httpx.AsyncClient, database: Database) -> None:
    shop, customer_id = await _customer(client, database)
    async with database.session() as session:
        for n in range(12):
            data = OrderInput(
                order_key=f"A-{n:02}",
                status=OrderStatus.completed,
                origin="csv",
                channel="web",
                placed_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=n),
                customer_id=customer_id,
                currency="EUR",
                total=Decimal(1),
            )
            await orders.apply(session, shop.workspace.id, data)
    headers = await _headers(shop)
    first = await client.get(f"/console/customers/{customer_id}", headers=headers)
    [older] = re.findall(r'href="(\?orders_cursor=[^"#]+)[^"]*">Older orders<', first.text)
    second = await client.get(f"/console/customers/{customer_id}{older}", headers=headers)
    key = re.compile(r'<td data-label="Order">([^<]+)</td>')
    assert key.findall(first.text) == [f"A-{n:02}" for n in range(11, 1, -1)]
    assert key.findall(second.text) == ["A-01", "A-00", "536365"]
    assert ">Newer orders<" in second.text and ">Older orders<" not in second.text


async def test_staff_grant_consent_from_the_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop, customer_id = await _customer(client, database)
    supervisor = await _headers(shop, Role.supervisor)
    page = await client.get(f"/console/customers/{customer_id}", headers=supervisor)
    token = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]
    form = {"csrf_token": token, "purpose": "marketing_email", "granted": "true"}
    response = await client.post(
        f"/console/customers/{customer_id}/consent", data=form, headers=supervisor
    )
    shown = await client.get(response.headers["location"], headers=supervisor)
    assert response.status_code == 303
    assert 'Marketing email: <span class="pill pill-green">granted</span>' in shown.text
    assert "Consent recorded." in shown.text


async def test_agents_see_no_staff_actions_and_cannot_post_them(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop, customer_id = await _customer(client, database)
    agent = await _headers(shop)
    page = await client.get(f"/console/customers/{customer_id}", headers=agent)
    token = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]
    form = {"csrf_token": token, "purpose": "marketing_email", "granted": "true"}
    refused = await client.post(
        f"/console/customers/{customer_id}/consent", data=form, headers=agent
    )
    assert ('/consent"' in page.text, '/merge"' in page.text) == (False, False)
    assert refused.status_code == 403


async def test_merge_and_undo_from_the_page(client: httpx.AsyncClient, database: Database) -> None:
    shop, customer_id = await _customer(client, database)
    await shop.send(identify(userId="u-9", traits={"name": "Ada L."}))
    other_id = (await shop.profile("u-9")).id
    admin = await _headers(shop, Role.admin)
    page = await client.get(f"/console/customers/{customer_id}", headers=admin)
    token = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]
    merged = await client.post(
        f"/console/customers/{customer_id}/merge",
        data={"csrf_token": token, "other_id": other_id},
        headers=admin,
    )
    after = await client.get(merged.headers["location"], headers=admin)
    [undo] = re.findall(r'action="(/console/customer-merges/[0-9a-f]{32}/undo)"', after.text)
    undone = await client.post(undo, data={"csrf_token": token}, headers=admin)
    final = await client.get(undone.headers["location"], headers=admin)
    assert (merged.status_code, undone.status_code) == (303, 303)
    assert f"<code>{other_id}</code></a> joined this profile" in after.text
    assert "Merge undone" in final.text and ", undone " in final.text
