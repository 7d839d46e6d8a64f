"""The events service: counts, timelines, orders, and refreshing computed traits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc
from rapport.core.ids import first_id_at
from rapport.core.pagination import decode_cursor, encode_cursor, owned_kind
from rapport.customers.service import customers
from rapport.events.enums import CallType
from rapport.events.errors import OrderNotFound
from rapport.events.history import ORDER, decode_key, encode_key, event_item, order_item, page_of
from rapport.events.models import Event, Order
from rapport.events.order_repository import OrderRepository
from rapport.events.repository import EventRepository
from rapport.events.schemas import (
    DayFigures,
    EventCounts,
    HistoryItem,
    HistoryPage,
    OrderItemRead,
    OrderRead,
    OrdersPage,
    Revenue,
    SourceActivity,
    TimelineItem,
    TimelinePage,
)
from rapport.events.sealed import open_payload_or_none

TIMELINE_CURSOR = "events.timeline"
HISTORY_CURSOR = "events.history"
ORDERS_CURSOR = "events.orders"


class EventsService:
    async def count(self, session: AsyncSession, workspace_id: str) -> EventCounts:
        """Count the stored calls of every type."""
        counted = await EventRepository(session, workspace_id).count_by_type()
        return EventCounts(**{str(kind): counted.get(str(kind), 0) for kind in CallType})

    async def day_figures(
        self, session: AsyncSession, workspace_id: str, since: datetime
    ) -> DayFigures:
        """Count the calls, their customers and the orders (with revenue) since `since`."""
        first_id = first_id_at(since)
        received, resolved = await EventRepository(session, workspace_id).received_since(first_id)
        placed = await OrderRepository(session, workspace_id).placed_since(since, first_id)
        return DayFigures(
            events=received,
            customers=resolved,
            orders=sum(count for _, count, _ in placed),
            revenue=[
                Revenue(currency=code, orders=count, amount=net) for code, count, net in placed
            ],
        )

    async def source_activity(
        self, session: AsyncSession, workspace_id: str, source_ids: list[str], since: datetime
    ) -> dict[str, SourceActivity]:
        """Return each source's calls since `since` and when its newest call arrived."""
        repository = EventRepository(session, workspace_id)
        counts = await repository.received_by_source(first_id_at(since))
        return {
            source_id: SourceActivity(
                events_today=counts.get(source_id, 0),
                last_event_at=await repository.last_received(source_id, source_id),
            )
            for source_id in source_ids
        }

    async def timeline(
        self,
        session: AsyncSession,
        workspace_id: str,
        customer_id: str,
        *,
        cursor: str | None,
        limit: int,
    ) -> TimelinePage:
        """Return every touchpoint of a profile (merged ones included), newest first."""
        group = await customers.group_ids(session, workspace_id, customer_id)
        rows = await EventRepository(session, workspace_id).timeline(
            group, _before(customer_id, cursor), limit + 1
        )
        items = [_timeline_item(row) for row in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        next_cursor = (
            encode_cursor(
                owned_kind(TIMELINE_CURSOR, customer_id), [last.timestamp.isoformat(), last.id]
            )
            if last
            else None
        )
        return TimelinePage(items=items, next_cursor=next_cursor)

    async def orders_of(
        self, session: AsyncSession, workspace_id: str, customer_id: str
    ) -> list[OrderRead]:
        """Return a profile's orders with their lines, newest first."""
        group = await customers.group_ids(session, workspace_id, customer_id)
        found = await OrderRepository(session, workspace_id).for_customers(group)
        return await self._with_items(session, workspace_id, list(found))

    async def history(
        self,
        session: AsyncSession,
        workspace_id: str,
        customer_id: str,
        *,
        only: str | None,
        cursor: str | None,
        limit: int,
    ) -> HistoryPage:
        """Return a profile's events and orders (merged profiles' included), newest first,
        a page either side of a cursor; `only` keeps one call type, or `order`."""
        group = await customers.group_ids(session, workspace_id, customer_id)
        kind = owned_kind(f"{HISTORY_CURSOR}.{only or 'all'}", customer_id)
        key = decode_key(kind, cursor)
        rows: list[HistoryItem] = []
        if only != ORDER:
            types = None if only is None else [only]
            found = await EventRepository(session, workspace_id).window(
                group, types, key, limit + 1
            )
            rows.extend(event_item(event) for event in found)
        if only in (None, ORDER):
            placed = await OrderRepository(session, workspace_id).window(group, key, limit + 1)
            read = await self._with_items(session, workspace_id, list(placed))
            rows.extend(order_item(order) for order in read)
        window = page_of(rows, key, limit, lambda item: (item.timestamp, item.id))
        return HistoryPage(
            items=window.items,
            older_cursor=encode_key(kind, window.older, older=True),
            newer_cursor=encode_key(kind, window.newer, older=False),
        )

    async def orders_page(
        self,
        session: AsyncSession,
        workspace_id: str,
        customer_id: str,
        *,
        cursor: str | None,
        limit: int,
    ) -> OrdersPage:
        """Return a page of a profile's orders with their lines, newest first."""
        group = await customers.group_ids(session, workspace_id, customer_id)
        kind = owned_kind(ORDERS_CURSOR, customer_id)
        key = decode_key(kind, cursor)
        placed = await OrderRepository(session, workspace_id).window(group, key, limit + 1)
        read = await self._with_items(session, workspace_id, list(placed))
        window = page_of(read, key, limit, lambda order: (as_utc(order.placed_at), order.id))
        return OrdersPage(
            items=window.items,
            older_cursor=encode_key(kind, window.older, older=True),
            newer_cursor=encode_key(kind, window.newer, older=False),
        )

    async def currencies(
        self, session: AsyncSession, workspace_id: str, customer_ids: list[str]
    ) -> dict[str, list[str]]:
        """Return the currencies of each live profile's paid orders (merged ones' included)."""
        groups = await customers.profiles(session, workspace_id).groups(customer_ids)
        owner = {member: root for root, members in groups.items() for member in members}
        found: dict[str, set[str]] = {customer_id: set() for customer_id in customer_ids}
        for member, currency in await OrderRepository(session, workspace_id).currencies(
            list(owner)
        ):
            found[owner[member]].add(currency)
        return {customer_id: sorted(codes) for customer_id, codes in found.items()}

    async def order(self, session: AsyncSession, workspace_id: str, order_key: str) -> OrderRead:
        """Return one order by the shop's order id."""
        found = await OrderRepository(session, workspace_id).by_key(order_key)
        if found is None:
            raise OrderNotFound("No such order in this workspace.")
        return (await self._with_items(session, workspace_id, [found]))[0]

    async def _with_items(
        self, session: AsyncSession, workspace_id: str, found: list[Order]
    ) -> list[OrderRead]:
        items = await OrderRepository(session, workspace_id).items_of([order.id for order in found])
        by_order: dict[str, list[OrderItemRead]] = {}
        for item in items:
            by_order.setdefault(item.order_id, []).append(OrderItemRead.model_validate(item))
        return [
            OrderRead.model_validate({**_columns(order), "items": by_order.get(order.id, [])})
            for order in found
        ]


def _columns(order: Order) -> dict[str, Any]:
    return {column.key: getattr(order, column.key) for column in Order.__table__.columns}


def _before(customer_id: str, cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    return decode_cursor(owned_kind(TIMELINE_CURSOR, customer_id), cursor, _timeline_key)


def _timeline_key(values: list[Any]) -> tuple[datetime, str]:
    moment, event_id = values
    if not isinstance(moment, str) or not isinstance(event_id, str):
        raise TypeError("a timeline cursor holds a timestamp and an event id")
    return as_utc(datetime.fromisoformat(moment)), event_id


def _timeline_item(event: Event) -> TimelineItem:
    message = open_payload_or_none(event.id, event.payload) or {}
    properties = message.get("properties") if event.type != "identify" else message.get("traits")
    return TimelineItem(
        id=event.id,
        message_id=event.message_id,
        type=event.type,
        name=event.name,
        channel=event.channel,
        timestamp=event.timestamp,
        received_at=event.received_at,
        source_id=event.source_id,
        properties=properties if isinstance(properties, dict) else {},
    )


events = EventsService()
