"""The SQL of profiles' activity (when first and last seen, on which channels): read and
written many profiles at a time, without loading them, for resolution and the recompute."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, cast

import orjson
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from rapport.core.repository import TenantRepository
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
        rows = await self.session.execute(
            select(
                Customer.id,
                Customer.first_seen_at,
                Customer.last_seen_at,
                Customer.channels,
                Customer.merged_into_id.is_not(None),
            ).where(Customer.id.in_(customer_ids), self.in_workspace())
        )
        return [ActivityRow(*row) for row in rows]

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

    async def write_activity(self, profiles: list[ActivityRow]) -> None:
        """Store the activity of profiles, in one statement; copies loaded in the session
        are given the same values, so they never write back older ones."""
        if not profiles:
            return
        if self._dialect() == "postgresql":
            connection = await self.session.connection()
            columns = [list(column) for column in zip(*profiles, strict=True)][:4]
            columns[3] = [orjson.dumps(channels).decode() for channels in columns[3]]
            await connection.exec_driver_sql(
                WRITE_ACTIVITY_POSTGRESQL, (*columns, self.workspace_id)
            )
        else:
            # A Core executemany: compiled once, no ORM work per row.
            table = cast(Table, Customer.__table__)
            await self.session.execute(
                update(table)
                .where(table.c.id == bindparam("profile_id"))
                .where(table.c.workspace_id == self.workspace_id),
                [
                    {
                        "profile_id": profile.id,
                        "first_seen_at": profile.first_seen_at,
                        "last_seen_at": profile.last_seen_at,
                        "channels": profile.channels,
                    }
                    for profile in profiles
                ],
            )
        # The session's copies are synchronised instead of expired.
        for profile in profiles:
            loaded = self.session.identity_map.get(self.session.identity_key(Customer, profile.id))
            if loaded is not None:
                for name in ("first_seen_at", "last_seen_at", "channels"):
                    set_committed_value(loaded, name, getattr(profile, name))

    def _dialect(self) -> str:
        return self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
