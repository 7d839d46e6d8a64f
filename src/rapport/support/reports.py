"""Every SQL statement behind the support metrics: the facts read when a metric event is
recorded, and the report queries over metric events and conversations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.support.enums import AuthorType, Channel, MetricKind
from rapport.support.models import Activity, Conversation, Message, MetricEvent

# Activities that start (or end) an agent's open, assigned stretch on a conversation.
STRETCH_MARKS = ("created", "status", "assignment")
CYCLE_ENDS = (MetricKind.resolution, MetricKind.closed)
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


@dataclass(frozen=True)
class Fact:
    """One recorded metric event, as reports read it."""

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

    async def backlog(self, at: datetime, scope: MetricScope) -> int:
        """Count unmerged conversations created before `at` whose last cycle had not ended by
        then: no resolution or close before `at` that no reopen before `at` follows."""
        query = self.backlog_query(at, scope)
        return int((await self.session.execute(query)).scalar_one())

    def backlog_query(self, at: datetime, scope: MetricScope) -> Select[int]:
        """Return the statement `backlog` runs: the finished conversations are found once,
        grouped (their last end after their last reopen), never per conversation."""
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
        return select(func.count()).where(
            Conversation.workspace_id == self.workspace_id,
            Conversation.created_at < at,
            Conversation.merged_into_id.is_(None),
            Conversation.id.not_in(finished),
            *_conversation_scope(scope),
        )


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
