"""The ingestion hot path: authenticate, check, one bulk INSERT and one job per request."""

from __future__ import annotations

import asyncio
import base64
import logging
import multiprocessing
import signal
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.crypto import configure_keyring, keyring
from rapport.core.db import Database
from rapport.core.groupcommit import GroupCommit
from rapport.core.ids import new_ids
from rapport.core.jobs import enqueue
from rapport.core.ratelimit import RateLimiter
from rapport.events.enums import CallType
from rapport.events.errors import IngestionThrottled, InvalidWriteKey
from rapport.events.repository import EventRepository, encode_time_for
from rapport.events.wire import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_EVENT_BYTES,
    Call,
    Rejection,
    decompress,
    parse_batch,
    parse_single,
)
from rapport.identity.enums import Scope
from rapport.identity.errors import NotSignedIn
from rapport.identity.keys import API_KEY_PREFIX, api_keys, sources

SOURCE_CACHE_SECONDS = 10.0
PROCESS_JOB = "events.process_batch"
# Bodies from this size up go to a preparation process (a 500-call batch is ~150 KB).
POOL_MIN_BYTES = 16 * 1024
# Preparation processes that may die within a minute before the server stops respawning them.
MAX_DEATHS_A_MINUTE = 3
# Invalid write keys an address may send a minute before it is refused unheard.
BAD_KEYS_PER_MINUTE = 30
# Requests that arrive while calls are being written share the next transaction, up to this
# many calls (a few tens of milliseconds of SQLite's single writer).
MAX_GROUP_ROWS = 5000

logger = logging.getLogger("rapport.events")


@dataclass(frozen=True)
class Sender:
    """Who sent calls: a source by its public write key, or a trusted server by secret key."""

    workspace_id: str
    source_id: str | None
    trusted: bool


Stored = tuple[Sender, list[tuple[Any, ...]]]
"""A request's prepared rows and who sent them."""


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


@dataclass(frozen=True)
class Prepared:
    """A request's calls, checked and sealed: event-store rows without their sender columns
    (EVENT_COLUMNS after SENDER_COLUMNS), the calls refused and the body's own write key."""

    rows: list[tuple[Any, ...]]
    rejected: list[Rejection]
    write_key: str | None


def prepare(
    body: bytes,
    content_encoding: str,
    call_type: CallType | None,
    received_at: datetime,
    dialect: str,
) -> Prepared:
    """Inflate, parse, check and seal one request's calls: pure CPU work, no I/O, so it runs
    in the server process or, for large bodies, in a preparation process (see CallPreparer)."""
    limit = MAX_BATCH_BYTES if call_type is None else MAX_EVENT_BYTES
    plain = decompress(body, content_encoding, limit)
    if call_type is None:
        parsed = parse_batch(plain, received_at)
    else:
        parsed = parse_single(plain, call_type, received_at)
    rows = event_rows(parsed.calls, received_at, encode_time_for(dialect))
    return Prepared(rows, parsed.rejected, parsed.write_key)


def event_rows(
    calls: list[Call], received_at: datetime, encode_time: Callable[[datetime | None], Any]
) -> list[tuple[Any, ...]]:
    """Return the event-store rows of some calls (sender columns left out), each payload
    sealed to its row id."""
    ring = keyring()
    index = ring.blind_index
    received = encode_time(received_at)
    event_ids = new_ids(len(calls))
    payloads = ring.encrypt_many(
        [call.raw for call in calls], [payload_aad(event_id) for event_id in event_ids]
    )
    encoded: dict[datetime | None, Any] = {None: None}  # a batch shares sentAt, often more

    def encode(moment: datetime | None) -> Any:
        if moment not in encoded:
            encoded[moment] = encode_time(moment)
        return encoded[moment]

    return [
        (
            event_id, received, call.message_id, call.type, call.name,
            call.user_id and index(call.user_id, "events.user_id"),
            call.anonymous_id and index(call.anonymous_id, "events.anonymous_id"),
            call.channel, encode(call.timestamp), received, encode(call.sent_at),
            encode(call.original_timestamp), payload,
        )
        for call, event_id, payload in zip(calls, event_ids, payloads, strict=True)
    ]  # fmt: skip


class CallPreparer:
    """Runs `prepare` in the server process, or for large bodies in preparation processes.

    A server process runs its Python under one lock (the GIL): parsing and sealing a batch of
    500 calls would compete with the database driver binding the previous batch's rows.
    Preparation processes have their own GIL and CPU, leaving the server's event loop to HTTP,
    the INSERT and the commit. Small bodies (one call from a browser) stay inline, where a
    round trip to another process would cost more than the work."""

    def __init__(self, processes: int = 0) -> None:
        self.processes = processes
        self._masters: list[bytes] = []
        self._pool: ProcessPoolExecutor | None = None
        self._deaths: list[float] = []

    def start(self, masters: list[bytes]) -> None:
        """Start the preparation processes (none when `processes` is 0)."""
        self._masters = masters
        if self.processes > 0:
            self._pool = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_preparation_process,
                initargs=(masters,),
            )
            for _ in range(self.processes):
                self._pool.submit(int)  # spawn them now, not on the first batch

    def stop(self) -> None:
        """Stop the preparation processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def prepare(
        self,
        body: bytes,
        content_encoding: str,
        call_type: CallType | None,
        received_at: datetime,
        dialect: str,
    ) -> Prepared:
        """Prepare a request's calls where it is cheapest."""
        arguments = (body, content_encoding, call_type, received_at, dialect)
        pool = self._pool
        if pool is None or len(body) < POOL_MIN_BYTES:
            return prepare(*arguments)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, prepare, *arguments)
        except BrokenProcessPool:
            # A preparation process died (killed, out of memory): start afresh, lose nothing.
            if self._pool is pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                self._restart()
            return prepare(*arguments)

    def _restart(self) -> None:
        """Start fresh preparation processes, unless they keep dying: then prepare in the
        server process from now on rather than respawn on every request."""
        now = time.monotonic()
        self._deaths = [moment for moment in self._deaths if now - moment < 60] + [now]
        if len(self._deaths) > MAX_DEATHS_A_MINUTE:
            logger.error("preparation processes keep dying; preparing in the server process")
            return
        logger.warning("preparation process died; restarting the pool")
        self.start(self._masters)


def _start_preparation_process(masters: list[bytes]) -> None:
    """Set up a preparation process: the server's key ring; Ctrl-C is the server's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_keyring(masters)


class IngestService:
    """Ingestion for one application: its call preparer and its rate limits."""

    def __init__(self, preparer: CallPreparer | None = None, events_per_second: int = 0) -> None:
        self.preparer = preparer or CallPreparer()
        # A source may send a few seconds' worth at once, and never less than one full batch.
        burst = max(5 * events_per_second, MAX_BATCH_EVENTS)
        self.per_sender = RateLimiter(events_per_second, burst)
        self.bad_keys_per_address = RateLimiter(BAD_KEYS_PER_MINUTE / 60, BAD_KEYS_PER_MINUTE)
        self._writers: dict[Database, GroupCommit[Stored]] = {}

    def start(self, masters: list[bytes]) -> None:
        """Start what ingestion runs beside the server (preparation processes)."""
        self.preparer.start(masters)

    def stop(self) -> None:
        """Stop it."""
        self.preparer.stop()

    async def ingest(
        self, database: Database, request: IngestRequest, call_type: CallType | None
    ) -> Prepared:
        """Store the calls of one request durably and queue their processing.

        Preparing (parsing, checking, sealing) happens before the unit of work opens, so the
        database (SQLite's single writer above all) is held only for the INSERT and commit."""
        header_key = basic_username(request.authorization)
        sender = None
        if header_key is not None:
            sender = await self.sender(database, header_key, request.ip_address)
            self._refuse_if_over_rate(sender, 1)  # before any work on the body
        else:
            self._refuse_if_sending_bad_keys(request.ip_address)
        dialect = "postgresql" if database.is_postgres else "sqlite"
        prepared = await self.preparer.prepare(
            request.body, request.content_encoding, call_type, utcnow(), dialect
        )
        if sender is None:
            sender = await self.sender(database, prepared.write_key, request.ip_address)
        if not prepared.rows:
            return prepared
        self._refuse_if_over_rate(sender, len(prepared.rows), take=True)
        try:
            await self._writer(database).submit((sender, prepared.rows), len(prepared.rows))
        except Exception:
            # Not stored: the retry that follows must not find the allowance spent. (A client
            # that hung up is not this case: its write goes on, see GroupCommit.submit.)
            self.per_sender.give_back(_rate_key(sender), len(prepared.rows))
            raise
        return prepared

    def _refuse_if_over_rate(self, sender: Sender, calls: int, *, take: bool = False) -> None:
        key = _rate_key(sender)
        wait = self.per_sender.take(key, calls) if take else self.per_sender.wait(key)
        if wait:
            raise IngestionThrottled(
                f"This source sends over its limit of {self.per_sender.rate:,.0f} calls a "
                f"second; retry in {wait} s.",
                wait,
            )

    def _refuse_if_sending_bad_keys(self, ip_address: str | None) -> None:
        if wait := self.bad_keys_per_address.wait(ip_address or "unknown"):
            raise IngestionThrottled(f"Too many invalid write keys; retry in {wait} s.", wait)

    def _writer(self, database: Database) -> GroupCommit[Stored]:
        writer = self._writers.get(database)
        if writer is None:
            writer = self._writers[database] = GroupCommit(database, self.store, MAX_GROUP_ROWS)
        return writer

    async def sender(self, database: Database, key: str | None, ip_address: str | None) -> Sender:
        """Authenticate a key, from the in-process cache when it can. An address that keeps
        sending bad keys is turned away before the database is asked, unless the key is one
        that was valid here recently (its cache entry only lapsed)."""
        cached = _source_cache.get(key or "")
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        if cached is None:
            self._refuse_if_sending_bad_keys(ip_address)
        try:
            async with database.session() as session:
                return await authenticate(session, key, ip_address)
        except InvalidWriteKey:
            self.bad_keys_per_address.take(ip_address or "unknown")
            raise

    async def store(self, session: AsyncSession, requests: list[Stored]) -> None:
        """Insert the prepared rows of some requests, stamped with their sender, in one
        statement per workspace, and queue one processing job per request."""
        stamped: dict[str, list[tuple[Any, ...]]] = {}
        for sender, rows in requests:
            stamp = (sender.workspace_id, sender.source_id, sender.trusted)
            stamped.setdefault(sender.workspace_id, []).extend(stamp + row for row in rows)
            enqueue(
                session,
                PROCESS_JOB,
                workspace_id=sender.workspace_id,
                event_ids=[row[0] for row in rows],
            )
        for workspace_id, rows in stamped.items():
            await EventRepository(session, workspace_id).insert_many(rows)


async def authenticate(session: AsyncSession, key: str | None, ip_address: str | None) -> Sender:
    """Resolve a write key (remembered briefly) or a secret key with events:write."""
    if not key:
        raise InvalidWriteKey()
    if key.startswith(API_KEY_PREFIX):
        try:
            principal = await api_keys.authenticate(session, key, ip_address)
        except NotSignedIn as error:
            raise InvalidWriteKey("Unknown, expired or revoked secret key.") from error
        if not principal.can(Scope.events_write):
            raise InvalidWriteKey("This secret key lacks the events:write scope.")
        return Sender(principal.workspace_id, None, trusted=True)
    source = await sources.by_write_key(session, key)
    if source is None:
        raise InvalidWriteKey("Unknown write key, or its source is disabled.")
    sender = Sender(source.workspace_id, source.id, trusted=False)
    _source_cache[key] = (time.monotonic() + SOURCE_CACHE_SECONDS, sender)
    return sender


def _rate_key(sender: Sender) -> str:
    """Name the allowance a sender draws on: its source, or its workspace for secret keys."""
    return sender.source_id or sender.workspace_id
