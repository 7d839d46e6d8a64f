"""The ingestion hot path: authenticate, rate-limit, prepare, then one group-committed INSERT
and one processing job per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.core.groupcommit import GroupCommit
from rapport.core.jobs import enqueue
from rapport.core.ratelimit import RateLimiter
from rapport.events.enums import CallType
from rapport.events.errors import IngestionThrottled, InvalidWriteKey
from rapport.events.preparation import CallPreparer, Prepared
from rapport.events.repository import EventRepository
from rapport.events.rows import PROCESS_JOB, PROCESS_JOB_CALLS, sender_columns
from rapport.events.senders import Sender, authenticate, basic_username, cached_sender, known_here
from rapport.events.wire import MAX_BATCH_EVENTS

# Invalid write keys an address may send a minute before it is refused unheard.
BAD_KEYS_PER_MINUTE = 30
# Requests that arrive while calls are being written share the next transaction, up to this
# many calls (a few tens of milliseconds of SQLite's single writer).
MAX_GROUP_ROWS = 5000

Stored = tuple[Sender, list[tuple[Any, ...]]]
"""A request's prepared rows and who sent them."""


@dataclass(frozen=True)
class IngestRequest:
    """The parts of an HTTP request ingestion needs."""

    body: bytes
    content_encoding: str
    authorization: str
    ip_address: str | None


class IngestService:
    """Ingestion for one application: its call preparer and its rate limits."""

    def __init__(
        self,
        preparer: CallPreparer | None = None,
        events_per_second: int = 0,
        masters: list[bytes] | None = None,
    ) -> None:
        self.preparer = preparer or CallPreparer()
        self.masters = masters or []
        # A source may send a few seconds' worth at once, and never less than one full batch.
        burst = max(5 * events_per_second, MAX_BATCH_EVENTS)
        self.per_sender = RateLimiter(events_per_second, burst)
        self.bad_keys_per_address = RateLimiter(BAD_KEYS_PER_MINUTE / 60, BAD_KEYS_PER_MINUTE)
        self._writers: dict[Database, GroupCommit[Stored]] = {}

    def start(self) -> None:
        """Start what ingestion runs beside the server (preparation processes, which need
        the key ring's masters to seal payloads)."""
        self.preparer.start(self.masters)

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
        cached = cached_sender(key)
        if cached is not None:
            return cached
        if not known_here(key):
            self._refuse_if_sending_bad_keys(ip_address)
        try:
            async with database.session() as session:
                return await authenticate(session, key, ip_address)
        except InvalidWriteKey:
            self.bad_keys_per_address.take(ip_address or "unknown")
            raise

    async def store(self, session: AsyncSession, requests: list[Stored]) -> None:
        """Insert the prepared rows of some requests, stamped with their sender, in one
        statement per workspace, and queue their processing: a job for each
        PROCESS_JOB_CALLS rows of a workspace, in the order they came."""
        stamped: dict[str, list[tuple[Any, ...]]] = {}
        ids: dict[str, list[str]] = {}
        for sender, rows in requests:
            stamp = sender_columns(sender.workspace_id, sender.source_id, sender.trusted)
            stamped.setdefault(sender.workspace_id, []).extend(stamp + row for row in rows)
            ids.setdefault(sender.workspace_id, []).extend(row[0] for row in rows)
        for workspace_id, event_ids in ids.items():
            for first in range(0, len(event_ids), PROCESS_JOB_CALLS):
                part = event_ids[first : first + PROCESS_JOB_CALLS]
                enqueue(session, PROCESS_JOB, workspace_id=workspace_id, event_ids=part)
        for workspace_id, rows in stamped.items():
            await EventRepository(session, workspace_id).insert_many(rows)


def _rate_key(sender: Sender) -> str:
    """Name the allowance a sender draws on: its source, or its workspace for secret keys."""
    return sender.source_id or sender.workspace_id
