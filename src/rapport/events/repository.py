"""Every SQL statement of the events domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects import postgresql, sqlite

from rapport.core.clock import as_utc, read_utc
from rapport.core.repository import TenantRepository
from rapport.core.statistics import grew
from rapport.events.models import Event
from rapport.events.rows import EVENT_COLUMNS


def insert_ignoring_duplicates(dialect: str, table: Any) -> Insert:
    """Return an INSERT that skips rows violating a unique constraint (dedupe)."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


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

# Processing marks its calls with one driver-level statement: an executemany on SQLite, one
# UPDATE joined to arrays on PostgreSQL.
MARK_PROCESSED_SQLITE = (
    "UPDATE events SET customer_id = ?, processed = true WHERE id = ? AND workspace_id = ?"
)
MARK_PROCESSED_POSTGRESQL = (
    "UPDATE events SET customer_id = marked.customer_id, processed = true "
    "FROM unnest($1::varchar[], $2::varchar[]) AS marked(id, customer_id) "
    "WHERE events.id = marked.id AND events.workspace_id = $3"
)


# Processing reads a chunk's calls with one driver-level statement (no ORM rows, times read
# straight from the driver: SQLite's text, or asyncpg's datetimes).
_STORED_COLUMNS = "id, source_id, trusted, type, name, channel, timestamp, payload, lookup_key"
# The primary key finds the rows (`+workspace_id`: SQLite, without statistics, would
# otherwise walk the workspace's part of an index).
UNPROCESSED_SQLITE = (
    f"SELECT {_STORED_COLUMNS} FROM events WHERE id IN ({{marks}}) "  # noqa: S608
    "AND +workspace_id = ? AND processed = 0 ORDER BY timestamp, id"
)
UNPROCESSED_POSTGRESQL = (
    f"SELECT {_STORED_COLUMNS} FROM events WHERE workspace_id = $1 AND processed = false "  # noqa: S608
    "AND id = ANY($2::varchar[]) ORDER BY timestamp, id"
)


Rows = list[tuple[Any, ...]]
"""Rows as the driver returns them."""


class StoredCall(NamedTuple):
    """A stored call as processing reads it: the columns it needs, no ORM object."""

    id: str
    source_id: str | None
    trusted: bool
    type: str
    name: str | None
    channel: str
    timestamp: datetime
    payload: bytes
    lookup_key: str | None


class Keyset(NamedTuple):
    """A keyset cursor over (time, id): `older` pages run newest first from it, newer ones
    oldest first."""

    moment: datetime
    id: str
    older: bool


def windowed(query: Any, moment: Any, id_: Any, key: Keyset | None) -> Any:
    """Order a time-ordered query and narrow it to one side of a keyset cursor."""
    if key is None:
        return query.order_by(moment.desc(), id_.desc())
    if key.older:
        after = (moment < key.moment) | ((moment == key.moment) & (id_ < key.id))
        return query.where(after).order_by(moment.desc(), id_.desc())
    before = (moment > key.moment) | ((moment == key.moment) & (id_ > key.id))
    return query.where(before).order_by(moment.asc(), id_.asc())


class EventRepository(TenantRepository[Event]):
    model = Event

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
            # A new shop's backfill fills the table in minutes: processing's reads of its
            # calls are planned from fresh statistics, not an empty table's.
            grew(self.session, Event.__tablename__, len(rows))

    def unprocessed_sqlite(self, ids: list[str]) -> tuple[str, tuple[Any, ...]]:
        """Return SQLite's statement and parameters reading the given calls not processed yet."""
        statement = UNPROCESSED_SQLITE.format(marks=", ".join("?" * len(ids)))
        return statement, (*ids, self.workspace_id)

    async def unprocessed(self, ids: list[str]) -> list[StoredCall]:
        """Return the given events not processed yet, oldest first, as plain rows (one
        driver-level statement: processing reads every call it handles through here)."""
        if not ids:
            return []
        connection = await self.session.connection()
        if self.dialect == "postgresql":
            result = await connection.exec_driver_sql(
                UNPROCESSED_POSTGRESQL, (self.workspace_id, list(ids))
            )
            return [StoredCall(*row) for row in cast(Rows, result.fetchall())]
        result = await connection.exec_driver_sql(*self.unprocessed_sqlite(ids))
        return [
            StoredCall(id_, source, bool(trusted), type_, name, channel, read_utc(at), payload, key)
            for id_, source, trusted, type_, name, channel, at, payload, key in cast(
                Rows, result.fetchall()
            )
        ]

    async def mark_processed(self, resolved: list[tuple[str, str | None]]) -> None:
        """Mark calls processed with their profile (event id, profile id), in one statement."""
        if not resolved:
            return
        connection = await self.session.connection()
        if self.dialect == "postgresql":
            ids, profiles = [list(column) for column in zip(*resolved, strict=True)]
            await connection.exec_driver_sql(
                MARK_PROCESSED_POSTGRESQL, (ids, profiles, self.workspace_id)
            )
        else:
            workspace_id = self.workspace_id
            rows = [(customer_id, event_id, workspace_id) for event_id, customer_id in resolved]
            await connection.exec_driver_sql(MARK_PROCESSED_SQLITE, rows)

    async def count_by_type(self) -> dict[str, int]:
        """Count stored calls per type."""
        rows = await self.session.execute(
            select(Event.type, func.count())
            .where(Event.workspace_id == self.workspace_id)
            .group_by(Event.type)
        )
        return {str(row[0]): int(row[1]) for row in rows}

    async def received_since(self, first_id: str) -> tuple[int, int]:
        """Count calls received from id `first_id` on (ids grow with time) and their customers."""
        row = (
            await self.session.execute(
                select(func.count(), func.count(Event.customer_id.distinct())).where(
                    Event.id >= first_id, self.in_workspace()
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def received_by_source(self, first_id: str) -> dict[str, int]:
        """Count calls received from id `first_id` on, per source."""
        rows = await self.session.execute(
            select(Event.source_id, func.count())
            .where(Event.id >= first_id, self.in_workspace())
            .group_by(Event.source_id)
        )
        return {str(row[0]): int(row[1]) for row in rows if row[0] is not None}

    async def last_received(self, source_id: str, after_id: str) -> datetime | None:
        """Return when the source's newest call arrived; `after_id` (the source's own id, so
        its creation) bounds the walk back along the primary key."""
        statement = (
            select(Event.received_at)
            .where(Event.id > after_id, self.in_workspace(), Event.source_id == source_id)
            .order_by(Event.id.desc())
            .limit(1)
        )
        found = (await self.session.execute(statement)).scalar_one_or_none()
        return None if found is None else as_utc(found)

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

    async def window(
        self, customer_ids: list[str], types: list[str] | None, key: Keyset | None, limit: int
    ) -> Sequence[Event]:
        """Return a profile's events of some types (all when None) on one side of a keyset
        cursor: older ones newest first, or newer ones oldest first."""
        query = self.base_query().where(Event.customer_id.in_(customer_ids))
        if types is not None:
            query = query.where(Event.type.in_(types))
        return await self.all(windowed(query, Event.timestamp, Event.id, key).limit(limit))

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
