"""Shopify-style orders/create webhooks, verified by X-Shopify-Hmac-Sha256."""

from __future__ import annotations

import httpx
import orjson

from rapport.core.db import Database
from rapport.events.shopify import signature, webhook_secret
from tests.fixtures.customers import make_shop
from tests.fixtures.identity import make_source

ORDER = {
    "id": 820982911946154508,
    "email": "jon@example.com",
    "created_at": "2026-11-20T10:00:00-05:00",
    "currency": "EUR",
    "total_price": "59.98",
    "total_tax": "9.98",
    "total_discounts": "0.00",
    "customer": {
        "id": 115310627314723954,
        "email": "jon@example.com",
        "first_name": "Jon",
        "last_name": "Snowdon",
    },
    "line_items": [
        {
            "product_id": 632910392,
            "sku": "IPOD2008PINK",
            "title": "IPod Nano - 8GB",
            "quantity": 2,
            "price": "24.99",
        }
    ],
}


async def test_signed_order_is_recorded_for_its_customer(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    source = await make_source(database, shop.workspace, "shopify")
    body = orjson.dumps(ORDER)
    headers = {
        "X-Shopify-Hmac-Sha256": signature(webhook_secret(source.id), body),
        "Content-Type": "application/json",
    }
    response = await client.post(
        f"/v1/webhooks/shopify/{source.write_key}/orders-create", content=body, headers=headers
    )
    assert response.status_code == 200
    profile = await shop.profile("jon@example.com")
    assert (profile.orders_count, str(profile.revenue), str(profile.last_order_at)) == (
        1,
        "59.98",
        "2026-11-20 15:00:00+00:00",
    )
    assert profile.traits["last_name"].value == "Snowdon"
    assert await shop.find("Jon Snowdon") == [profile.id]


async def test_bad_signature_is_401_and_records_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    source = await make_source(database, shop.workspace, "shopify")
    body = orjson.dumps(ORDER)
    headers = {"X-Shopify-Hmac-Sha256": signature("wrong secret", body)}
    response = await client.post(
        f"/v1/webhooks/shopify/{source.write_key}/orders-create", content=body, headers=headers
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "InvalidSignature",
        "detail": "X-Shopify-Hmac-Sha256 does not match the body.",
    }
    assert await shop.find("jon@example.com") == []
