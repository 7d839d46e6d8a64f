"""Shopify-style orders/create webhooks, verified by X-Shopify-Hmac-Sha256."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import sqlalchemy as sa

from rapport.config import Settings
from rapport.core.crypto import configure_keyring, keyring
from rapport.core.db import Database
from rapport.db.migrate import upgrade
from rapport.events.shopify import signature
from rapport.identity.audit import SYSTEM
from rapport.identity.keys import sources
from rapport.identity.models import AuditEvent, Source
from tests.fixtures.cli import run_cli
from tests.fixtures.customers import make_shop
from tests.fixtures.identity import make_source

# What Shopify shows under Settings > Notifications > Webhooks ("signed with ...").
SHOPS_SECRET = "9f2c3a61b0d84e7f5a2b6c1d8e9f0a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"

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
    secret = await _secret(database, source)
    headers = {"X-Shopify-Hmac-Sha256": signature(secret, body), "Content-Type": "application/json"}
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


async def _secret(database: Database, source: Source) -> str:
    async with database.session() as session:
        secret = await sources.webhook_secret(session, source.workspace_id, source.id)
    assert secret is not None
    return secret


async def _deliver(client: httpx.AsyncClient, source: Source, secret: str) -> int:
    body = orjson.dumps(ORDER)
    response = await client.post(
        f"/v1/webhooks/shopify/{source.write_key}/orders-create",
        content=body,
        headers={"X-Shopify-Hmac-Sha256": signature(secret, body)},
    )
    return response.status_code


@pytest.fixture
def restore_keyring(settings: Settings) -> Iterator[None]:
    yield
    configure_keyring(settings.secret_keys())


@pytest.mark.usefixtures("restore_keyring")
async def test_the_secret_survives_a_key_ring_rotation(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    shop = await make_shop(client, database)
    source = await make_source(database, shop.workspace, "shopify")
    secret = await _secret(database, source)
    configure_keyring([b"a brand new master key, first in the ring", *settings.secret_keys()])
    assert await _secret(database, source) == secret
    assert await _deliver(client, source, secret) == 200


async def test_each_source_has_its_own_random_secret(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    first = await make_source(database, shop.workspace, "shopify")
    second = await make_source(database, shop.workspace, "shopify EU")
    first_secret, second_secret = await _secret(database, first), await _secret(database, second)
    assert first_secret != second_secret
    assert len(first_secret) == 43
    assert await _deliver(client, second, first_secret) == 401


async def test_storing_the_shops_secret_replaces_the_old_one_at_once(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    source = await make_source(database, shop.workspace, "shopify")
    old = await _secret(database, source)
    async with database.session() as session:
        stored = await sources.set_webhook_secret(
            session,
            workspace_id=shop.workspace.id,
            source_id=source.id,
            actor=SYSTEM,
            secret=f"  {SHOPS_SECRET}\n",
        )
    assert stored == SHOPS_SECRET
    assert (await _deliver(client, source, old), await _deliver(client, source, SHOPS_SECRET)) == (
        401,
        200,
    )


async def test_a_secret_change_is_audited_without_the_secret(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    source = await make_source(database, shop.workspace, "shopify")
    async with database.session() as session:
        new = await sources.set_webhook_secret(
            session, workspace_id=shop.workspace.id, source_id=source.id, actor=SYSTEM
        )
        rows = await session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "source.webhook_secret_changed")
        )
        [event] = rows.scalars().all()
    assert (event.workspace_id, event.target_id, event.details) == (
        shop.workspace.id,
        source.id,
        {"generated": True},
    )
    assert new not in orjson.dumps(event.details).decode()


def test_the_upgrade_keeps_the_secret_existing_shops_were_given(
    tmp_path: Path, settings: Settings
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'upgrade.db'}"
    upgrade(url, "20261123_0002")
    plain_url = url.replace("+aiosqlite", "")
    engine = sa.create_engine(plain_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO workspaces (id, slug, name, mfa_required, created_at) "
                "VALUES ('w1', 'old-shop', 'Old shop', 0, '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO sources (id, workspace_id, name, write_key, enabled, created_at) "
                "VALUES ('s1', 'w1', 'shopify', 'wk_old', 1, '2026-01-01 00:00:00')"
            )
        )
    configure_keyring(settings.secret_keys())
    derived_before_upgrade = keyring().sign("shopify-webhook:s1")
    upgrade(url, "head")
    with engine.begin() as connection:
        sealed = connection.execute(sa.text("SELECT webhook_secret FROM sources")).scalar_one()
    engine.dispose()
    assert keyring().decrypt(sealed, "sources.webhook_secret:s1") == derived_before_upgrade


async def test_a_source_without_a_secret_refuses_every_webhook(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    source = await make_source(database, shop.workspace, "shopify")
    async with database.session() as session:
        await session.execute(sa.update(Source).values(webhook_secret=None))
    assert await _deliver(client, source, "") == 401


def _cli(settings: Settings, *args: str, stdin: str = "") -> list[str]:
    return run_cli(settings, "sources", "webhook-secret", *args, stdin=stdin)


async def test_the_cli_shows_rotates_and_stores_the_secret(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    shop = await make_shop(client, database)
    source = await make_source(database, shop.workspace, "shopify")
    where = ("--workspace", shop.workspace.slug, "--write-key", source.write_key)
    assert _cli(settings, *where)[-1] == await _secret(database, source)
    rotated = _cli(settings, *where, "--rotate")[-1]
    assert rotated == await _secret(database, source)
    assert _cli(settings, *where, "--set", stdin=SHOPS_SECRET + "\n") == []
    assert (await _secret(database, source), _cli(settings, *where)[-1]) == (
        SHOPS_SECRET,
        SHOPS_SECRET,
    )
