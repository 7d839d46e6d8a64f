"""The timeline API: every touchpoint, newest first, paginated, merged profiles included."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from rapport.core.db import Database
from rapport.core.pagination import encode_cursor, owned_kind
from rapport.events.service import TIMELINE_CURSOR
from tests.fixtures.customers import make_shop
from tests.fixtures.events import identify, track
from tests.fixtures.identity import bearer, make_api_key


async def test_timeline_is_newest_first_and_paginated(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    calls = [
        track(
            f"Step {n}",
            userId="u-1",
            timestamp=f"2026-05-0{n}T10:00:00Z",
            properties={"channel": channel},
        )
        for n, channel in zip(range(1, 6), ["web", "email", "sms", "chat", "store"], strict=True)
    ]
    await shop.send(*calls)
    profile = await shop.profile("u-1")
    headers = bearer(await make_api_key(database, shop.workspace))
    first = (
        await client.get(f"/api/v1/customers/{profile.id}/timeline?limit=2", headers=headers)
    ).json()
    assert [(i["name"], i["channel"]) for i in first["items"]] == [
        ("Step 5", "store"),
        ("Step 4", "chat"),
    ]
    second = (
        await client.get(
            f"/api/v1/customers/{profile.id}/timeline",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=headers,
        )
    ).json()
    assert [i["name"] for i in second["items"]] == ["Step 3", "Step 2"]
    third = (
        await client.get(
            f"/api/v1/customers/{profile.id}/timeline",
            params={"limit": 2, "cursor": second["next_cursor"]},
            headers=headers,
        )
    ).json()
    assert ([i["name"] for i in third["items"]], third["next_cursor"]) == (["Step 1"], None)
    assert profile.channels == ["chat", "email", "sms", "store", "web"]
    assert str(profile.first_seen_at) == "2026-05-01 10:00:00+00:00"


async def test_anonymous_history_shows_on_the_timeline(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        track(
            "Product Viewed",
            anonymousId="a-7",
            timestamp="2026-05-01T10:00:00Z",
            properties={"sku": "X"},
        )
    )
    await shop.send(
        identify(
            userId="u-7",
            anonymousId="a-7",
            timestamp="2026-05-02T10:00:00Z",
            traits={"plan": "gold"},
        )
    )
    profile = await shop.profile("u-7")
    headers = bearer(await make_api_key(database, shop.workspace))
    items = (await client.get(f"/api/v1/customers/{profile.id}/timeline", headers=headers)).json()[
        "items"
    ]
    assert [(i["type"], i["properties"]) for i in items] == [
        ("identify", {"plan": "gold"}),
        ("track", {"sku": "X"}),
    ]


async def test_bad_cursor_is_400(client: httpx.AsyncClient, database: Database) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="u-8"))
    profile = await shop.profile("u-8")
    headers = bearer(await make_api_key(database, shop.workspace))
    response = await client.get(
        f"/api/v1/customers/{profile.id}/timeline",
        params={"cursor": "bm90IGpzb24"},
        headers=headers,
    )
    assert response.status_code == 400


# Base64 of ["9999-12-31T23:59:59-23:59","x"]: converting that moment to UTC overflows.
OVERFLOWING_CURSOR = "WyI5OTk5LTEyLTMxVDIzOjU5OjU5LTIzOjU5IiwieCJd"


async def _timeline_status(
    client: httpx.AsyncClient, database: Database, cursor: Callable[[str], str]
) -> tuple[int, dict[str, str]]:
    """Ask a customer's timeline for the page at `cursor(customer_id)`."""
    shop = await make_shop(client, database)
    await shop.send(identify(userId="u-9"))
    profile = await shop.profile("u-9")
    response = await client.get(
        f"/api/v1/customers/{profile.id}/timeline",
        params={"cursor": cursor(profile.id)},
        headers=bearer(await make_api_key(database, shop.workspace)),
    )
    return response.status_code, response.json()


async def test_crafted_cursor_is_400_not_500(client: httpx.AsyncClient, database: Database) -> None:
    assert await _timeline_status(client, database, lambda _: OVERFLOWING_CURSOR) == (
        400,
        {"error": "BadRequest", "detail": "cursor is not valid"},
    )


async def test_signed_cursor_with_an_overflowing_moment_is_400(
    client: httpx.AsyncClient, database: Database
) -> None:
    def signed(customer_id: str) -> str:
        kind = owned_kind(TIMELINE_CURSOR, customer_id)
        return encode_cursor(kind, ["9999-12-31T23:59:59-23:59", "x"])

    assert await _timeline_status(client, database, signed) == (
        400,
        {"error": "BadRequest", "detail": "cursor is not valid"},
    )


async def test_cursor_signed_for_another_list_is_400(
    client: httpx.AsyncClient, database: Database
) -> None:
    other = encode_cursor("identity.audit", ["2026-05-01T10:00:00+00:00", "x"])
    assert (await _timeline_status(client, database, lambda _: other))[0] == 400


async def test_altered_cursor_is_400(client: httpx.AsyncClient, database: Database) -> None:
    def altered(customer_id: str) -> str:
        issued = encode_cursor(
            owned_kind(TIMELINE_CURSOR, customer_id), ["2026-05-01T10:00:00+00:00", "x"]
        )
        return ("A" if issued[0] != "A" else "B") + issued[1:]

    assert (await _timeline_status(client, database, altered))[0] == 400


async def test_a_cursor_of_one_customers_timeline_is_400_on_anothers(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        *(
            track(f"Step {n}", userId=user, messageId=f"{user}-{n}")
            for user in ("a", "b")
            for n in (1, 2)
        )
    )
    first, second = (await shop.profile("a")).id, (await shop.profile("b")).id
    headers = bearer(await make_api_key(database, shop.workspace))

    async def timeline(customer_id: str, cursor: str | None = None) -> httpx.Response:
        params = {"limit": 1} if cursor is None else {"limit": 1, "cursor": cursor}
        return await client.get(
            f"/api/v1/customers/{customer_id}/timeline", params=params, headers=headers
        )

    cursor = (await timeline(first)).json()["next_cursor"]
    assert (await timeline(first, cursor)).status_code == 200
    refused = await timeline(second, cursor)
    assert (refused.status_code, refused.json()) == (
        400,
        {"error": "BadRequest", "detail": "cursor is not valid"},
    )
