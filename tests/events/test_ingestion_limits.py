"""Rate limits of the public ingestion API: per source, and per address for bad keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from rapport.app import create_app
from rapport.config import Settings
from rapport.core.db import Database
from rapport.events import preparation, senders
from rapport.events.ingest import BAD_KEYS_PER_MINUTE
from rapport.events.models import Event
from rapport.events.wire import MAX_BATCH_EVENTS
from tests.fixtures.events import track, write_key_auth
from tests.fixtures.identity import make_source, make_workspace


@pytest.fixture
async def limited(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose sources may send 2 calls a second (bursts of one batch)."""
    app = create_app(settings.model_copy(update={"ingest_events_per_second": 2}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


async def _stored(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(Event))).scalar_one())


async def test_a_source_over_its_rate_gets_429_and_nothing_of_that_request_is_stored(
    limited: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    headers = write_key_auth((await make_source(database, workspace)).write_key)
    other = write_key_auth((await make_source(database, workspace, name="app")).write_key)
    burst = {"batch": [track("Product Viewed") for _ in range(MAX_BATCH_EVENTS)]}
    assert (await limited.post("/v1/batch", json=burst, headers=headers)).status_code == 200

    ten = {"batch": [track("Cart Viewed") for _ in range(10)]}  # 5 s of allowance
    refused = await limited.post("/v1/batch", json=ten, headers=headers)
    assert refused.status_code == 429
    assert refused.json()["error"] == "IngestionThrottled"
    assert "limit of 2 calls a second" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) >= 1
    assert await _stored(database) == MAX_BATCH_EVENTS

    # Another source of the same shop has its own allowance.
    accepted = await limited.post("/v1/batch", json=ten, headers=other)
    assert accepted.status_code == 200
    assert await _stored(database) == MAX_BATCH_EVENTS + 10


async def test_an_address_sending_bad_keys_is_turned_away(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    good = write_key_auth((await make_source(database, workspace)).write_key)
    assert (await client.post("/v1/track", json=track("Viewed"), headers=good)).status_code == 200
    for attempt in range(BAD_KEYS_PER_MINUTE):
        wrong = write_key_auth(f"not-a-key-{attempt}")
        response = await client.post("/v1/track", json=track("Viewed"), headers=wrong)
        assert response.status_code == 401
    response = await client.post("/v1/track", json=track("Viewed"), headers=wrong)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    # A key already in use keeps working from that address (it is served from the cache).
    assert (await client.post("/v1/track", json=track("Viewed"), headers=good)).status_code == 200


async def test_bad_secret_keys_count_against_the_address_too(
    client: httpx.AsyncClient, database: Database
) -> None:
    for attempt in range(BAD_KEYS_PER_MINUTE):
        wrong = write_key_auth(f"rk_not-a-real-key-{attempt}")
        response = await client.post("/v1/track", json=track("Viewed"), headers=wrong)
        assert response.status_code == 401
        assert response.json()["error"] == "InvalidWriteKey"
    response = await client.post("/v1/track", json=track("Viewed"), headers=wrong)
    assert response.status_code == 429


async def test_a_valid_key_whose_cache_entry_lapsed_still_works_from_a_throttled_address(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    write_key = (await make_source(database, workspace)).write_key
    good = write_key_auth(write_key)
    assert (await client.post("/v1/track", json=track("Viewed"), headers=good)).status_code == 200
    for attempt in range(BAD_KEYS_PER_MINUTE + 1):
        wrong = write_key_auth(f"not-a-key-{attempt}")
        await client.post("/v1/track", json=track("Viewed"), headers=wrong)
    expires, sender = senders._source_cache[write_key]
    senders._source_cache[write_key] = (expires - 3600, sender)  # lapsed
    assert (await client.post("/v1/track", json=track("Viewed"), headers=good)).status_code == 200


async def test_a_request_refused_for_its_rate_is_refused_before_its_body_is_read(
    limited: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = await make_workspace(database)
    headers = write_key_auth((await make_source(database, workspace)).write_key)
    burst = {"batch": [track("Product Viewed") for _ in range(MAX_BATCH_EVENTS)]}
    assert (await limited.post("/v1/batch", json=burst, headers=headers)).status_code == 200
    prepared: list[bytes] = []
    original = preparation.prepare

    def spy(body: bytes, *arguments: Any) -> preparation.Prepared:
        prepared.append(body)
        return original(body, *arguments)

    monkeypatch.setattr(preparation, "prepare", spy)
    refused = await limited.post("/v1/batch", json=burst, headers=headers)
    assert refused.status_code == 429
    assert prepared == []
