"""The SQL of profiles' activity (when first and last seen, on which channels): read and
written many profiles at a time, without loading them, for resolution and the recompute."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import insert, select
from sqlalchemy.orm.attributes import set_committed_value

from rapport.core.clock import as_utc, read_utc
from rapport.core.repository import TenantRepository
from rapport.core.statistics import grew
from rapport.customers.models import Customer

# PostgreSQL: a chunk's activity in one UPDATE joined to arrays (an executemany would run one
# UPDATE per profile on the server).
WRITE_ACTIVITY_POSTGRESQL = (
    "UPDATE customers SET first_seen_at = given.first_seen_at, "
    "last_seen_at = given.last_seen_at, channels = given.channels::json "
    "FROM unnest($1::varchar[], $2::timestamptz[], $3::timestamptz[], $4::text[]) "
    "AS given(id, first_seen_at, last_seen_at, channels) "
    "WHERE customers.id = given.id AND customers.workspace_id = $5"
)

# SQLite: an executemany of one prepared UPDATE, times in SQLAlchemy's text.
WRITE_ACTIVITY_SQLITE = (
    "UPDATE customers SET first_seen_at = ?, last_seen_at = ?, channels = ? "
    "WHERE id = ? AND +workspace_id = ?"
)
# A chunk's profiles' activity, read with one driver-level statement. The primary key finds
# the rows (`+workspace_id`: SQLite, without statistics, would otherwise walk the workspace's
# part of an index, see TenantRepository.in_workspace).
ACTIVITY_SQLITE = (
    "SELECT id, first_seen_at, last_seen_at, channels, merged_into_id IS NOT NULL "
    "FROM customers WHERE id IN ({marks}) AND +workspace_id = ?"
)
ACTIVITY_POSTGRESQL = (
    "SELECT id, first_seen_at, last_seen_at, channels::text, merged_into_id IS NOT NULL "
    "FROM customers WHERE id = ANY($1::varchar[]) AND workspace_id = $2"
)


Rows = list[tuple[Any, ...]]
"""Rows as the driver returns them."""


def _time(value: str | datetime | None) -> datetime | None:
    return None if value is None else read_utc(value)


def _sqlite_text(moment: datetime | None) -> str | None:
    """Write a time as SQLAlchemy stores it on SQLite (UTC, no offset)."""
    if moment is None:
        return None
    return as_utc(moment).isoformat(" ", "microseconds")[:26]


class ActivityRow(NamedTuple):
    """A profile's activity columns, read and written without loading the profile."""

    id: str
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    channels: list[str]
    merged: bool


class ActivityRepository(TenantRepository[Customer]):
    model = Customer

    async def live_ids(self, customer_ids: list[str]) -> list[str]:
        """Return the live profiles some profiles belong to (following merges up), sorted."""
        live: set[str] = set()
        frontier = sorted(set(customer_ids))
        for _ in range(64):  # merges form a forest; 64 levels is far past any real chain
            if not frontier:
                break
            rows = await self.session.execute(
                select(Customer.id, Customer.merged_into_id).where(
                    Customer.id.in_(frontier), self.in_workspace()
                )
            )
            found = [(str(row[0]), row[1]) for row in rows]
            live.update(customer_id for customer_id, parent in found if parent is None)
            frontier = sorted({str(parent) for _, parent in found if parent is not None})
        return sorted(live)

    async def activity(self, customer_ids: list[str]) -> list[ActivityRow]:
        """Return the activity of some profiles (in one query, loading no profile)."""
        if not customer_ids:
            return []
        connection = await self.session.connection()
        if self.dialect == "postgresql":
            result = await connection.exec_driver_sql(
                ACTIVITY_POSTGRESQL, (list(customer_ids), self.workspace_id)
            )
        else:
            result = await connection.exec_driver_sql(*self.activity_sqlite(customer_ids))
        return [
            ActivityRow(
                customer_id,
                _time(first),
                _time(last),
                orjson.loads(channels) if channels is not None else [],
                bool(merged),
            )
            for customer_id, first, last, channels, merged in cast(Rows, result.fetchall())
        ]

    def activity_sqlite(self, customer_ids: list[str]) -> tuple[str, tuple[str, ...]]:
        """Return SQLite's statement and parameters reading some profiles' activity."""
        statement = ACTIVITY_SQLITE.format(marks=", ".join("?" * len(customer_ids)))
        return statement, (*customer_ids, self.workspace_id)

    async def insert_new(self, profiles: list[ActivityRow]) -> None:
        """Insert new profiles with their activity, in one statement."""
        if profiles:
            await self.session.execute(
                insert(Customer),
                [
                    {
                        "id": profile.id,
                        "workspace_id": self.workspace_id,
                        "first_seen_at": profile.first_seen_at,
                        "last_seen_at": profile.last_seen_at,
                        "channels": profile.channels,
                    }
                    for profile in profiles
                ],
            )
            grew(self.session, Customer.__tablename__, len(profiles))

    async def write_activity(self, profiles: list[ActivityRow]) -> None:
        """Store the activity of profiles, in one statement; copies loaded in the session
        are given the same values, so they never write back older ones."""
        if not profiles:
            return
        if self.dialect == "postgresql":
            connection = await self.session.connection()
            columns = [list(column) for column in zip(*profiles, strict=True)][:4]
            columns[3] = [orjson.dumps(channels).decode() for channels in columns[3]]
            await connection.exec_driver_sql(
                WRITE_ACTIVITY_POSTGRESQL, (*columns, self.workspace_id)
            )
        else:
            # A driver-level executemany: no SQLAlchemy work per row.
            connection = await self.session.connection()
            workspace_id = self.workspace_id
            await connection.exec_driver_sql(
                WRITE_ACTIVITY_SQLITE,
                [
                    (
                        _sqlite_text(profile.first_seen_at),
                        _sqlite_text(profile.last_seen_at),
                        orjson.dumps(profile.channels).decode(),
                        profile.id,
                        workspace_id,
                    )
                    for profile in profiles
                ],
            )
        # The session's copies are synchronised instead of expired.
        for profile in profiles:
            loaded = self.session.identity_map.get(self.session.identity_key(Customer, profile.id))
            if loaded is not None:
                for name in ("first_seen_at", "last_seen_at", "channels"):
                    set_committed_value(loaded, name, getattr(profile, name))
