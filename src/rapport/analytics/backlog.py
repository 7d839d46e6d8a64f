"""The backlog from its stretches: a conversation counts at t when one of its stretches
(began_at, ended_at] holds t (analytics_backlog_stretches, kept by database triggers as
conversations and their cycle events are written; migration 20261202_0023).

This is exactly the definition `SupportReports.backlog` computes from the raw cycle events
(tests/analytics/test_backlog_stretches.py compares the two on random data), but the count at
t reads only the stretches that end at or after t, and the per-day series adds the stretches
that begin and end inside the window: its cost follows the conversations of the recent past,
not the workspace's whole history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import accumulate
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
    case,
    column,
    func,
    select,
    table,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics.models import BacklogStretch
from rapport.core.db import UtcDateTime
from rapport.support.reports import MetricScope, bucket_of

Stretch = BacklogStretch
# The columns of the support desk's conversations that a breakdown's volume counts by (their
# current channel, team and assignee, as `SupportReports.opened`). Named here rather than
# imported: a domain never imports another's models (rule 7); the stretches' triggers
# (migration 20261202_0023) read the same table in SQL.
_CONVERSATIONS = table(
    "conversations",
    column("id", String),
    column("workspace_id", String),
    column("created_at", UtcDateTime(timezone=True)),
    column("channel", String),
    column("team_id", String),
    column("assignee_id", String),
)
Conversation = _CONVERSATIONS.c
GROUPS = {"channel": "channel", "team": "team_id", "agent": "assignee_id"}
GROUP_COLUMNS = {
    "channel": Conversation.channel,
    "team": Conversation.team_id,
    "agent": Conversation.assignee_id,
}


class Backlog:
    """The backlog queries of one workspace."""

    def __init__(self, session: AsyncSession, workspace_id: str) -> None:
        self.session, self.workspace_id = session, workspace_id

    def _recent(self, since: datetime, scope: MetricScope) -> Subquery:
        """The stretches of the scope's unmerged conversations that end at or after `since`,
        or have not ended: two ranges of ix_analytics_backlog_stretches_end, which holds
        every column read, so only the recent past is read, and from the index alone."""
        columns = (Stretch.began_at, Stretch.ended_at, Stretch.channel, Stretch.team_id,
                   Stretch.assignee_id)  # fmt: skip
        mine = (
            Stretch.workspace_id == self.workspace_id,
            Stretch.merged_into_id.is_(None),
            *stretch_scope(scope),
        )
        return union_all(
            select(*columns).where(*mine, Stretch.ended_at >= since),
            select(*columns).where(*mine, Stretch.ended_at.is_(None)),
        ).subquery("recent")

    def query(self, at: datetime, scope: MetricScope) -> Select[Any]:
        """Return the statement `at` runs."""
        recent = self._recent(at, scope)
        return select(func.count()).select_from(recent).where(recent.c.began_at < at)

    async def at(self, at: datetime, scope: MetricScope) -> int:
        """Count the unmerged conversations of the scope that are in the backlog at `at`."""
        return int((await self.session.execute(self.query(at, scope))).scalar_one())

    async def by(self, at: datetime, scope: MetricScope, by: str) -> dict[str, int]:
        """Return `at` per channel, team or agent (`by`) of the conversations."""
        recent = self._recent(at, scope)
        column = recent.c[GROUPS[by]]
        query = select(column, func.count()).where(recent.c.began_at < at).group_by(column)
        return {str(key): int(count) for key, count in await self.session.execute(query) if key}

    async def per_bucket(self, bounds: Sequence[datetime], scope: MetricScope) -> list[int]:
        """Return `at` at each of bounds[1:] from one read of the stretches that end at or
        after bounds[1]: those begun before it are the backlog there; after it, a stretch
        beginning in a bucket adds one at the bucket's end and one ending in it takes one
        away (a stretch holds t in (began, ended])."""
        later = bounds[1:]
        if len(later) < 2:
            return [await self.at(moment, scope) for moment in later]
        recent = self._recent(later[0], scope)

        def place(edge: Any) -> Any:  # -1 before the buckets, -2 after them
            return case(
                (edge < later[0], -1), (edge >= later[-1], -2), else_=bucket_of(edge, later)
            )

        began = place(recent.c.began_at).label("began")
        ended = case((recent.c.ended_at.is_(None), -2), else_=place(recent.c.ended_at))
        placed = select(began, ended.label("ended")).subquery()
        query = select(placed.c.began, placed.c.ended, func.count()).group_by(
            placed.c.began, placed.c.ended
        )
        moves = [0] * len(later)
        for began_in, ended_in, count in await self.session.execute(query):
            if began_in == -1:
                moves[0] += int(count)
            elif began_in >= 0:
                moves[int(began_in) + 1] += int(count)
            if ended_in >= 0:
                moves[int(ended_in) + 1] -= int(count)
        return list(accumulate(moves))


async def opened_by(
    session: AsyncSession,
    workspace_id: str,
    window: tuple[datetime, datetime],
    scope: MetricScope,
    by: str,
) -> dict[str, int]:
    """Count the conversations created in [start, end) per channel, team or agent (`by`) of
    the conversations (as `SupportReports.opened`, grouped)."""
    query = opened_by_query(workspace_id, window, scope, by)
    return {str(key): int(count) for key, count in await session.execute(query) if key}


def opened_by_query(
    workspace_id: str, window: tuple[datetime, datetime], scope: MetricScope, by: str
) -> Select[Any]:
    """Return the statement of `opened_by` (read from ix_conversations_created alone)."""
    start, end = window
    column = GROUP_COLUMNS[by]
    return (
        select(column, func.count())
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.created_at >= start,
            Conversation.created_at < end,
            *conversation_scope(scope),
        )
        .group_by(column)
    )


def stretch_scope(scope: MetricScope) -> list[ColumnElement[bool]]:
    """Return the conditions of the stretches of the conversations a scope selects (by their
    current channel, team and assignee, copied onto the stretches, as the raw backlog)."""
    found: list[ColumnElement[bool]] = []
    if scope.channel is not None:
        found.append(Stretch.channel == str(scope.channel))
    if scope.team_ids is not None:
        found.append(Stretch.team_id.in_(scope.team_ids))
    if scope.staff_id is not None:
        found.append(Stretch.assignee_id == scope.staff_id)
    return found


def conversation_scope(scope: MetricScope) -> list[ColumnElement[bool]]:
    """Return the conditions of the conversations a scope selects (by their current channel,
    team and assignee, as the raw backlog)."""
    found: list[ColumnElement[bool]] = []
    if scope.channel is not None:
        found.append(Conversation.channel == str(scope.channel))
    if scope.team_ids is not None:
        found.append(Conversation.team_id.in_(scope.team_ids))
    if scope.staff_id is not None:
        found.append(Conversation.assignee_id == scope.staff_id)
    return found
