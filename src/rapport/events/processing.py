"""Process stored calls: resolve each to a profile, then project orders and products."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.crypto import keyring
from rapport.core.jobs import enqueue
from rapport.customers.service import customers
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


def message_of(event: Event) -> dict[str, Any]:
    """Open the stored original call."""
    document: dict[str, Any] = orjson.loads(keyring().decrypt(event.payload, payload_aad(event.id)))
    return document


logger = logging.getLogger("rapport.events")

PROCESS_CHUNK = 100
MEMO_TYPES = frozenset({"track", "page", "screen"})
Memo = dict[tuple[object, ...], str | None]


class EventProcessor:
    async def process(self, session: AsyncSession, workspace_id: str, event_ids: list[str]) -> None:
        """Resolve and project stored calls, oldest first, a chunk per transaction (the rest
        goes to a follow-up job, so SQLite's writer is never held for long)."""
        if len(event_ids) > PROCESS_CHUNK:
            rest = event_ids[PROCESS_CHUNK:]
            enqueue(session, PROCESS_JOB, workspace_id=workspace_id, event_ids=rest)
        with_orders: set[str] = set()
        memo: Memo = {}
        products: dict[tuple[str, str], ItemInput] = {}
        resolved: list[tuple[Event, str | None]] = []
        chunk = event_ids[:PROCESS_CHUNK]
        for event in await EventRepository(session, workspace_id).unprocessed(chunk):
            try:
                # A savepoint per call: one call that cannot be processed is set aside (and
                # logged) instead of failing, and endlessly retrying, its whole chunk.
                async with session.begin_nested():
                    customer_id = await self._resolve(session, workspace_id, event, memo)
                    if await self._project(session, workspace_id, event, customer_id, products):
                        with_orders.add(customer_id or "")
            except Exception as error:  # any failure of one call is contained
                failure = {"event_id": event.id, "error": type(error).__name__}
                logger.warning("call not processed", extra=failure)
                memo.clear()
                customer_id = None
            resolved.append((event, customer_id))
        # Written once at the end: dirty events would otherwise be re-flushed before every query.
        for event, customer_id in resolved:
            event.customer_id, event.processed = customer_id, True
        for (counter, _), item in products.items():
            await orders.product(session, workspace_id, item, counter, count=item.quantity)
        for customer_id in sorted(with_orders - {""}):
            await orders.refresh_customer(session, workspace_id, customer_id)

    async def _resolve(
        self, session: AsyncSession, workspace_id: str, event: Event, memo: Memo
    ) -> str | None:
        message = message_of(event)
        signal = signal_of(
            message,
            at=event.timestamp,
            channel=event.channel,
            source=event.source_id or "server",
            trusted=event.trusted,
        )
        # A plain track/page/screen with identifiers already resolved in this chunk needs no
        # second walk of the graph; anything that may change the graph clears the memo.
        key = (event.trusted, *sorted((item.kind, item.value) for item in signal.identifiers))
        reusable = event.type in MEMO_TYPES and not signal.traits and not signal.consent
        if reusable and key in memo:
            customer_id = memo[key]
            if customer_id is not None:
                await customers.touch(session, workspace_id, customer_id, signal.at, signal.channel)
            return customer_id
        if not reusable or len(signal.identifiers) > 1:
            memo.clear()
        customer_id = await customers.observe(session, workspace_id, signal)
        if reusable:
            memo[key] = customer_id
        return customer_id

    async def _project(
        self,
        session: AsyncSession,
        workspace_id: str,
        event: Event,
        customer_id: str | None,
        products: dict[tuple[str, str], ItemInput],
    ) -> bool:
        """Turn e-commerce events into orders and product stats; tell whether an order changed."""
        if event.type != "track" or event.name is None:
            return False
        properties = message_of(event).get("properties")
        properties = properties if isinstance(properties, dict) else {}
        if event.name in ORDER_EVENTS:
            data = order_from_event(
                event.name, properties, event.timestamp, event.channel, customer_id
            )
            if data is not None:
                await orders.apply(session, workspace_id, data)
            return data is not None
        if event.name in PRODUCT_COUNTERS:
            key = text(properties.get("product_id")) or text(properties.get("sku"))
            if key is not None:
                item = ItemInput(
                    product_key=key,
                    sku=text(properties.get("sku")),
                    name=text(properties.get("name"), 500),
                    category=text(properties.get("category")),
                    quantity=0,
                )
                seen = products.setdefault((PRODUCT_COUNTERS[event.name], key), item)
                seen.quantity += 1  # counts the events; the product row is written once per chunk
        return False


processor = EventProcessor()
