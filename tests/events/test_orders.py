"""Orders and products from E-commerce v2 events, computed traits and domain events."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Database
from rapport.core.jobs import Job, JobStatus
from rapport.core.outbox import DomainEvent
from rapport.events.models import Order
from rapport.events.orders import OrderInput, orders
from tests.fixtures.customers import make_shop
from tests.fixtures.events import track
from tests.fixtures.identity import bearer, make_api_key

PRODUCTS = [
    {
        "product_id": "85123A",
        "sku": "85123A",
        "name": "WHITE HANGING HEART T-LIGHT HOLDER",
        "price": 2.55,
        "quantity": 6,
    },
    {
        "product_id": "71053",
        "sku": "71053",
        "name": "WHITE METAL LANTERN",
        "price": 3.39,
        "quantity": 6,
    },
]


async def _domain_events(database: Database) -> list[tuple[str, str]]:
    async with database.session() as session:
        rows = (await session.execute(select(DomainEvent).order_by(DomainEvent.id))).scalars().all()
    return [
        (row.name, str(row.data.get("order_key", row.data.get("customer_id", "")))) for row in rows
    ]


async def test_order_lifecycle_builds_the_order_and_computed_traits(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        track(
            "Product Viewed",
            userId="17850",
            properties={"product_id": "85123A", "name": "WHITE HANGING HEART T-LIGHT HOLDER"},
            timestamp="2010-12-01T08:20:00Z",
        ),
        track(
            "Order Completed",
            userId="17850",
            timestamp="2010-12-01T08:26:00Z",
            properties={
                "order_id": "536365",
                "total": 35.64,
                "currency": "GBP",
                "products": PRODUCTS,
            },
        ),
        track(
            "Order Completed",
            userId="17850",
            timestamp="2010-12-02T09:00:00Z",
            properties={
                "order_id": "536366",
                "total": 22.20,
                "currency": "GBP",
                "channel": "store",
                "store_id": "LDN-1",
            },
        ),
    )
    await shop.send(
        track(
            "Order Refunded",
            userId="17850",
            properties={"order_id": "536366", "total": 22.20},
            timestamp="2010-12-03T10:00:00Z",
        )
    )
    profile = await shop.profile("17850")
    assert (profile.orders_count, str(profile.revenue), str(profile.average_order_value)) == (
        2,
        "35.64",
        "17.82",
    )
    assert str(profile.last_order_at) == "2010-12-02 09:00:00+00:00"
    assert profile.channels == ["store", "other"] or profile.channels == ["other", "store"]
    headers = bearer(await make_api_key(database, shop.workspace))
    orders = (await client.get(f"/api/v1/customers/{profile.id}/orders", headers=headers)).json()
    assert [
        (o["order_key"], o["status"], o["total"], o["refunded"], o["channel"]) for o in orders
    ] == [
        ("536366", "refunded", "22.20", "22.20", "store"),
        ("536365", "completed", "35.64", "0.00", "other"),
    ]
    assert [(i["product_key"], i["quantity"], i["price"]) for i in orders[1]["items"]] == [
        ("85123A", 6, "2.55"),
        ("71053", 6, "3.39"),
    ]
    # Ids order events across milliseconds only: a chunk's orders may share one.
    assert sorted(e for e in await _domain_events(database) if e[0].startswith("order.")) == [
        ("order.completed", "536365"),
        ("order.completed", "536366"),
        ("order.refunded", "536366"),
    ]


async def test_resent_order_completed_publishes_once(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    order = track("Order Completed", userId="u-5", properties={"order_id": "A-1", "total": 10})
    await shop.send(order)
    await shop.send(order)
    await shop.send(
        track("Order Completed", userId="u-5", properties={"order_id": "A-1", "total": 10})
    )
    assert [e for e in await _domain_events(database) if e[0] == "order.completed"] == [
        ("order.completed", "A-1")
    ]


async def test_cancelled_orders_do_not_count(client: httpx.AsyncClient, database: Database) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        track("Order Completed", userId="u-6", properties={"order_id": "B-1", "total": 50})
    )
    await shop.send(track("Order Cancelled", userId="u-6", properties={"order_id": "B-1"}))
    profile = await shop.profile("u-6")
    assert (profile.orders_count, str(profile.revenue)) == (0, "0.00")


async def test_order_lookup_by_shop_order_id(client: httpx.AsyncClient, database: Database) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        track("Order Completed", userId="u-7", properties={"order_id": "C-9", "products": PRODUCTS})
    )
    headers = bearer(await make_api_key(database, shop.workspace))
    order = (await client.get("/api/v1/orders/C-9", headers=headers)).json()
    assert (order["total"], order["customer_id"]) == ("35.64", (await shop.profile("u-7")).id)
    missing = await client.get("/api/v1/orders/nope", headers=headers)
    assert (missing.status_code, missing.json()["error"]) == (404, "OrderNotFound")


async def test_customer_identified_is_published_once(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(track("Viewed", anonymousId="a-1"))
    await shop.send(
        track("Signed In", userId="u-8", anonymousId="a-1"), track("Viewed", userId="u-8")
    )
    profile = await shop.profile("u-8")
    assert [e for e in await _domain_events(database) if e[0] == "customer.identified"] == [
        ("customer.identified", profile.id)
    ]


async def test_unreadable_amounts_count_as_zero_and_the_batch_still_processes(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    absurd = {"product_id": "p-1", "price": "1e30", "quantity": 10**12}
    await shop.send(
        track("Order Completed", userId="u-nan", properties={"order_id": "o-nan", "total": "NaN"}),
        track("Order Completed", userId="u-nan", properties={"order_id": "o-inf", "total": "inf"}),
        track(
            "Order Completed",
            userId="u-nan",
            properties={"order_id": "o-big", "products": [absurd]},
        ),
        track("Order Completed", userId="u-nan", properties={"order_id": "o-ok", "total": 12.5}),
    )
    profile = await shop.profile("u-nan")
    assert (profile.orders_count, str(profile.revenue)) == (4, "12.50")


async def test_a_call_that_cannot_be_processed_does_not_hold_back_its_chunk(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_apply = orders.apply_many

    async def apply_or_fail(
        session: AsyncSession, workspace_id: str, inputs: list[OrderInput]
    ) -> list[Order]:
        if any(data.order_key == "poison" for data in inputs):
            raise RuntimeError("simulated defect in one call")
        return await real_apply(session, workspace_id, inputs)

    monkeypatch.setattr(orders, "apply_many", apply_or_fail)
    shop = await make_shop(client, database)
    await shop.send(
        track("Order Completed", userId="u-p", properties={"order_id": "poison", "total": 9}),
        track("Order Completed", userId="u-p", properties={"order_id": "fine", "total": 4}),
    )
    profile = await shop.profile("u-p")
    assert (profile.orders_count, str(profile.revenue)) == (1, "4.00")
    async with database.session() as session:
        jobs = (await session.execute(select(Job.status))).scalars().all()
    assert set(jobs) == {JobStatus.done}
