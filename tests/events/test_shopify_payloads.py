"""A signed Shopify order whose fields have the wrong JSON type is a 400 that records nothing."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from rapport.core.db import Database
from rapport.events.models import Order
from rapport.events.shopify import signature
from rapport.identity.keys import sources
from tests.events.test_shopify import ORDER
from tests.fixtures.identity import make_source, make_workspace


async def _deliver(
    client: httpx.AsyncClient, database: Database, order: dict[str, Any]
) -> httpx.Response:
    source = await make_source(database, await make_workspace(database), "shopify")
    async with database.session() as session:
        secret = await sources.webhook_secret(session, source.workspace_id, source.id)
    assert secret is not None
    body = orjson.dumps(order)
    return await client.post(
        f"/v1/webhooks/shopify/{source.write_key}/orders-create",
        content=body,
        headers={"X-Shopify-Hmac-Sha256": signature(secret, body)},
    )


async def _orders(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(Order))).scalar_one())


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"customer": "jon@example.com"}, "`customer` must be an object, not a string"),
        ({"customer": {"email": ["jon"]}}, "`customer.email` must be a string, not an array"),
        ({"line_items": {"sku": "A"}}, "`line_items` must be an array, not an object"),
        ({"line_items": [5]}, "`line_items[0]` must be an object, not a number"),
        ({"total_price": {}}, "`total_price` must be a number or a string, not an object"),
        (
            {"line_items": [{"sku": "A", "quantity": 10**12}]},
            "`line_items[0].quantity` must be a whole number from 1 to 1000000",
        ),
        (
            {"created_at": "yesterday"},
            "`created_at` is not an ISO-8601 date: Invalid isoformat string: 'yesterday'",
        ),
        (
            {"created_at": "9999-12-31T23:59:59-05:00"},
            "`created_at` is not an ISO-8601 date: date out of range",
        ),
    ],
)
async def test_a_mistyped_order_field_is_400(
    client: httpx.AsyncClient, database: Database, fields: dict[str, Any], detail: str
) -> None:
    response = await _deliver(client, database, {**ORDER, **fields})
    assert (response.status_code, response.json()) == (
        400,
        {"error": "MalformedRequest", "detail": detail},
    )
    assert await _orders(database) == 0


async def test_a_guest_order_with_null_fields_is_recorded(
    client: httpx.AsyncClient, database: Database
) -> None:
    guest = {**ORDER, "customer": None, "phone": None, "line_items": None}
    response = await _deliver(client, database, guest)
    assert (response.status_code, response.json()["success"]) == (200, True)
    assert await _orders(database) == 1


async def test_an_unknown_write_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/webhooks/shopify/wk_nobody/orders-create",
        content=b"{}",
        headers={"X-Shopify-Hmac-Sha256": "c2lnbmF0dXJl"},
    )
    assert (response.status_code, response.json()) == (
        401,
        {"error": "InvalidWriteKey", "detail": "Unknown write key, or its source is disabled."},
    )
