"""The console's customer pages: search by name/email/phone/order id, profile, timeline, orders."""

from __future__ import annotations

import re

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from tests.fixtures.customers import Shop, make_shop
from tests.fixtures.events import identify, track
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in


async def _shop_with_customer(client: httpx.AsyncClient, database: Database) -> Shop:
    shop = await make_shop(client, database)
    traits = {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0018"}
    await shop.send(
        identify(userId="u-1", traits=traits, timestamp="2026-02-01T09:00:00Z"),
        track(
            "Order Completed",
            userId="u-1",
            timestamp="2026-02-01T10:00:00Z",
            properties={
                "order_id": "536365",
                "total": 15.3,
                "products": [
                    {
                        "product_id": "85123A",
                        "name": "WHITE HANGING HEART T-LIGHT HOLDER",
                        "quantity": 6,
                        "price": 2.55,
                    }
                ],
            },
        ),
    )
    return shop


async def _agent_headers(database: Database, shop: Shop) -> dict[str, str]:
    return session_headers(
        (await sign_in(database, await make_staff(database, shop.workspace, Role.agent))).token
    )


async def test_search_finds_by_name_email_phone_and_order_id(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await _shop_with_customer(client, database)
    headers = await _agent_headers(database, shop)
    for query in ("Ada Lovelace", "ADA@example.com", "+442079460018", "536365"):
        response = await client.get("/console/customers", params={"q": query}, headers=headers)
        assert response.status_code == 200
        assert response.text.count('href="/console/customers/') == 1, query
    miss = await client.get(
        "/console/customers", params={"q": "nobody@example.com"}, headers=headers
    )
    assert "No customer matches." in miss.text


async def test_profile_page_shows_traits_orders_and_timeline(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await _shop_with_customer(client, database)
    profile = await shop.profile("u-1")
    response = await client.get(
        f"/console/customers/{profile.id}", headers=await _agent_headers(database, shop)
    )
    assert response.status_code == 200
    for text in (
        "Ada Lovelace",
        "536365",
        "6 \u00d7 WHITE HANGING HEART T-LIGHT HOLDER",
        "Order Completed",
        "15.30",
    ):
        assert text in response.text, text


async def test_other_workspace_profile_is_not_found(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await _shop_with_customer(client, database)
    profile = await shop.profile("u-1")
    stranger = await make_staff(database, await make_workspace(database), Role.owner)
    response = await client.get(
        f"/console/customers/{profile.id}",
        headers=session_headers((await sign_in(database, stranger)).token),
    )
    assert response.status_code == 404


async def test_anonymous_visitor_is_sent_to_sign_in(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.get("/console/customers")
    assert response.status_code in (303, 307)
    assert response.headers["location"].startswith("/console/sign-in")


async def test_crafted_timeline_cursor_is_400_on_the_profile_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await _shop_with_customer(client, database)
    profile = await shop.profile("u-1")
    response = await client.get(
        f"/console/customers/{profile.id}",
        # Base64 of ["9999-12-31T23:59:59-23:59","x"]: converting that moment overflows.
        params={"cursor": "WyI5OTk5LTEyLTMxVDIzOjU5OjU5LTIzOjU5IiwieCJd"},
        headers=await _agent_headers(database, shop),
    )
    assert (response.status_code, "cursor is not valid" in response.text) == (400, True)


async def test_older_link_pages_the_timeline(client: httpx.AsyncClient, database: Database) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        *(
            track(f"Step {n}", userId="u-2", timestamp=f"2026-05-01T10:{n:02}:00Z")
            for n in range(30)
        )
    )
    profile = await shop.profile("u-2")
    headers = await _agent_headers(database, shop)
    first = await client.get(f"/console/customers/{profile.id}", headers=headers)
    [cursor] = re.findall(r'href="\?cursor=([^"&#]+)[^"]*">Older<', first.text)
    older = await client.get(
        f"/console/customers/{profile.id}", params={"cursor": cursor}, headers=headers
    )
    assert ("Step 4" in first.text, "Step 5" in first.text) == (False, True)
    assert (older.status_code, "Step 4" in older.text, "Step 5" in older.text) == (
        200,
        True,
        False,
    )
