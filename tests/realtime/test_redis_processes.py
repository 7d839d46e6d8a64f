"""Two `rapport serve` processes over one PostgreSQL and one Redis: a widget on one and a
console on the other chat live, and reconnecting clients catch up without gaps or doubles."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from rapport.config import Settings
from rapport.core.db import Database
from rapport.core.realtime import RESYNC
from rapport.identity.sessions import sign_ins
from tests.fixtures.identity import bearer, make_api_key, make_source, make_staff, make_workspace
from tests.fixtures.processes import ServerProcess, relaying_servers
from tests.fixtures.redis import (
    NO_REDIS,
    REDIS_SERVER,
    OwnRedis,
    any_redis,
    own_redis,
    redis_available,
    wait_relaying,
)

pytestmark = pytest.mark.skipif(not redis_available(), reason=NO_REDIS)

WAIT = 30.0
NEEDS_POSTGRES = (
    "PostgreSQL variant only: two `rapport serve` processes share PostgreSQL "
    "(RAPPORT_TEST_DATABASE_URL, set by .ci/run); SQLite is one process's database"
)


@dataclass(frozen=True)
class Shop:
    workspace_id: str
    write_key: str
    api_key: str
    session_token: str


@pytest.fixture
async def shop(app: FastAPI, database: Database, database_url: str) -> Shop:
    """A workspace with a widget source, an API key and a signed-in owner (PostgreSQL only)."""
    if not database_url.startswith("postgresql"):
        pytest.skip(NEEDS_POSTGRES)
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    owner = await make_staff(database, workspace)
    signed_in = await sign_ins.sign_in(
        database, email=owner.email, password=owner.password, ip_address=None
    )
    key = await make_api_key(database, workspace)
    return Shop(workspace.id, source.write_key, key, signed_in.token)


@contextmanager
def _servers(settings: Settings, redis_url: str, directory: Path) -> Iterator[list[ServerProcess]]:
    """Run two servers on the test's database and the given Redis, both relaying."""
    assert settings.secret_key is not None
    with relaying_servers(
        2,
        database_url=settings.database_url,
        secret_key=settings.secret_key.get_secret_value(),
        redis_url=redis_url,
        data_dir=directory,
    ) as servers:
        yield servers


@pytest.fixture
def servers(shop: Shop, settings: Settings, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Two servers over CI's Redis (or one started here)."""
    with any_redis(tmp_path / "redis") as url, _servers(settings, url, tmp_path) as running:
        yield running


class Client:
    """A WebSocket client reading JSON frames."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ready: dict[str, Any] = {}

    async def send(self, frame: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(frame))

    async def next(self) -> dict[str, Any]:
        """Return the next frame (failing after WAIT seconds)."""
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), WAIT))
        return frame

    async def until(self, kind: str) -> list[dict[str, Any]]:
        """Return the frames up to and including the next one of type `kind`."""
        frames = [await self.next()]
        while frames[-1]["type"] != kind:
            frames.append(await self.next())
        return frames


@asynccontextmanager
async def console(server: ServerProcess, shop: Shop, topic: str) -> AsyncIterator[Client]:
    """A console's realtime socket (subscribed once the handshake is done)."""
    url = f"{server.ws_url}/ws?topic={topic}"
    headers = {"cookie": f"rapport_session={shop.session_token}"}
    async with connect(url, additional_headers=headers) as socket:
        yield Client(socket)


@asynccontextmanager
async def widget(server: ServerProcess, hello: dict[str, Any]) -> AsyncIterator[Client]:
    """A widget's socket, greeted; the `ready` frame is consumed."""
    async with connect(f"{server.ws_url}/widget/ws") as socket:
        client = Client(socket)
        await client.send({"type": "hello", **hello})
        client.ready = await client.next()
        assert client.ready["type"] == "ready"
        yield client


async def _reply(server: ServerProcess, shop: Shop, conversation_id: str, text: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(shop.api_key)) as client:
        posted = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"kind": "reply", "body": text},
        )
        assert posted.status_code == 201


async def _write(chat: Client, client_id: str, text: str) -> dict[str, Any]:
    """Send a customer message; return its stored form once acknowledged."""
    await chat.send({"type": "message", "client_id": client_id, "body": text})
    message, ack = await chat.next(), await chat.next()
    assert (message["type"], ack["type"]) == ("message", "ack")
    stored: dict[str, Any] = message["message"]
    return stored


def _fields(push: dict[str, Any], *names: str) -> dict[str, Any]:
    """Return a push's type, conversation and the named fields (pushes may carry more)."""
    return {name: push[name] for name in ("type", "conversation_id", *names)}


def _seen(frames: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    return [
        (f["message"]["seq"], f["message"]["author_type"], f["message"]["body"]) for f in frames
    ]


async def test_a_chat_crosses_processes_both_ways(servers: list[ServerProcess], shop: Shop) -> None:
    first, second = servers
    async with (
        console(second, shop, "conversations") as inbox_b,
        console(first, shop, "conversations") as inbox_a,
        widget(first, {"write_key": shop.write_key}) as chat,
    ):
        sent = await _write(chat, "client-0001", "Is the linen shirt in stock?")
        conversation_id = sent["conversation_id"]
        created = await inbox_b.until("message.created")
        assert _fields(created[-1], "message_id", "author_type", "private") == {
            "type": "message.created", "conversation_id": conversation_id,
            "message_id": sent["id"], "author_type": "customer", "private": False,
        }  # fmt: skip
        assert created[0]["type"] == "conversation.created"
        async with console(second, shop, f"conversation:{conversation_id}") as thread_b:
            await chat.send({"type": "typing"})
            assert await thread_b.next() == {
                "type": "typing",
                "author_type": "customer",
                "conversation_id": conversation_id,
            }
        await _reply(second, shop, conversation_id, "Yes, in every size.")
        assert _seen([await chat.next()]) == [(2, "agent", "Yes, in every size.")]
        async with httpx.AsyncClient(base_url=second.url, headers=bearer(shop.api_key)) as api:
            changed = await api.patch(
                f"/api/v1/conversations/{conversation_id}", json={"status": "resolved"}
            )
            assert changed.status_code == 200
        frames = await inbox_a.until("conversation.status_changed")
        assert _fields(frames[-1], "previous", "status") == {
            "type": "conversation.status_changed", "conversation_id": conversation_id,
            "previous": "open", "status": "resolved",
        }  # fmt: skip


async def test_a_reconnect_to_the_other_process_catches_up_without_gaps_or_doubles(
    servers: list[ServerProcess], shop: Shop
) -> None:
    first, second = servers
    async with widget(first, {"write_key": shop.write_key}) as chat:
        sent = await _write(chat, "client-0002", "Where is my parcel?")
        token = chat.ready["visitor_token"]
    conversation_id = sent["conversation_id"]
    await _reply(first, shop, conversation_id, "It left today.")
    await _reply(second, shop, conversation_id, "Tracking: 0042.")
    hello = {"write_key": shop.write_key, "visitor_token": token}
    resume = {**hello, "conversation_id": conversation_id, "after": 1}
    async with widget(second, resume) as chat:
        missed = [await chat.next(), await chat.next()]
        assert _seen(missed) == [(2, "agent", "It left today."), (3, "agent", "Tracking: 0042.")]
        await _reply(first, shop, conversation_id, "Anything else?")
        assert _seen([await chat.next()]) == [(4, "agent", "Anything else?")]
        await chat.send({"type": "ping"})
        assert await chat.next() == {"type": "pong"}  # nothing doubled came before it


@pytest.fixture
def restartable_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server of this test's own, to stop and start again."""
    if REDIS_SERVER is None:
        pytest.skip("needs Debian's redis-server to stop and restart it")
    with own_redis(tmp_path / "redis") as server:
        yield server


async def test_redis_going_away_loses_nothing_once_it_is_back(
    shop: Shop, settings: Settings, restartable_redis: OwnRedis, tmp_path: Path
) -> None:
    with _servers(settings, restartable_redis.url, tmp_path) as (first, second):
        async with (
            widget(first, {"write_key": shop.write_key}) as chat,
            console(first, shop, "conversations") as inbox,
        ):
            sent = await _write(chat, "client-0003", "Can I change my address?")
            await inbox.until("message.created")
            restartable_redis.stop()
            await _reply(second, shop, sent["conversation_id"], "Yes, until it ships.")
            restartable_redis.start()
            assert await inbox.until(RESYNC) == [{"type": RESYNC}]
            assert _seen([await chat.next()]) == [(2, "agent", "Yes, until it ships.")]
            wait_relaying(restartable_redis.url, 2)  # the second process is back too
            await _reply(second, shop, sent["conversation_id"], "Done.")
            assert _seen([await chat.next()]) == [(3, "agent", "Done.")]
