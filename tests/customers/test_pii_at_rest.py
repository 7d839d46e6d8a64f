"""PII at rest: canary values written through every path never appear in the database file."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from rapport.core.db import Database
from rapport.events.shopify import signature
from rapport.identity.keys import sources
from tests.fixtures.customers import make_shop
from tests.fixtures.events import identify, track
from tests.fixtures.identity import bearer, make_api_key, make_source

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
    async with database.session() as session:
        secret = await sources.webhook_secret(session, shop.workspace.id, source.id)
    assert secret is not None
    await client.post(
        f"/v1/webhooks/shopify/{source.write_key}/orders-create",
        content=order,
        headers={"X-Shopify-Hmac-Sha256": signature(secret, order)},
    )
    profile = await shop.profile(CANARIES[0])
    assert profile.traits["first_name"].value == CANARIES[2]
    # A staff merge and its undo: the merge log keeps the replaced traits, the audit log the act.
    headers = bearer(await make_api_key(database, shop.workspace))
    await shop.send(identify(userId="u-2", traits={"plan": "free"}))
    merged = await client.post(
        "/api/v1/customer-merges",
        json={"winner_id": (await shop.profile("u-2")).id, "loser_id": profile.id},
        headers=headers,
    )
    await client.post(f"/api/v1/customer-merges/{merged.json()['id']}/undo", headers=headers)
    await database.dispose()  # checkpoint and close, so the WAL is folded into the file
    path = Path(database.url.split("///", 1)[1])
    files = [file for file in path.parent.iterdir() if file.name.startswith(path.name)]
    raw = b"".join(file.read_bytes() for file in files)
    assert [
        canary for canary in CANARIES if canary.encode() in raw or canary.lower().encode() in raw
    ] == []
