"""PostgreSQL connections are handed out live without a round trip on a busy pool: a checkout
asks the driver whether the server closed the connection, and pings only one that has been
idle for long (core/db.py)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from rapport.core import db as core_db
from rapport.core.db import CommitOutcomeUnknown, Database
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


async def drop_connection(database: Database, driver: Any) -> None:
    """Terminate the server process behind `driver`, as a restart would, and wait until the
    event loop has seen the connection close."""
    admin = await asyncpg.connect(database.url.replace("+asyncpg", ""))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", driver.get_server_pid())
    finally:
        await admin.close()
    async with asyncio.timeout(30):  # a hang guard only
        while not driver.is_closed():
            await asyncio.sleep(0.01)


class SilentRelay:
    """A TCP relay to the test's PostgreSQL that can lose its links without a word: after
    `cut()`, the next packet sent on an earlier link is answered with a reset, as after the
    database host rebooted or a virtual IP moved (nothing closes the socket before)."""

    def __init__(self, url: str) -> None:
        self.target = make_url(url)
        self.generation = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        """Listen; return the URL that goes through the relay."""
        self.server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        relayed = self.target.set(host="127.0.0.1", port=port)
        return relayed.render_as_string(hide_password=False)

    def cut(self) -> None:
        self.generation += 1

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = self.target.host or "127.0.0.1", self.target.port or 5432
        upstream_reader, upstream = await asyncio.open_connection(host, port)
        born = self.generation
        with contextlib.suppress(ConnectionError):  # the other side of a reset link
            await asyncio.gather(
                self._pump(reader, upstream, born, writer),
                self._pump(upstream_reader, writer, born, writer),
            )

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        born: int,
        client: asyncio.StreamWriter,
    ) -> None:
        while data := await source.read(65536):
            if self.generation != born:  # the link is gone: reset the client's side
                linger = struct.pack("ii", 1, 0)
                client.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, linger
                )
                client.transport.abort()
                sink.transport.abort()
                return
            sink.write(data)
            await sink.drain()
        sink.close()  # one side hung up: so does the other


@pytest.fixture
async def relay(postgres: Database) -> AsyncIterator[SilentRelay]:
    relay = SilentRelay(postgres.url)
    yield relay
    await relay.close()


async def test_a_busy_pool_pings_nothing(postgres: Database, pings: list[int]) -> None:
    for _ in range(5):
        assert await one(postgres) == 1
    assert pings == []


async def test_a_connection_the_server_closed_is_replaced(
    postgres: Database, pings: list[int]
) -> None:
    assert await one(postgres) == 1
    await drop_connection(postgres, await pooled_driver(postgres))
    assert await one(postgres) == 1
    assert pings == []  # seen closed without a round trip


async def test_a_long_idle_connection_is_pinged_first(postgres: Database, pings: list[int]) -> None:
    every_reuse = Database(postgres.url, ping_after_idle=0.0)
    try:
        assert await one(every_reuse) == 1
        assert pings == []  # a new connection is not pinged
        assert await one(every_reuse) == 1
        assert pings == [1]
    finally:
        await every_reuse.dispose()


async def test_a_link_that_died_silently_fails_one_unit_unless_pinged(
    relay: SilentRelay, pings: list[int]
) -> None:
    """The trade-off RAPPORT_DATABASE_PING_AFTER_IDLE makes: with the default, a connection
    used moments before a silent cut fails its next unit of work once (and is replaced);
    pinging every reuse (0) finds it dead and reconnects first."""
    url = await relay.start()
    for ping_after_idle, survives in ((30.0, False), (0.0, True)):
        database = Database(url, ping_after_idle=ping_after_idle)
        try:
            assert await one(database) == 1
            relay.cut()
            if survives:
                assert await one(database) == 1
                assert pings == [1]
            else:
                with pytest.raises(DBAPIError) as lost:
                    await one(database)
                assert lost.value.connection_invalidated
                assert await one(database) == 1  # replaced
        finally:
            await database.dispose()


async def test_a_connection_lost_in_the_commit_is_an_unknown_outcome(
    relay: SilentRelay,
) -> None:
    database = Database(await relay.start())
    try:
        with pytest.raises(CommitOutcomeUnknown):
            async with database.session() as session:
                await session.execute(text("SELECT 1"))
                relay.cut()  # the next packet is the COMMIT
    finally:
        await database.dispose()


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
        await drop_connection(postgres, await pooled_driver(postgres))
        with monkeypatch.context() as patched:
            patched.setattr(core_db, "_seen_closed", lambda _record: False)  # not seen yet
            lost = await client.get("/test-only/one")
        again = await client.get("/test-only/one")
    assert lost.status_code == 503
    assert lost.headers["retry-after"] == "1"
    body = lost.json()
    assert body.pop("request_id")
    assert body == {
        "error": "ServiceUnavailable",
        "detail": "The database connection was lost; try again.",
    }
    assert again.json() == {"one": 1}
