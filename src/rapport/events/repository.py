"""Every SQL statement of the events domain."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects import postgresql, sqlite

from rapport.core.clock import as_utc
from rapport.core.repository import TenantRepository
from rapport.events.models import Event, Order, OrderItem, Product


def insert_ignoring_duplicates(dialect: str, table: Any) -> Insert:
    """Return an INSERT that skips rows violating a unique constraint (dedupe)."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


# Who sent a call, first: ingestion prepares the other columns before it knows the sender.
SENDER_COLUMNS = ("workspace_id", "source_id", "trusted")
EVENT_COLUMNS = (
    *SENDER_COLUMNS, "id", "created_at", "message_id", "type", "name", "user_index",
    "anonymous_index", "channel", "timestamp", "received_at", "sent_at", "original_timestamp",
    "payload",
)  # fmt: skip
# Filled by processing; every new row starts unresolved (written as literals, not bound).
UNRESOLVED = {"customer_id": "NULL", "processed": "false"}


PG_ARRAY_TYPES = {"trusted": "boolean", "payload": "bytea"} | {
    column: "timestamptz"
    for column in ("created_at", "timestamp", "received_at", "sent_at", "original_timestamp")
}
_COLUMN_LIST = ", ".join((*EVENT_COLUMNS, *UNRESOLVED))
_LITERALS = ", ".join(UNRESOLVED.values())
# SQLite: one executemany of a prepared INSERT. PostgreSQL: one INSERT ... SELECT FROM unnest()
# of column arrays, a single statement for the whole batch (several times faster than
# executemany).
INSERT_EVENTS_SQLITE = (
    f"INSERT INTO events ({_COLUMN_LIST}) "  # noqa: S608
    f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))}, {_LITERALS}) "
    "ON CONFLICT (workspace_id, message_id) DO NOTHING"
)
_ARRAYS = ", ".join(
    f"${n}::{PG_ARRAY_TYPES.get(column, 'varchar')}[]" for n, column in enumerate(EVENT_COLUMNS, 1)
)
INSERT_EVENTS_POSTGRESQL = (
    f"INSERT INTO events ({_COLUMN_LIST}) "  # noqa: S608
    f"SELECT rows.*, {_LITERALS} FROM unnest({_ARRAYS}) AS rows "
    "ON CONFLICT (workspace_id, message_id) DO NOTHING"
)


def _sqlite_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = as_utc(moment)
    return moment.isoformat(" ", "microseconds")[:26]  # SQLAlchemy's SQLite text, no offset


def encode_time_for(dialect: str) -> Callable[[datetime | None], Any]:
    """Return how a driver takes a UTC time: as is (asyncpg), or in SQLAlchemy's SQLite text."""
    return (lambda moment: moment) if dialect == "postgresql" else _sqlite_time


class EventRepository(TenantRepository[Event]):
    model = Event

    @property
    def dialect(self) -> str:
        """Name the database dialect (sqlite or postgresql)."""
        return self.session.bind.dialect.name if self.session.bind is not None else "sqlite"

    async def insert_many(self, rows: list[tuple[Any, ...]]) -> None:
        """Store raw calls (columns in EVENT_COLUMNS order, times encoded by `encode_time_for`)
        in one driver-level executemany; a messageId already stored is skipped."""
        if rows:
            connection = await self.session.connection()
            if self.dialect == "postgresql":
                columns = tuple(list(column) for column in zip(*rows, strict=True))
                await connection.exec_driver_sql(INSERT_EVENTS_POSTGRESQL, columns)
            else:
                await connection.exec_driver_sql(INSERT_EVENTS_SQLITE, rows)

    async def unprocessed(self, ids: list[str]) -> Sequence[Event]:
        """Return the given events not processed yet, oldest first."""
        return await self.all(
            select(Event)
            .where(Event.id.in_(ids), self.in_workspace(), Event.processed.is_(False))
            .order_by(Event.timestamp, Event.id)
        )

    async def count_by_type(self) -> dict[str, int]:
        """Count stored calls per type."""
        rows = await self.session.execute(
            select(Event.type, func.count())
            .where(Event.workspace_id == self.workspace_id)
            .group_by(Event.type)
        )
        return {str(row[0]): int(row[1]) for row in rows}

    async def timeline(
        self, customer_ids: list[str], before: tuple[datetime, str] | None, limit: int
    ) -> Sequence[Event]:
        """Return a profile's events, newest first, after a keyset cursor."""
        query = self.base_query().where(Event.customer_id.in_(customer_ids))
        if before is not None:
            moment, event_id = before
            query = query.where(
                (Event.timestamp < moment) | ((Event.timestamp == moment) & (Event.id < event_id))
            )
        return await self.all(query.order_by(Event.timestamp.desc(), Event.id.desc()).limit(limit))

    async def activity(self, customer_ids: list[str]) -> tuple[Any, Any, list[str]]:
        """Return first seen, last seen and the channels of a profile's events."""
        scoped = (Event.workspace_id == self.workspace_id) & Event.customer_id.in_(customer_ids)
        first, last = (
            await self.session.execute(
                select(func.min(Event.timestamp), func.max(Event.timestamp)).where(scoped)
            )
        ).one()
        channels = await self.session.execute(select(Event.channel).where(scoped).distinct())
        return first, last, sorted(str(row[0]) for row in channels)


class ProductRepository(TenantRepository[Product]):
    model = Product

    async def by_key(self, product_key: str) -> Product | None:
        """Return a product by the shop's id for it."""
        return await self.one_or_none(self.base_query().where(Product.product_key == product_key))

    async def by_keys(self, product_keys: list[str]) -> dict[str, Product]:
        """Return the products with these shop ids, by id."""
        found = await self.all(self.base_query().where(Product.product_key.in_(product_keys)))
        return {product.product_key: product for product in found}


class OrderRepository(TenantRepository[Order]):
    model = Order

    async def by_key(self, order_key: str) -> Order | None:
        """Return an order by the shop's order id."""
        return await self.one_or_none(self.base_query().where(Order.order_key == order_key))

    async def for_customers(self, customer_ids: list[str], limit: int = 100) -> Sequence[Order]:
        """Return a profile's orders, newest first."""
        return await self.all(
            self.base_query()
            .where(Order.customer_id.in_(customer_ids))
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )

    async def summary(self, customer_ids: list[str]) -> tuple[int, Any, Any]:
        """Count paid orders and sum their net revenue; return the last order time too."""
        counted = Order.status.in_(("completed", "updated", "refunded"))
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(Order.total - Order.refunded), 0),
                    func.max(Order.placed_at),
                ).where(
                    Order.workspace_id == self.workspace_id,
                    Order.customer_id.in_(customer_ids),
                    counted,
                )
            )
        ).one()
        return int(row[0]), row[1], row[2]

    async def items_of(self, order_ids: list[str]) -> Sequence[OrderItem]:
        """Return the lines of some orders."""
        rows = await self.session.execute(
            select(OrderItem).where(
                OrderItem.workspace_id == self.workspace_id, OrderItem.order_id.in_(order_ids)
            )
        )
        return rows.scalars().all()

    async def replace_items(self, order: Order, items: list[OrderItem]) -> None:
        """Replace an order's lines."""
        for existing in await self.items_of([order.id]):
            await self.session.delete(existing)
        for item in items:
            item.workspace_id, item.order_id = self.workspace_id, order.id
            self.session.add(item)
        await self.session.flush()
