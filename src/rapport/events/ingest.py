"""The ingestion hot path: authenticate, check, one bulk INSERT and one job per request."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.crypto import keyring
from rapport.core.db import Database
from rapport.core.ids import new_id
from rapport.core.jobs import enqueue
from rapport.events.enums import CallType
from rapport.events.errors import InvalidWriteKey
from rapport.events.repository import EventRepository, encode_time_for
from rapport.events.wire import (
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    Call,
    Parsed,
    decompress,
    parse_batch,
    parse_single,
)
from rapport.identity.enums import Scope
from rapport.identity.keys import API_KEY_PREFIX, api_keys, sources

SOURCE_CACHE_SECONDS = 10.0
PROCESS_JOB = "events.process_batch"


@dataclass(frozen=True)
class Sender:
    """Who sent calls: a source by its public write key, or a trusted server by secret key."""

    workspace_id: str
    source_id: str | None
    trusted: bool


@dataclass(frozen=True)
class IngestRequest:
    """The parts of an HTTP request ingestion needs."""

    body: bytes
    content_encoding: str
    authorization: str
    ip_address: str | None


_source_cache: dict[str, tuple[float, Sender]] = {}


def payload_aad(event_id: str) -> str:
    """Return the AES-GCM associated data that binds a stored payload to its row."""
    return f"events.payload:{event_id}"


def basic_username(authorization: str) -> str | None:
    """Return the user name of a Basic Authorization header (Segment puts the key there)."""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except ValueError:
        return None
    return decoded.partition(":")[0] or None


class IngestService:
    async def ingest(
        self, database: Database, request: IngestRequest, call_type: CallType | None
    ) -> Parsed:
        """Store the calls of one request durably and queue their processing.

        Parsing and sealing happen before the unit of work opens, so the database (SQLite's
        single writer above all) is held only for the INSERT and the commit."""
        header_key = basic_username(request.authorization)
        sender = None
        if header_key is not None:
            sender = await self.sender(database, header_key, request.ip_address)
        limit = MAX_BATCH_BYTES if call_type is None else MAX_EVENT_BYTES
        body = decompress(request.body, request.content_encoding, limit)
        received_at = utcnow()
        if call_type is None:
            parsed = parse_batch(body, received_at)
        else:
            parsed = parse_single(body, call_type, received_at)
        if sender is None:
            sender = await self.sender(database, parsed.write_key, request.ip_address)
        encode_time = encode_time_for("postgresql" if database.is_postgres else "sqlite")
        rows = self.rows(sender, parsed.calls, received_at, encode_time)
        async with database.session() as session:
            await self.store(session, sender, rows)
        return parsed

    async def sender(self, database: Database, key: str | None, ip_address: str | None) -> Sender:
        """Authenticate a key, from the in-process cache when it can."""
        cached = _source_cache.get(key or "")
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with database.session() as session:
            return await self.authenticate(session, key, ip_address)

    async def authenticate(
        self, session: AsyncSession, key: str | None, ip_address: str | None
    ) -> Sender:
        """Resolve a write key (remembered briefly) or a secret key with events:write."""
        if not key:
            raise InvalidWriteKey()
        if key.startswith(API_KEY_PREFIX):
            principal = await api_keys.authenticate(session, key, ip_address)
            if not principal.can(Scope.events_write):
                raise InvalidWriteKey("This secret key lacks the events:write scope.")
            return Sender(principal.workspace_id, None, trusted=True)
        return await self._look_up_source(session, key)

    async def _look_up_source(self, session: AsyncSession, key: str) -> Sender:
        source = await sources.by_write_key(session, key)
        if source is None:
            raise InvalidWriteKey("Unknown write key, or its source is disabled.")
        sender = Sender(source.workspace_id, source.id, trusted=False)
        _source_cache[key] = (time.monotonic() + SOURCE_CACHE_SECONDS, sender)
        return sender

    async def store(
        self, session: AsyncSession, sender: Sender, rows: list[tuple[Any, ...]]
    ) -> None:
        """Insert event rows in one statement and queue one job to process them."""
        if not rows:
            return
        await EventRepository(session, sender.workspace_id).insert_many(rows)
        enqueue(
            session,
            PROCESS_JOB,
            workspace_id=sender.workspace_id,
            event_ids=[row[0] for row in rows],
        )

    def rows(
        self,
        sender: Sender,
        calls: list[Call],
        received_at: datetime,
        encode_time: Callable[[datetime | None], Any],
    ) -> list[tuple[Any, ...]]:
        """Return the event-store rows of some calls, each payload sealed to its row id."""
        ring = keyring()
        seal, index = ring.encrypt, ring.blind_index
        received = encode_time(received_at)
        workspace_id, source_id, trusted = sender.workspace_id, sender.source_id, sender.trusted
        rows = []
        for call in calls:
            event_id = new_id()
            rows.append((
                event_id, received, workspace_id, source_id, call.message_id, call.type, call.name,
                call.user_id and index(call.user_id, "events.user_id"),
                call.anonymous_id and index(call.anonymous_id, "events.anonymous_id"),
                call.channel, trusted, encode_time(call.timestamp),
                received, encode_time(call.sent_at), encode_time(call.original_timestamp),
                seal(call.raw.decode(), f"events.payload:{event_id}"), None, False,
            ))  # fmt: skip
        return rows


def forget_cached_sources() -> None:
    """Drop every cached write key (tests, source changes)."""
    _source_cache.clear()


ingestion = IngestService()
