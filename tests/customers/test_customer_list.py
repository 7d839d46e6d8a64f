"""The console's customers list: count, keyset pages, sorting, filters and its columns."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from rapport.core.db import Database
from rapport.customers.consent import consent
from rapport.customers.merges import merges
from rapport.customers.schemas import ConsentChange, IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.events.enums import OrderStatus
from rapport.events.imports import imports, read_invoices
from rapport.events.orders import OrderInput, orders
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROW = re.compile(r'<td data-label="Customer"><a href="/console/customers/([0-9a-f]{32})">([^<]*)<')


async def _people(database: Database, workspace: Workspace, count: int) -> list[str]:
    """Create `count` profiles named Person 0.. seen an hour apart (Person 0 first)."""
    ids = []
    async with database.session() as session:
        for n in range(count):
            signal = IdentitySignal(
                identifiers=[Observed("user_id", f"person-{n}")],
                at=START + timedelta(hours=n),
                channel="web",
                source="test",
                traits={"name": f"Person {n}", "email": f"person{n}@example.com"},
            )
            customer_id = await customers.observe(session, workspace.id, signal)
            assert customer_id is not None
            ids.append(customer_id)
    return ids


async def _order(database: Database, workspace: Workspace, customer_id: str, total: str) -> None:
    async with database.session() as session:
        await orders.apply(
            session,
            workspace.id,
            OrderInput(
                order_key=f"o-{customer_id[:8]}-{total}",
                status=OrderStatus.completed,
                origin="event",
                channel="web",
                placed_at=START,
                customer_id=customer_id,
                currency="EUR",
                total=Decimal(total),
            ),
        )
        await orders.refresh_customer(session, workspace.id, customer_id)


async def _headers(database: Database, workspace: Workspace) -> dict[str, str]:
    account = await make_staff(database, workspace, Role.agent)
    return session_headers((await sign_in(database, account)).token)


def _names(html: str) -> list[str]:
    return [name for _, name in ROW.findall(html)]


def _next(html: str) -> str:
    [link] = re.findall(r'rel="next" href="([^"]+)"', html)
    return link.replace("&amp;", "&")


async def test_list_counts_every_customer_and_pages_by_keyset(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    await _people(database, workspace, 53)
    headers = await _headers(database, workspace)
    first = await client.get("/console/customers", headers=headers)
    second = await client.get(_next(first.text), headers=headers)
    assert ("<h2 data-total>53 customers</h2>" in first.text, len(_names(first.text))) == (True, 50)
    assert _names(first.text)[:2] == ["Person 52", "Person 51"]
    assert _names(second.text) == ["Person 2", "Person 1", "Person 0"]
    assert ('rel="next"' in second.text, ">First page<" in second.text) == (False, True)


async def test_list_shows_email_orders_revenue_with_currency_and_last_seen(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    [person] = await _people(database, workspace, 1)
    await _order(database, workspace, person, "1234.5")
    response = await client.get("/console/customers", headers=await _headers(database, workspace))
    row = response.text.split(f'href="/console/customers/{person}"', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td data-label="[^"]+"[^>]*>([^<]*)</td>', row)
    assert cells == ["person0@example.com", "1", "1,234.50 EUR", "—", "—", "01 Mar 2026, 12:00 UTC"]


async def test_sorting_by_orders_and_by_revenue(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    people = await _people(database, workspace, 3)
    await _order(database, workspace, people[0], "5")
    await _order(database, workspace, people[0], "6")
    await _order(database, workspace, people[1], "100")
    headers = await _headers(database, workspace)
    by_orders = await client.get("/console/customers?sort=orders", headers=headers)
    by_revenue = await client.get("/console/customers?sort=revenue", headers=headers)
    assert _names(by_orders.text) == ["Person 0", "Person 1", "Person 2"]
    assert _names(by_revenue.text) == ["Person 1", "Person 0", "Person 2"]


async def test_sorted_pages_follow_each_other_without_gaps(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    people = await _people(database, workspace, 52)
    for person in people[:3]:
        await _order(database, workspace, person, "10")
    headers = await _headers(database, workspace)
    first = await client.get("/console/customers?sort=revenue", headers=headers)
    second = await client.get(_next(first.text), headers=headers)
    names = _names(first.text) + _names(second.text)
    assert (len(names), len(set(names)), names[:3]) == (
        52,
        52,
        ["Person 2", "Person 1", "Person 0"],
    )
    assert "sort=revenue&cursor=" in _next(first.text)


async def test_has_orders_and_seen_since_filters(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    people = await _people(database, workspace, 30)  # seen 1 Mar 12:00 to 2 Mar 17:00 UTC
    await _order(database, workspace, people[3], "7")
    headers = await _headers(database, workspace)
    with_orders = await client.get("/console/customers?has_orders=true", headers=headers)
    since = await client.get("/console/customers?seen_since=2026-03-02", headers=headers)
    assert (_names(with_orders.text), "1 customer<" in with_orders.text) == (["Person 3"], True)
    assert _names(since.text)[-1] == "Person 12"  # 2 Mar 00:00 UTC
    assert "<h2 data-total>18 customers</h2>" in since.text


async def test_consent_filter_keeps_profiles_whose_latest_record_grants(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    people = await _people(database, workspace, 4)
    granted = ConsentChange(purpose="marketing_email", granted=True)
    withdrawn = ConsentChange(purpose="marketing_email", granted=False)
    async with database.session() as session:
        await consent.record(session, workspace.id, people[0], granted, actor="test")
        await consent.record(session, workspace.id, people[1], granted, actor="test")
        await consent.record(session, workspace.id, people[1], withdrawn, actor="test")
        await consent.record(session, workspace.id, people[3], granted, actor="test")
        # Person 3 joins Person 2: the consent given on the joined profile counts for it.
        await merges.merge(
            session,
            workspace.id,
            winner_id=people[2],
            loser_id=people[3],
            reason="staff",
            actor="test",
        )
    response = await client.get(
        "/console/customers?consent_granted=marketing_email",
        headers=await _headers(database, workspace),
    )
    listed = [customer_id for customer_id, _ in ROW.findall(response.text)]
    assert listed == [people[2], people[0]]


async def test_imported_customer_is_named_by_customer_number(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    rows = "".join(
        f"5{n:05},85123A,HEART HOLDER,2,2026-01-0{1 + n % 9} 08:26:00,2.55,17850,United Kingdom\n"
        for n in range(37)
    )
    header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    async with database.session() as session:
        await imports.import_invoices(
            session, workspace.id, read_invoices(io.StringIO(header + rows))
        )
    response = await client.get("/console/customers", headers=await _headers(database, workspace))
    assert _names(response.text) == ["Customer 17850"]
    assert ">37<" in response.text and ">188.70 GBP<" in response.text
    assert "Anonymous visitor" not in response.text


async def test_bad_list_parameters_are_400_pages(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    await _people(database, workspace, 51)
    headers = await _headers(database, workspace)
    first = await client.get("/console/customers", headers=headers)
    cursor = _next(first.text).split("cursor=", 1)[1]
    answers = [
        (await client.get(url, headers=headers)).status_code
        for url in (
            f"/console/customers?sort=orders&cursor={cursor}",  # made for another order
            "/console/customers?cursor=WyJ4Il0",
            "/console/customers?seen_since=yesterday",
            "/console/customers?consent_granted=everything",
            "/console/customers?sort=name",
        )
    ]
    assert answers == [400, 400, 400, 400, 422]
