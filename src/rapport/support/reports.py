"""Every SQL statement behind the support metrics: the facts read when a metric event is
recorded, and the report queries over metric events and conversations."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.support.enums import AuthorType, Channel, MetricKind
from rapport.support.models import Activity, Conversation, Message, MetricEvent

# Activities that start (or end) an agent's open, assigned stretch on a conversation.
STRETCH_MARKS = ("created", "status", "assignment")
CYCLE_ENDS = (MetricKind.resolution, MetricKind.closed)
# What the conversation counts of a breakdown are grouped by.
GROUP_COLUMNS = {
    "channel": Conversation.channel,
    "team": Conversation.team_id,
    "agent": Conversation.assignee_id,
}
FACT_COLUMNS = (
    MetricEvent.conversation_id,
    MetricEvent.kind,
    MetricEvent.seconds,
    MetricEvent.staff_id,
    MetricEvent.channel,
    MetricEvent.team_id,
    MetricEvent.data,
    MetricEvent.created_at,
)


@dataclass(frozen=True)
class MetricScope:
    """Which facts a report counts: a channel, some teams, one staff member (None: all)."""

    channel: Channel | None = None
    team_ids: tuple[str, ...] | None = None
    staff_id: str | None = None


class Fact(NamedTuple):
    """One recorded metric event, as reports read it (a tuple: reports build a month's
    160,000 of them for a busy shop, and a frozen dataclass costs four times as much to
    make)."""

    conversation_id: str
    kind: MetricKind
    seconds: float | None
    staff_id: str | None
    channel: Channel
    team_id: str | None
    data: dict[str, Any]
    created_at: datetime


class RecordingFacts:
    """What recording a metric event needs to know about a conversation's past."""

    def __init__(self, session: AsyncSession, workspace_id: str) -> None:
        self.session, self.workspace_id = session, workspace_id

    async def stretch_start(self, conversation_id: str) -> datetime | None:
        """Return when the conversation last changed status or assignment (or was created)."""
        query = (
            select(Activity.created_at)
            .where(
                Activity.workspace_id == self.workspace_id,
                Activity.conversation_id == conversation_id,
                Activity.kind.in_(STRETCH_MARKS),
            )
            .order_by(Activity.id.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def answers_since(self, conversation_id: str, since: datetime) -> tuple[int, int]:
        """Count public agent and assistant messages written since `since`."""
        query = (
            select(Message.author_type, func.count())
            .where(
                Message.workspace_id == self.workspace_id,
                Message.conversation_id == conversation_id,
                Message.private.is_(False),
                Message.author_type.in_((AuthorType.agent, AuthorType.assistant)),
                Message.created_at >= since,
            )
            .group_by(Message.author_type)
        )
        counted = {row[0]: int(row[1]) for row in await self.session.execute(query)}
        return counted.get(AuthorType.agent, 0), counted.get(AuthorType.assistant, 0)

    async def escalated_since(self, conversation_id: str, since: datetime) -> bool:
        """Tell whether the conversation passed to another agent or team since `since`."""
        query = select(
            exists().where(
                MetricEvent.workspace_id == self.workspace_id,
                MetricEvent.conversation_id == conversation_id,
                MetricEvent.kind == MetricKind.escalation,
                MetricEvent.created_at >= since,
            )
        )
        return bool((await self.session.execute(query)).scalar())


class SupportReports:
    """The report queries of one workspace."""

    def __init__(self, session: AsyncSession, workspace_id: str) -> None:
        self.session, self.workspace_id = session, workspace_id

    async def facts(
        self, kinds: Sequence[MetricKind], start: datetime, end: datetime, scope: MetricScope
    ) -> list[Fact]:
        """Return the metric events of these kinds recorded in [start, end), oldest first."""
        query = (
            select(*FACT_COLUMNS)
            .where(
                MetricEvent.workspace_id == self.workspace_id,
                MetricEvent.kind.in_(kinds),
                MetricEvent.created_at >= start,
                MetricEvent.created_at < end,
                *_event_scope(scope),
            )
            .order_by(MetricEvent.created_at, MetricEvent.id)
        )
        return [Fact(*row) for row in await self.session.execute(query)]

    async def reopen_times(self, since: datetime) -> list[tuple[str, datetime]]:
        """Return (conversation, time) of every reopen recorded from `since` on."""
        query = select(MetricEvent.conversation_id, MetricEvent.created_at).where(
            MetricEvent.workspace_id == self.workspace_id,
            MetricEvent.kind == MetricKind.reopen,
            MetricEvent.created_at >= since,
        )
        return [(str(row[0]), row[1]) for row in await self.session.execute(query)]

    async def opened(self, start: datetime, end: datetime, scope: MetricScope) -> int:
        """Count conversations created in [start, end) (by their current channel, team and
        assignee)."""
        query = select(func.count()).where(
            Conversation.workspace_id == self.workspace_id,
            Conversation.created_at >= start,
            Conversation.created_at < end,
            *_conversation_scope(scope),
        )
        return int((await self.session.execute(query)).scalar_one())

    async def opened_per_bucket(
        self, bounds: Sequence[datetime], scope: MetricScope, *, unmerged: bool = False
    ) -> list[int]:
        """Count `opened` of each bucket [bounds[i], bounds[i + 1]) in one grouped query
        (`unmerged`: only conversations not merged into another)."""
        if len(bounds) < 2:
            return []
        merged = (Conversation.merged_into_id.is_(None),) if unmerged else ()
        created = (
            select(bucket_of(Conversation.created_at, bounds).label("bucket"))
            .where(
                Conversation.workspace_id == self.workspace_id,
                Conversation.created_at >= bounds[0],
                Conversation.created_at < bounds[-1],
                *merged,
                *_conversation_scope(scope),
            )
            .subquery()
        )
        query = select(created.c.bucket, func.count()).group_by(created.c.bucket)
        counted = [0] * (len(bounds) - 1)
        for index, count in await self.session.execute(query):
            counted[int(index)] = int(count)
        return counted

    async def backlog(self, at: datetime, scope: MetricScope) -> int:
        """Count unmerged conversations created before `at` whose last cycle had not ended by
        then: no resolution or close before `at` that no reopen before `at` follows."""
        query = self.backlog_query(at, scope)
        return int((await self.session.execute(query)).scalar_one())

    async def backlog_per_bucket(self, bounds: Sequence[datetime], scope: MetricScope) -> list[int]:
        """Return `backlog` at each of bounds[1:]: one full count at bounds[1]; after it, only
        the conversations created, ended or reopened move the count."""
        later = bounds[1:]
        if not later:
            return []
        moves = [await self.backlog(later[0], scope)]
        moves += await self.opened_per_bucket(later, scope, unmerged=True)
        marks = await self._cycle_marks_before(later)
        for conversation_id, kind, at in await self._cycle_events(later, scope):
            last = marks.setdefault(conversation_id, [None, None])  # [end, reopen]
            before = _finished(*last)
            last[kind == MetricKind.reopen] = at
            if _finished(*last) != before:
                moves[bisect_right(later, at)] += 1 if before else -1
        return list(accumulate(moves))

    def _cycle_window(self, later: Sequence[datetime]) -> list[ColumnElement[bool]]:
        return [
            MetricEvent.workspace_id == self.workspace_id,
            MetricEvent.kind.in_((*CYCLE_ENDS, MetricKind.reopen)),
            MetricEvent.created_at >= later[0],
            MetricEvent.created_at < later[-1],
        ]

    async def _cycle_events(
        self, later: Sequence[datetime], scope: MetricScope
    ) -> list[tuple[str, MetricKind, datetime]]:
        """Return the cycle ends and reopens of [later[0], later[-1]) of the conversations
        `backlog` counts, oldest first."""
        query = (
            select(MetricEvent.conversation_id, MetricEvent.kind, MetricEvent.created_at)
            .join(Conversation, Conversation.id == MetricEvent.conversation_id)
            .where(
                *self._cycle_window(later),
                Conversation.workspace_id == self.workspace_id,
                Conversation.merged_into_id.is_(None),
                *_conversation_scope(scope),
            )
            .order_by(MetricEvent.created_at, MetricEvent.id)
        )
        return [(str(row[0]), row[1], row[2]) for row in await self.session.execute(query)]

    async def _cycle_marks_before(
        self, later: Sequence[datetime]
    ) -> dict[str, list[datetime | None]]:
        """Return [last end, last reopen] before later[0] of the conversations with a cycle
        end or reopen in [later[0], later[-1])."""
        is_reopen = MetricEvent.kind == MetricKind.reopen
        moved = select(MetricEvent.conversation_id).where(*self._cycle_window(later))
        query = (
            select(
                MetricEvent.conversation_id,
                func.max(case((~is_reopen, MetricEvent.created_at))),
                func.max(case((is_reopen, MetricEvent.created_at))),
            )
            .where(
                # Not an index term (`|| ''`): SQLite, planning without statistics, would
                # otherwise walk the window index over the whole history instead of looking
                # each moved conversation up by its id.
                (MetricEvent.workspace_id + "") == self.workspace_id,
                MetricEvent.kind.in_((*CYCLE_ENDS, MetricKind.reopen)),
                MetricEvent.created_at < later[0],
                MetricEvent.conversation_id.in_(moved),
            )
            .group_by(MetricEvent.conversation_id)
        )
        rows = await self.session.execute(query)
        return {str(row[0]): [row[1], row[2]] for row in rows}

    def backlog_query(self, at: datetime, scope: MetricScope) -> Select[int]:
        """Return the statement `backlog` runs: the finished conversations are found once,
        grouped (their last end after their last reopen), never per conversation."""
        return select(func.count()).where(*self._backlog_conditions(at, scope))

    def _backlog_conditions(self, at: datetime, scope: MetricScope) -> list[ColumnElement[bool]]:
        is_reopen = MetricEvent.kind == MetricKind.reopen
        last_end = func.max(case((~is_reopen, MetricEvent.created_at)))
        last_reopen = func.max(case((is_reopen, MetricEvent.created_at)))
        finished = (
            select(MetricEvent.conversation_id)
            .where(
                MetricEvent.workspace_id == self.workspace_id,
                MetricEvent.kind.in_((*CYCLE_ENDS, MetricKind.reopen)),
                MetricEvent.created_at < at,
            )
            .group_by(MetricEvent.conversation_id)
            .having(last_end.is_not(None), or_(last_reopen.is_(None), last_end > last_reopen))
        )
        return [
            Conversation.workspace_id == self.workspace_id,
            Conversation.created_at < at,
            Conversation.merged_into_id.is_(None),
            Conversation.id.not_in(finished),
            *_conversation_scope(scope),
        ]

    async def opened_and_backlog_by(
        self, start: datetime, end: datetime, scope: MetricScope, by: str
    ) -> dict[str, tuple[int, int]]:
        """Return `opened` of [start, end) and `backlog` at `end` per channel, team or agent
        (`by`) of the conversations, each in one grouped query: key -> (opened, backlog)."""
        column = GROUP_COLUMNS[by]
        opened = [
            Conversation.workspace_id == self.workspace_id,
            Conversation.created_at >= start,
            Conversation.created_at < end,
            *_conversation_scope(scope),
        ]
        found: dict[str, list[int]] = {}
        for place, conditions in enumerate((opened, self._backlog_conditions(end, scope))):
            query = select(column, func.count()).where(*conditions).group_by(column)
            for key, count in await self.session.execute(query):
                if key is not None:
                    found.setdefault(str(key), [0, 0])[place] = int(count)
        return {key: (pair[0], pair[1]) for key, pair in found.items()}


def _finished(last_end: datetime | None, last_reopen: datetime | None) -> bool:
    """Tell whether a conversation's last cycle had ended (`backlog`'s rule)."""
    return last_end is not None and (last_reopen is None or last_end > last_reopen)


def bucket_of(column: Any, bounds: Sequence[datetime]) -> Any:
    """Return the SQL expression of a time's bucket index i, bounds[i] <= time < bounds[i + 1]
    (for times inside [bounds[0], bounds[-1])): a binary search written as nested CASEs, so
    buckets cut at the window's own local midnights, DST changes included, on every dialect."""

    def search(low: int, high: int) -> Any:
        if high - low == 1:
            return literal(low)
        middle = (low + high) // 2
        return case((column < bounds[middle], search(low, middle)), else_=search(middle, high))

    return search(0, len(bounds) - 1)


def _event_scope(scope: MetricScope) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if scope.channel is not None:
        found.append(MetricEvent.channel == scope.channel)
    if scope.team_ids is not None:
        found.append(MetricEvent.team_id.in_(scope.team_ids))
    if scope.staff_id is not None:
        found.append(MetricEvent.staff_id == scope.staff_id)
    return found


def _conversation_scope(scope: MetricScope) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if scope.channel is not None:
        found.append(Conversation.channel == scope.channel)
    if scope.team_ids is not None:
        found.append(Conversation.team_id.in_(scope.team_ids))
    if scope.staff_id is not None:
        found.append(Conversation.assignee_id == scope.staff_id)
    return found
