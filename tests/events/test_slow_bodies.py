"""A sender that trickles a webhook body holds no unit of work: others are answered meanwhile."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from rapport.config import Settings
from rapport.core.db import Database
from tests.fixtures.events import track, write_key_auth
from tests.fixtures.identity import make_source, make_workspace
from tests.fixtures.server import LiveServer

# More than the PostgreSQL pool holds (10 + 10 overflow): held sessions would exhaust it.
HELD_REQUESTS = 25


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """This address may send every held body at once: the test is about the database, not
    the per-address limit (tests/http/test_bodies.py covers that)."""
    return settings.model_copy(update={"bodies_per_address": HELD_REQUESTS + 5})


# Generous: an answer either comes at once or waits for as long as the sockets stay open.
ANSWER_WITHIN_SECONDS = 5


def _partial_webhook(port: int, write_key: str) -> socket.socket:
    """Start a webhook request that promises 1,000 bytes of body and sends one."""
    sender = socket.create_connection(("127.0.0.1", port))
    sender.sendall(
        f"POST /v1/webhooks/shopify/{write_key}/orders-create HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "X-Shopify-Hmac-Sha256: c2lnbmF0dXJl\r\nContent-Length: 1000\r\n\r\n{".encode()
    )
    return sender


@contextmanager
def _held_webhooks(port: int, write_key: str, count: int) -> Iterator[None]:
    senders = [_partial_webhook(port, write_key) for _ in range(count)]
    try:
        yield
    finally:
        for sender in senders:
            sender.close()


async def test_webhook_bodies_held_open_do_not_block_readiness_or_ingestion(
    live_server: LiveServer, database: Database
) -> None:
    source = await make_source(database, await make_workspace(database), "shopify")
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        with _held_webhooks(live_server.port, source.write_key, HELD_REQUESTS):
            # The server reads requests in arrival order: once this is answered, every held
            # webhook has reached its handler and waits for the rest of its body.
            assert (await client.get("/healthz")).status_code == 200
            ready = await asyncio.wait_for(client.get("/readyz"), ANSWER_WITHIN_SECONDS)
            tracked = await asyncio.wait_for(
                client.post(
                    "/v1/track",
                    json=track("Viewed", userId="u-1"),
                    headers=write_key_auth(source.write_key),
                ),
                ANSWER_WITHIN_SECONDS,
            )
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "up"})
    assert (tracked.status_code, tracked.json()) == (200, {"success": True})
