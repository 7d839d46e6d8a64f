"""PostgreSQL connections are handed out live without a round trip on a busy pool: a checkout
asks the driver whether the server closed the connection, and pings only one that has been
idle for long (core/db.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from rapport.core import db as core_db
from rapport.core.db import Database
from rapport.core.deps import SessionDep


@pytest.fixture
async def postgres(database: Database) -> AsyncIterator[Database]:
    if not database.is_postgres:
        pytest.skip("the checkout check is PostgreSQL's (SQLite has no server to lose)")
    yield database


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the pings checkouts make (the driver's own ping still runs)."""
    made: list[int] = []
    ping = AsyncAdapt_asyncpg_connection.ping

    def counted(self: Any) -> None:
        made.append(1)
        ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    return made


async def one(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(text("SELECT 1"))).scalar_one())


async def pooled_driver(database: Database) -> Any:
    """Return the asyncpg connection the pool hands out next (after giving it back)."""
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        return raw.driver_connection


async def drop_connections(database: Database, driver: Any) -> None:
    """Terminate every other backend of the test database, as a server restart would, and
    wait until the event loop has seen the pooled connection close."""
    admin = await asyncpg.connect(database.url.replace("+asyncpg", ""))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    async with asyncio.timeout(30):  # a hang guard only
        while not driver.is_closed():
            await asyncio.sleep(0.01)


async def test_a_busy_pool_pings_nothing(postgres: Database, pings: list[int]) -> None:
    for _ in range(5):
        assert await one(postgres) == 1
    assert pings == []


async def test_a_connection_the_server_closed_is_replaced(
    postgres: Database, pings: list[int]
) -> None:
    assert await one(postgres) == 1
    await drop_connections(postgres, await pooled_driver(postgres))
    assert await one(postgres) == 1
    assert pings == []  # seen closed without a round trip


async def test_a_long_idle_connection_is_pinged_first(
    postgres: Database, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await one(postgres) == 1
    monkeypatch.setattr(core_db, "PING_AFTER_IDLE", 0.0)
    assert await one(postgres) == 1
    assert pings == [1]


async def test_a_failed_ping_reconnects(
    postgres: Database, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link that died without the event loop seeing it: the ping fails, the pool
    reconnects, the unit of work runs."""
    assert await one(postgres) == 1
    driver = await pooled_driver(postgres)
    await drop_connections(postgres, driver)
    monkeypatch.setattr(core_db, "PING_AFTER_IDLE", 0.0)
    monkeypatch.setattr(core_db, "_seen_closed", lambda _record: False)  # not seen yet
    assert await one(postgres) == 1
    assert pings == [1]


async def test_a_request_that_loses_its_connection_is_503_and_the_next_works(
    postgres: Database, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The instant the event loop has not seen yet: the request fails with a 503 that says
    so (not a 500), and the pool serves the next one afresh."""

    @app.get("/test-only/one")
    async def _one(session: SessionDep) -> dict[str, int]:
        return {"one": int((await session.execute(text("SELECT 1"))).scalar_one())}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        assert (await client.get("/test-only/one")).json() == {"one": 1}
        driver = await pooled_driver(postgres)
        await drop_connections(postgres, driver)
        with monkeypatch.context() as patched:
            patched.setattr(core_db, "_seen_closed", lambda _record: False)  # not seen yet
            lost = await client.get("/test-only/one")
        again = await client.get("/test-only/one")
    assert lost.status_code == 503
    assert lost.headers["retry-after"] == "1"
    assert lost.json() == {
        "error": "ServiceUnavailable",
        "detail": "The database connection was lost; try again.",
    }
    assert again.json() == {"one": 1}
