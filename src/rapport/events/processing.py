"""Process stored calls a chunk at a time: resolve each to a profile (plain calls together,
anything that may change the identity graph in its own savepoint), project orders and products."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.crypto import keyring
from rapport.core.jobs import enqueue
from rapport.customers.schemas import IdentitySignal
from rapport.customers.service import ObservationBatch, PlainTouch, customers
from rapport.events.ingest import PROCESS_JOB, payload_aad
from rapport.events.models import Event
from rapport.events.orders import (
    ORDER_EVENTS,
    PRODUCT_COUNTERS,
    ItemInput,
    order_from_event,
    orders,
    text,
)
from rapport.events.repository import EventRepository
from rapport.events.signals import signal_of
from rapport.identity.verification import Policy, identity_verification


def message_of(event: Event) -> dict[str, Any]:
    """Open the stored original call."""
    document: dict[str, Any] = orjson.loads(keyring().decrypt(event.payload, payload_aad(event.id)))
    return document


logger = logging.getLogger("rapport.events")

# Calls per transaction: plain calls cost well under a millisecond each, so a chunk holds
# SQLite's single writer for some tens of milliseconds.
PROCESS_CHUNK = 250


@dataclass
class _Call:
    """One stored call, opened once: its message, identity signal and plain touchpoint."""

    event: Event
    message: dict[str, Any]
    signal: IdentitySignal
    touch: PlainTouch | None


@dataclass
class _Chunk:
    """What a chunk's calls add up to, written once at its end."""

    resolved: list[tuple[Event, str | None]] = field(default_factory=list)
    products: dict[tuple[str, str], ItemInput] = field(default_factory=dict)
    with_orders: set[str] = field(default_factory=set)


class EventProcessor:
    async def process(self, session: AsyncSession, workspace_id: str, event_ids: list[str]) -> None:
        """Resolve and project stored calls, oldest first, a chunk per transaction (the rest
        goes to a follow-up job, so SQLite's writer is never held for long)."""
        if len(event_ids) > PROCESS_CHUNK:
            rest = event_ids[PROCESS_CHUNK:]
            enqueue(session, PROCESS_JOB, workspace_id=workspace_id, event_ids=rest)
        batch = await customers.batch(session, workspace_id)
        events = await EventRepository(session, workspace_id).unprocessed(event_ids[:PROCESS_CHUNK])
        senders = {event.source_id for event in events if event.source_id and not event.trusted}
        policies = await identity_verification.policies(session, workspace_id, senders)
        chunk = _Chunk()
        # Every call is opened first, so the batch looks all their identifiers up at once.
        for event, call in [(event, self._open(event, batch, policies)) for event in events]:
            customer_id = None
            if call is not None:
                customer_id = await self._resolve(session, workspace_id, batch, call, chunk)
            chunk.resolved.append((event, customer_id))
        await batch.flush()
        await self._finish(session, workspace_id, chunk)

    def _open(
        self, event: Event, batch: ObservationBatch, policies: dict[str, Policy]
    ) -> _Call | None:
        """Decrypt and read a call once; a call that cannot be read is logged and set aside."""
        try:
            message = message_of(event)
            signal = signal_of(
                message,
                at=event.timestamp,
                channel=event.channel,
                source=event.source_id or "server",
                trusted=event.trusted,
                verified=_vouched_for(event, message, policies),
            )
            # Order events project within the call's savepoint, so they walk the graph.
            ordering = event.type == "track" and event.name in ORDER_EVENTS
            return _Call(event, message, signal, None if ordering else batch.plain(signal))
        except Exception as error:  # any failure of one call is contained
            _log_failure(event, error)
            return None

    async def _resolve(
        self,
        session: AsyncSession,
        workspace_id: str,
        batch: ObservationBatch,
        call: _Call,
        chunk: _Chunk,
    ) -> str | None:
        """Resolve a call quickly when it is plain, else walk the graph in its own savepoint."""
        if call.touch is not None:
            quick = await batch.resolve(call.touch)
            if quick.resolved:
                self._count_product(call, chunk.products)
                return quick.customer_id
        await batch.flush()  # a failing call rolls back to here: keep the quick work before it
        customer_id = await self._walk(session, workspace_id, call, chunk)
        batch.forget()
        return customer_id

    async def _walk(
        self, session: AsyncSession, workspace_id: str, call: _Call, chunk: _Chunk
    ) -> str | None:
        try:
            # A savepoint per call that may change the graph: one call that cannot be
            # processed is set aside (and logged) instead of failing, and endlessly retrying,
            # its whole chunk.
            async with session.begin_nested():
                customer_id = await customers.observe(session, workspace_id, call.signal)
                if await self._project_order(session, workspace_id, call, customer_id):
                    chunk.with_orders.add(customer_id or "")
        except Exception as error:  # any failure of one call is contained
            _log_failure(call.event, error)
            return None
        self._count_product(call, chunk.products)
        return customer_id

    async def _finish(self, session: AsyncSession, workspace_id: str, chunk: _Chunk) -> None:
        """Write what the chunk adds up to: events, product counters, order-based traits."""
        # Written once at the end: dirty events would otherwise be re-flushed before every query.
        for event, customer_id in chunk.resolved:
            event.customer_id, event.processed = customer_id, True
        await orders.count_products(session, workspace_id, chunk.products)
        for customer_id in sorted(chunk.with_orders - {""}):
            await orders.refresh_customer(session, workspace_id, customer_id)

    async def _project_order(
        self, session: AsyncSession, workspace_id: str, call: _Call, customer_id: str | None
    ) -> bool:
        """Turn an order event into an order; tell whether an order changed."""
        event = call.event
        if event.type != "track" or event.name not in ORDER_EVENTS:
            return False
        data = order_from_event(
            event.name, _properties(call), event.timestamp, event.channel, customer_id
        )
        if data is not None:
            await orders.apply(session, workspace_id, data)
        return data is not None

    def _count_product(self, call: _Call, products: dict[tuple[str, str], ItemInput]) -> None:
        """Count a product view or add; the product row is written once per chunk."""
        event = call.event
        if event.type != "track" or event.name not in PRODUCT_COUNTERS:
            return
        properties = _properties(call)
        key = text(properties.get("product_id")) or text(properties.get("sku"))
        if key is None:
            return
        counted = (PRODUCT_COUNTERS[event.name], key)
        if counted not in products:
            products[counted] = ItemInput(
                product_key=key,
                sku=text(properties.get("sku")),
                name=text(properties.get("name"), 500),
                category=text(properties.get("category")),
                quantity=0,
            )
        products[counted].quantity += 1  # counts the events


def _properties(call: _Call) -> dict[str, Any]:
    properties = call.message.get("properties")
    return properties if isinstance(properties, dict) else {}


def _vouched_for(event: Event, message: dict[str, Any], policies: dict[str, Policy]) -> bool:
    """Tell whether a call's identity may be believed: a trusted sender's, any call of a source
    that does not require signed identities, or one whose userId carries the source's
    signature. Checked when the call is processed, so a secret rotated in between counts."""
    policy = None if event.trusted or event.source_id is None else policies.get(event.source_id)
    return policy is None or not policy.required or policy.vouches_for(message)


def _log_failure(event: Event, error: Exception) -> None:
    failure = {"event_id": event.id, "error": type(error).__name__}
    logger.warning("call not processed", extra=failure)


processor = EventProcessor()
