"""Process stored calls a chunk at a time: open each, resolve them all through the customers
domain's one entry point, project orders and products, and settle every call: processed, or
failed and kept for re-processing (never marked processed when it was not)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Database, background_work, dialect_of, unbounded_statements
from rapport.core.foreground import gap, quiet
from rapport.core.jobs import enqueue
from rapport.customers.schemas import IdentitySignal, KeyedTouch
from rapport.customers.service import customers
from rapport.events.enums import ORDER_EVENTS, PRODUCT_COUNTERS
from rapport.events.failures import Failed, failed, processing_failures
from rapport.events.orders import (
    ItemInput,
    OrderInput,
    order_from_event,
    orders,
    text,
)
from rapport.events.repository import EventRepository, StoredCall
from rapport.events.rows import PROCESS_JOB, PROCESS_JOB_CALLS
from rapport.events.sealed import open_payload
from rapport.events.signals import signal_of
from rapport.identity.verification import Policy, identity_verification


class Sealed(Protocol):
    """A stored call's row id and sealed payload (an ORM event or a plain row)."""

    @property
    def id(self) -> str: ...

    @property
    def payload(self) -> bytes: ...


def message_of(event: Sealed) -> dict[str, Any]:
    """Open the stored original call."""
    return open_payload(event.id, event.payload)


# Calls per transaction: calls are opened and their identifiers prepared before the
# transaction writes, and what is left (driver-level statements, a few per chunk) costs tens
# of microseconds per call, so a chunk holds SQLite's writer for a few ms. Larger chunks
# process faster (fewer jobs and transactions) but stretch the live path's wait for the
# writer: bench/live.py --scenarios backlog, same machine and load, /v1/track p99 53 ms at
# 180 and 68 ms at 250 (a loaded machine; 180 gave 26.7 ms on a quiet one, target < 30).
PROCESS_CHUNK = 180
# While no live work has run on this event loop for QUIET_SECONDS (a backlog draining once
# the requests stopped, or a worker in a process of its own), a chunk takes a whole job's
# calls: a chunk's fixed cost (its job, a dozen statements, the commit) is about 4.7 ms of
# CPU, so 500 calls a transaction process about 1.3 times as many calls a second as 180
# (bench/ingest.py, docs/customer-data.md). The first request after a quiet spell may wait
# for one such chunk (about 20 ms); under live traffic chunks stay at PROCESS_CHUNK.
QUIET_CHUNK = PROCESS_JOB_CALLS
QUIET_SECONDS = 1.0
# Graph walks per transaction (identify, alias, traits, consent: a savepoint and a dozen
# statements each, several milliseconds under the workspace's lock). A chunk of 180 of them
# held SQLite's writer about a second; the calls after the last walk allowed go to the
# follow-up job.
PROCESS_WALKS = 4
# Calls opened between two turns of the event loop (a few hundred microseconds of CPU).
OPEN_SLICE = 40


@dataclass
class _Call:
    """One stored call, opened once: its message, identity signal and, once resolved, profile.
    A call stored with a lookup key is not opened (no message): its touchpoint is the key."""

    event: StoredCall
    message: dict[str, Any] | None
    signal: IdentitySignal | KeyedTouch
    customer_id: str | None = None
    # The product view or add this call counts, read before anything is written.
    product: tuple[str, ItemInput] | None = None


@dataclass
class _Chunk:
    """What a chunk's calls come to, written once at its end."""

    done: list[_Call] = field(default_factory=list)
    failures: list[Failed] = field(default_factory=list)

    def fail(self, event: StoredCall, error: BaseException) -> None:
        """Keep a call's failure: it stays unprocessed until re-processed."""
        self.failures.append(failed(event.id, event.source_id, error))


class EventProcessor:
    async def process(
        self,
        session: AsyncSession,
        workspace_id: str,
        event_ids: list[str],
        *,
        chunk: int | None = None,
    ) -> None:
        """Resolve and project stored calls, oldest first, a chunk per transaction (the rest
        goes to a follow-up job, so SQLite's writer is never held for long). `chunk`: how
        many calls to take at most (by default PROCESS_CHUNK, or QUIET_CHUNK while no live
        work runs here)."""
        # A unit of work that began before (an earlier job of its transaction) may hold
        # locks: it opens its calls without pausing for the live path.
        pausing = not session.in_transaction()
        async with _chunk_turn(session):
            # Bounded: the quick path's statements each touch at most QUIET_CHUNK calls'
            # rows; graph walks and one-by-one orders go back to the thread (unbounded).
            with background_work(bounded=True):
                most = QUIET_CHUNK if quiet(QUIET_SECONDS) else PROCESS_CHUNK
                size = max(1, min(chunk or most, most))
                part = event_ids[:size]
                left = await self._process(session, workspace_id, part, pausing=pausing)
            # Queued last: a write before the chunk's reads would hold the writer through them.
            rest = left + event_ids[size:]
            if rest:
                # Cut short by its graph walks, a chunk is followed by a small one: the calls
                # after are likely walks too, and a chunk opens every call it takes.
                taken = len(part) - len(left)
                payload: dict[str, Any] = {"event_ids": rest}
                if left:
                    payload["chunk"] = min(most, 2 * max(taken, PROCESS_WALKS))
                enqueue(session, PROCESS_JOB, workspace_id=workspace_id, **payload)

    async def _process(
        self, session: AsyncSession, workspace_id: str, event_ids: list[str], *, pausing: bool
    ) -> list[str]:
        """Process a chunk; return the ids of the calls left for later (past the graph walks
        one transaction may make), oldest first."""
        events = await EventRepository(session, workspace_id).unprocessed(event_ids)
        senders = {event.source_id for event in events if event.source_id and not event.trusted}
        policies = await identity_verification.policies(session, workspace_id, senders)
        chunk = _Chunk()
        # Opened before anything is written: decrypting and reading calls holds no writer.
        # A slice at a time, letting the event loop run in between (the commit of the chunk
        # before, which hands SQLite's writer on) and a request under way finish first.
        calls: list[_Call] = []
        for start in range(0, len(events), OPEN_SLICE):
            if start:
                await (gap() if pausing else asyncio.sleep(0))
            calls.extend(
                call
                for event in events[start : start + OPEN_SLICE]
                if (call := _open(event, policies, chunk)) is not None
            )
        resolved = await customers.resolve(
            session, workspace_id, [call.signal for call in calls], most_walks=PROCESS_WALKS
        )
        for call, outcome in zip(calls, resolved, strict=False):  # a prefix of the calls
            if outcome.error is not None:
                chunk.fail(call.event, outcome.error)
            else:
                call.customer_id = outcome.customer_id
                chunk.done.append(call)
        await self._project_orders(session, workspace_id, chunk)
        await self._finish(session, workspace_id, chunk)
        return [call.event.id for call in calls[len(resolved) :]]

    async def _project_orders(
        self, session: AsyncSession, workspace_id: str, chunk: _Chunk
    ) -> None:
        """Turn the chunk's order events into orders, all at once; when that fails, one at a
        time, each in a savepoint, so only the calls that fail are set aside."""
        projected = [(call, data) for call in chunk.done if (data := _order_of(call)) is not None]
        if not projected:
            return
        if await _applied(session, workspace_id, [data for _, data in projected]):
            return
        with unbounded_statements():  # a savepoint and an order's statements per call
            for call, data in projected:
                try:
                    async with session.begin_nested():
                        await orders.apply(session, workspace_id, data)
                except Exception as error:  # this call's failure is kept, the others go on
                    chunk.done.remove(call)
                    chunk.fail(call.event, error)

    async def _finish(self, session: AsyncSession, workspace_id: str, chunk: _Chunk) -> None:
        """Settle every call, then write what the processed ones add up to: product counters
        and the order-based traits of the profiles whose orders changed."""
        await processing_failures.settle(
            session,
            workspace_id,
            [(call.event.id, call.customer_id) for call in chunk.done],
            chunk.failures,
        )
        counted = [call.product for call in chunk.done if call.product is not None]
        await orders.count_products(session, workspace_id, counted)
        with_orders = {
            call.customer_id for call in chunk.done if call.customer_id and _is_order(call.event)
        }
        await orders.refresh_customers(session, workspace_id, sorted(with_orders))


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def _chunk_turn(session: AsyncSession) -> AsyncIterator[None]:
    """On SQLite, process one chunk at a time in a process: the work is CPU-bound, so chunks
    side by side gain nothing and, interleaved, stretch the time each holds SQLite's writer
    (which the live path waits for). On PostgreSQL a chunk waits on the network for a good
    part of its time (its statements, its commit): the next chunk opens its calls meanwhile,
    and the workspace's identity lock keeps their resolutions one after the other. A unit of
    work that already began (an earlier job of its transaction) may hold locks, so it does
    not wait for the turn: waiting could deadlock."""
    if session.in_transaction() or dialect_of(session) == "postgresql":
        yield
        return
    loop = asyncio.get_running_loop()
    turn = _turns.get(loop)
    if turn is None:
        turn = _turns[loop] = asyncio.Lock()
    async with turn:
        yield


async def _applied(session: AsyncSession, workspace_id: str, inputs: list[OrderInput]) -> bool:
    """Apply orders in one savepoint; tell whether that worked (if not, nothing was kept)."""
    try:
        async with session.begin_nested():
            await orders.apply_many(session, workspace_id, inputs)
    except Exception:  # the caller finds the failing orders one by one
        return False
    return True


def _open(event: StoredCall, policies: dict[str, Policy], chunk: _Chunk) -> _Call | None:
    """Decrypt and read a call once; a call that cannot be read is kept as a failure. A call
    stored with a lookup key (its whole identity one anonymous id: `signals.lookup_key_of`)
    is resolved by that key, and decrypted only when it describes an order or a product, or
    when the key does not do (a visitor seen for the first time, a profile the graph must be
    walked for). So a returning visitor's page call is processed without its payload being
    opened: one that no longer opens is found when it is read (the timeline shows it without
    its properties), not here."""
    try:
        if event.lookup_key is not None:
            message = message_of(event) if _describes_goods(event) else None
            if message is None:
                reveal = partial(_read_signal, event, policies)
            else:  # already open: revealing it only builds its signal
                reveal = partial(_signal, event, message, policies)
            touch = KeyedTouch(event.lookup_key, event.timestamp, event.channel, reveal)
            call = _Call(event, message, touch)
        else:
            message = message_of(event)
            call = _Call(event, message, _signal(event, message, policies))
        if message is not None:
            call.product = _product(call)
        return call
    except Exception as error:  # one call that cannot be read is its own failure
        chunk.fail(event, error)
        return None


def _signal(
    event: StoredCall, message: dict[str, Any], policies: dict[str, Policy]
) -> IdentitySignal:
    return signal_of(
        message,
        at=event.timestamp,
        channel=event.channel,
        source=event.source_id or "server",
        trusted=event.trusted,
        verified=_vouched_for(event, message, policies),
    )


def _read_signal(event: StoredCall, policies: dict[str, Policy]) -> IdentitySignal:
    """Open a call stored with a lookup key, for its whole signal."""
    return _signal(event, message_of(event), policies)


def _is_order(event: StoredCall) -> bool:
    return event.type == "track" and event.name in ORDER_EVENTS


def _is_product_call(event: StoredCall) -> bool:
    return event.type == "track" and event.name in PRODUCT_COUNTERS


def _describes_goods(event: StoredCall) -> bool:
    """Tell whether a call may describe an order or count a product (read from its payload)."""
    return _is_order(event) or _is_product_call(event)


def _order_of(call: _Call) -> OrderInput | None:
    """Read the order an order event describes (None for other calls)."""
    event = call.event
    if event.name is None or not _is_order(event):
        return None
    return order_from_event(
        event.name, _properties(call), event.timestamp, event.channel, call.customer_id
    )


def _product(call: _Call) -> tuple[str, ItemInput] | None:
    """Return the product view or add a call counts: (counter, what was said), or None."""
    event = call.event
    if event.name is None or not _is_product_call(event):
        return None
    properties = _properties(call)
    key = text(properties.get("product_id")) or text(properties.get("sku"))
    if key is None:
        return None
    said = ItemInput(
        product_key=key,
        sku=text(properties.get("sku")),
        name=text(properties.get("name"), 500),
        category=text(properties.get("category")),
    )
    return PRODUCT_COUNTERS[event.name], said


def _properties(call: _Call) -> dict[str, Any]:
    properties = None if call.message is None else call.message.get("properties")
    return properties if isinstance(properties, dict) else {}


def _vouched_for(event: StoredCall, message: dict[str, Any], policies: dict[str, Policy]) -> bool:
    """Tell whether a call's identity may be believed: a trusted sender's, any call of a source
    that does not require signed identities, or one whose userId carries the source's
    signature. Checked when the call is processed, so a secret rotated in between counts."""
    policy = None if event.trusted or event.source_id is None else policies.get(event.source_id)
    return policy is None or not policy.required or policy.vouches_for(message)


processor = EventProcessor()


async def reprocess_failures(database: Database, workspace_id: str) -> tuple[int, int]:
    """Process again every call whose processing failed, a chunk per unit of work; return
    how many were processed and how many failed again."""
    processed = failed_again = 0
    after: str | None = None
    while True:
        async with database.session() as session:
            chunk = await processing_failures.oldest(
                session, workspace_id, limit=PROCESS_CHUNK, after=after
            )
        if not chunk:
            return processed, failed_again
        async with database.session() as session:
            await processor.process(session, workspace_id, [row.event_id for row in chunk])
        async with database.session() as session:
            left = await processing_failures.still_failing(
                session, workspace_id, [row.event_id for row in chunk]
            )
        processed, failed_again = processed + len(chunk) - left, failed_again + left
        after = chunk[-1].id
