"""Segment's own Python library, unchanged, against a running Rapport server."""

from __future__ import annotations

from datetime import UTC, datetime

from segment.analytics import Client
from segment.analytics.request import post
from sqlalchemy import select

from rapport.core.db import Database
from rapport.events.models import Event
from tests.fixtures.identity import make_source, make_workspace
from tests.fixtures.server import LiveServer


async def _message_ids(database: Database) -> list[str]:
    async with database.session() as session:
        return list(
            (await session.execute(select(Event.message_id).order_by(Event.message_id))).scalars()
        )


def _send_everything(client: Client) -> None:
    client.identify("user-1", {"email": "ada@example.com", "name": "Ada"}, message_id="py-1")
    client.track("user-1", "Order Completed", {"order_id": "o-1", "total": 30}, message_id="py-2")
    client.page("user-1", "Shop", "Home", message_id="py-3")
    client.screen("user-1", "App", "Cart", message_id="py-4")
    client.group("user-1", "company-1", {"name": "Acme"}, message_id="py-5")
    client.alias("anon-1", "user-1", message_id="py-6")
    for index in range(200):
        client.track(
            anonymous_id="anon-1", event="Product Viewed", message_id=f"py-view-{index:03d}"
        )


async def test_every_call_from_the_python_library_arrives_once(
    live_server: LiveServer, database: Database
) -> None:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    errors: list[Exception] = []
    for gzip in (False, True):  # the second client re-sends every message, gzipped
        client = Client(
            source.write_key,
            host=live_server.url,
            gzip=gzip,
            on_error=lambda e, _: errors.append(e),
            max_retries=1,
        )
        _send_everything(client)
        client.flush()
        client.join()
    assert errors == []
    expected = sorted([f"py-{n}" for n in range(1, 7)] + [f"py-view-{i:03d}" for i in range(200)])
    assert await _message_ids(database) == expected


async def test_a_resent_raw_batch_is_stored_once(
    live_server: LiveServer, database: Database
) -> None:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    batch = [
        {
            "type": "track",
            "event": "Signed Up",
            "userId": "u-7",
            "messageId": "raw-1",
            "timestamp": datetime(2026, 1, 5, tzinfo=UTC).isoformat(),
        },
    ]
    for _ in range(2):
        response = post(source.write_key, host=live_server.url, gzip=True, batch=batch)
        assert response.status_code == 200
    assert await _message_ids(database) == ["raw-1"]
