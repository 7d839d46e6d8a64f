"""The one writer of a profile's computed state after resolution: order-based traits and, when
merges regroup profiles, activity. What other domains know about a profile group (its events'
activity, its orders' totals) comes through `ProfileFacts`, which the events domain registers
(customers never imports it)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc
from rapport.customers.activity_repository import ActivityRepository, ActivityRow
from rapport.customers.bulk import OrderTotals, ProfileBatch


@dataclass(frozen=True)
class GroupActivity:
    """When a profile group was first and last seen, and on which channels."""

    first_seen_at: datetime | None
    last_seen_at: datetime | None
    channels: list[str]


class ProfileFacts(Protocol):
    """What another domain knows about profile groups (a live profile and those merged in)."""

    async def activity(
        self, session: AsyncSession, workspace_id: str, members: list[str]
    ) -> GroupActivity:
        """Return the activity of one group's touchpoints."""
        ...

    async def order_totals(
        self, session: AsyncSession, workspace_id: str, groups: dict[str, list[str]]
    ) -> dict[str, OrderTotals]:
        """Return the order totals of each group (keyed by its live profile)."""
        ...


class Activity(enum.Enum):
    """How a recompute treats activity: left alone, combined over the group's profiles (a
    merge: each profile's own activity is part of the group's), or rebuilt from the facts (an
    undo: what the group lost cannot be subtracted)."""

    keep = "keep"
    combine = "combine"
    rebuild = "rebuild"


class Recompute:
    """Recompute profiles' computed state from their groups, within the caller's transaction."""

    def __init__(self) -> None:
        self._facts: ProfileFacts | None = None

    def register(self, facts: ProfileFacts) -> None:
        """Take the facts of the domain that knows touchpoints and orders."""
        self._facts = facts

    @property
    def facts(self) -> ProfileFacts:
        """Return the registered facts (every process loads the domains' tasks first)."""
        if self._facts is None:
            raise RuntimeError("No profile facts registered: load the domains' tasks first.")
        return self._facts

    async def profiles(
        self,
        session: AsyncSession,
        workspace_id: str,
        customer_ids: list[str],
        activity: Activity = Activity.keep,
    ) -> None:
        """Recompute the order-based traits (and activity, as asked) of the live profiles
        these profiles belong to."""
        live = await ActivityRepository(session, workspace_id).live_ids(customer_ids)
        if not live:
            return
        batch = ProfileBatch(session, workspace_id)
        groups = await batch.groups(live)
        await batch.set_computed(await self.facts.order_totals(session, workspace_id, groups))
        if activity is Activity.combine:
            await self._combine(session, workspace_id, groups)
        elif activity is Activity.rebuild:
            rebuilt = {
                customer_id: _row(
                    customer_id, await self.facts.activity(session, workspace_id, members)
                )
                for customer_id, members in groups.items()
            }
            await batch.set_activity(rebuilt)

    async def _combine(
        self, session: AsyncSession, workspace_id: str, groups: dict[str, list[str]]
    ) -> None:
        members = [member for group in groups.values() for member in group]
        stored = await ActivityRepository(session, workspace_id).activity(members)
        by_id = {row.id: row for row in stored}
        combined = {
            customer_id: _row(customer_id, _union([by_id[m] for m in group if m in by_id]))
            for customer_id, group in groups.items()
        }
        await ProfileBatch(session, workspace_id).set_activity(combined)


def _union(rows: list[ActivityRow]) -> GroupActivity:
    first = [as_utc(row.first_seen_at) for row in rows if row.first_seen_at is not None]
    last = [as_utc(row.last_seen_at) for row in rows if row.last_seen_at is not None]
    channels = sorted({channel for row in rows for channel in row.channels or []})
    return GroupActivity(min(first, default=None), max(last, default=None), channels)


def _row(customer_id: str, activity: GroupActivity) -> ActivityRow:
    return ActivityRow(
        customer_id, activity.first_seen_at, activity.last_seen_at, activity.channels, False
    )


recompute = Recompute()
