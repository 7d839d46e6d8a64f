"""PII at rest: canary values written through every path never appear in the database file."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from rapport.core.db import Database
from rapport.events.shopify import signature, webhook_secret
from tests.fixtures.customers import make_shop
from tests.fixtures.events import identify, track
from tests.fixtures.identity import make_source

CANARIES = [
    "canary.zq7@example.com",
    "+447700900461",
    "Zebulon",
    "Quixotic-Canaryman",
    "17 Canarywharf Lane",
    "userid.canary.k3@example.com",
]


async def test_no_plaintext_pii_in_the_sqlite_file(
    client: httpx.AsyncClient, database: Database
) -> None:
    if not database.url.startswith("sqlite"):
        pytest.skip("greps the SQLite file")
    shop = await make_shop(client, database)
    traits = {
        "email": CANARIES[0],
        "phone": CANARIES[1],
        "first_name": CANARIES[2],
        "last_name": CANARIES[3],
        "address": {"street": CANARIES[4], "city": "London"},
    }
    await shop.send(
        identify(userId=CANARIES[5], anonymousId="anon-k3", traits={"plan": "gold"}),
        identify(userId="u-1", traits=traits),
        track(
            "Order Completed",
            userId="u-1",
            context={"traits": traits},
            properties={"order_id": "o-1", "total": 5},
        ),
    )
    source = await make_source(database, shop.workspace, "shopify")
    order = orjson.dumps(
        {
            "id": 1,
            "email": CANARIES[0],
            "phone": CANARIES[1],
            "total_price": "5.00",
            "customer": {"id": 9, "first_name": CANARIES[2], "last_name": CANARIES[3]},
        }
    )
    await client.post(
        f"/v1/webhooks/shopify/{source.write_key}/orders-create",
        content=order,
        headers={"X-Shopify-Hmac-Sha256": signature(webhook_secret(source.id), order)},
    )
    assert (await shop.profile(CANARIES[0])).traits["first_name"].value == CANARIES[2]
    await database.dispose()  # checkpoint and close, so the WAL is folded into the file
    path = Path(database.url.split("///", 1)[1])
    files = [file for file in path.parent.iterdir() if file.name.startswith(path.name)]
    raw = b"".join(file.read_bytes() for file in files)
    assert [
        canary for canary in CANARIES if canary.encode() in raw or canary.lower().encode() in raw
    ] == []
