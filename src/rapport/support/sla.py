"""SLA tracking: the policy that applies to a conversation, its deadlines on business time,
and the warnings and breaches recorded (append-only) and pushed to the console.

Deadlines are derived from what the support domain already measures: a first response runs
from the start or the hand-off until the `first_response` metric event; each later wait from
its start until the `reply` event that ends it (start = event time - seconds measured); each
open->resolved cycle until its `resolution` event. A refresh recomputes them from those facts,
so it may run any number of times (a job runs at least once) and never records twice."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc, utcnow
from rapport.support.calendars import BusinessCalendar, add_business_time
from rapport.support.enums import (
    FINISHED,
    ConversationStatus,
    MetricKind,
    SlaEventKind,
    SlaTarget,
)
from rapport.support.events import CONVERSATION_SLA_BREACHED, CONVERSATION_SLA_WARNING
from rapport.support.models import Conversation, MetricEvent
from rapport.support.notify import announce
from rapport.support.repository import MetricRepository
from rapport.support.routing_calendar import calendars
from rapport.support.routing_models import SlaEvent, SlaPolicy
from rapport.support.routing_repository import (
    RoutingRepository,
    SlaEventRepository,
    SlaPolicyRepository,
)

# Conversations one periodic pass checks per workspace (the rest are checked next pass).
CHECK_BATCH = 200


@dataclass(frozen=True)
class Deadline:
    """One target's deadline: running (not met yet) or met at `met_at`."""

    target: SlaTarget
    due_at: datetime
    warn_at: datetime
    met_at: datetime | None = None


def matching_policy(policies: Sequence[SlaPolicy], conversation: Conversation) -> SlaPolicy | None:
    """Return the first policy (by position) whose priorities and channels fit."""
    for policy in policies:
        if policy.priorities and conversation.priority not in policy.priorities:
            continue
        if policy.channels and conversation.channel not in policy.channels:
            continue
        return policy
    return None


def deadlines(
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    conversation: Conversation,
    facts: Sequence[MetricEvent],
) -> list[Deadline]:
    """Return every deadline of the conversation under `policy`, met or running."""
    found = []
    for target, start, met_at in _stretches(policy, conversation, facts):
        minutes = _minutes(policy, target)
        if minutes is None:
            continue
        due = _after(calendar, start, minutes)
        warn = _after(calendar, start, max(0, minutes - policy.warn_before_minutes))
        found.append(Deadline(target, due, warn, met_at))
    return found


def _stretches(
    policy: SlaPolicy, conversation: Conversation, facts: Sequence[MetricEvent]
) -> Iterator[tuple[SlaTarget, datetime, datetime | None]]:
    """Yield (target, start, met) for each stretch a target measures."""
    first_at = _utc(conversation.first_response_at)
    start = conversation.handed_off_at or conversation.created_at
    if conversation.status != ConversationStatus.pending or conversation.handed_off_at:
        yield SlaTarget.first_response, as_utc(start), first_at
    for fact in facts:
        ended, started = as_utc(fact.created_at), _started(fact)
        if fact.kind == MetricKind.reply and first_at is not None and ended > first_at:
            yield SlaTarget.next_response, started, ended
        elif fact.kind == MetricKind.resolution:
            yield SlaTarget.resolution, started, ended
    if first_at is not None and conversation.awaiting_reply_since is not None:
        yield SlaTarget.next_response, as_utc(conversation.awaiting_reply_since), None
    if conversation.cycle_started_at is not None and conversation.status not in FINISHED:
        yield SlaTarget.resolution, as_utc(conversation.cycle_started_at), None


class SlaService:
    async def refresh(self, session: AsyncSession, workspace_id: str, conversation_id: str) -> None:
        """Recompute a conversation's deadlines, record the warnings and breaches now due
        (once each) and set when to look again.

        It reads without a lock first: when nothing is to be recorded and what the
        conversation shows stays the same (no policy applies, deadlines unchanged), it writes
        nothing and takes no lock (on SQLite: not the writer). Otherwise it locks the
        conversation and works it out again from what it reads under the lock."""
        routing = RoutingRepository(session, workspace_id)
        conversation = await routing.unlocked(conversation_id)
        if conversation is None:
            return
        plan = await self._plan(session, conversation)
        if not plan.due and _shown(conversation) == plan.shown:
            return
        conversation = await routing.for_routing(conversation_id)
        if conversation is None:
            return
        plan = await self._plan(session, conversation)
        if plan.policy is not None:  # nothing is due without one
            for deadline, kind in plan.due:
                await self._record(session, conversation, plan.policy, deadline, kind)
        _show(conversation, plan.shown)

    async def _plan(self, session: AsyncSession, conversation: Conversation) -> _Plan:
        """Work out what a refresh records and shows, with reads only."""
        workspace_id = conversation.workspace_id
        policies = await SlaPolicyRepository(session, workspace_id).listed()
        policy = None if conversation.merged_into_id else matching_policy(policies, conversation)
        if policy is None:
            return _Plan(None, [], _showing(None, [], None))
        calendar = await calendars.load(session, workspace_id)
        facts = await MetricRepository(session, workspace_id).of(conversation.id)
        found = deadlines(policy, calendar, conversation, facts)
        now = utcnow()
        recorded = await SlaEventRepository(session, workspace_id).recorded(conversation.id)
        due, upcoming = [], []
        for deadline in found:
            kind = _due_event(deadline, recorded, now, as_utc(policy.created_at))
            if kind is not None:
                due.append((deadline, kind))
                recorded.add((deadline.target, kind, deadline.due_at))
            upcoming.extend(_next_moments(deadline, recorded, now))
        return _Plan(policy, due, _showing(policy, found, min(upcoming, default=None)))

    async def check_due(self, session: AsyncSession, workspace_id: str) -> int:
        """Refresh the conversations whose next SLA moment has come; return how many."""
        due = await RoutingRepository(session, workspace_id).sla_due(utcnow(), CHECK_BATCH)
        for conversation_id in due:
            await self.refresh(session, workspace_id, conversation_id)
        return len(due)

    async def events(
        self, session: AsyncSession, workspace_id: str, conversation_id: str
    ) -> Sequence[SlaEvent]:
        """Return a conversation's recorded SLA warnings and breaches."""
        return await SlaEventRepository(session, workspace_id).of(conversation_id)

    async def _record(
        self,
        session: AsyncSession,
        conversation: Conversation,
        policy: SlaPolicy,
        deadline: Deadline,
        kind: SlaEventKind,
    ) -> None:
        await SlaEventRepository(session, conversation.workspace_id).add(
            SlaEvent(
                conversation_id=conversation.id, policy_id=policy.id, target=deadline.target,
                kind=kind, due_at=deadline.due_at, channel=conversation.channel,
                priority=conversation.priority, team_id=conversation.team_id,
                assignee_id=conversation.assignee_id,
            )
        )  # fmt: skip
        name = (
            CONVERSATION_SLA_BREACHED if kind == SlaEventKind.breach else CONVERSATION_SLA_WARNING
        )
        announce(
            session, name, workspace_id=conversation.workspace_id,
            conversation_id=conversation.id, event=kind == SlaEventKind.breach,
            target=str(deadline.target), due_at=deadline.due_at.isoformat(),
        )  # fmt: skip


def _due_event(
    deadline: Deadline,
    recorded: set[tuple[SlaTarget, SlaEventKind, datetime]],
    now: datetime,
    policy_since: datetime,
) -> SlaEventKind | None:
    """Return what is to be recorded for a deadline now, if anything."""
    breached = (deadline.target, SlaEventKind.breach, deadline.due_at) in recorded
    warned = (deadline.target, SlaEventKind.warning, deadline.due_at) in recorded
    if deadline.met_at is not None:
        late = deadline.met_at > deadline.due_at and deadline.met_at >= policy_since
        return SlaEventKind.breach if late and not breached else None
    if now >= deadline.due_at:
        return None if breached else SlaEventKind.breach
    if now >= deadline.warn_at and not warned and not breached:
        return SlaEventKind.warning
    return None


def _next_moments(
    deadline: Deadline, recorded: set[tuple[SlaTarget, SlaEventKind, datetime]], now: datetime
) -> list[datetime]:
    """Return when a running deadline next needs a look (its warning, then its breach)."""
    if deadline.met_at is not None:
        return []
    moments = []
    for kind, moment in (
        (SlaEventKind.warning, deadline.warn_at),
        (SlaEventKind.breach, deadline.due_at),
    ):
        if moment > now and (deadline.target, kind, deadline.due_at) not in recorded:
            moments.append(moment)
    return moments


# What a conversation shows of its SLA: policy id, the three running deadlines, next look.
_Shown = tuple[str | None, datetime | None, datetime | None, datetime | None, datetime | None]


@dataclass(frozen=True)
class _Plan:
    """What one refresh records (deadline, kind) and then shows on the conversation."""

    policy: SlaPolicy | None
    due: list[tuple[Deadline, SlaEventKind]]
    shown: _Shown


def _showing(
    policy: SlaPolicy | None, found: Sequence[Deadline], check_at: datetime | None
) -> _Shown:
    """Return what the conversation is to show: the policy, running deadlines, next look."""
    running = {deadline.target: deadline.due_at for deadline in found if deadline.met_at is None}
    return (
        None if policy is None else policy.id,
        running.get(SlaTarget.first_response),
        running.get(SlaTarget.next_response),
        running.get(SlaTarget.resolution),
        check_at,
    )


def _shown(conversation: Conversation) -> _Shown:
    """Return what the conversation shows now."""
    return (
        conversation.sla_policy_id,
        _utc(conversation.first_response_due_at),
        _utc(conversation.next_response_due_at),
        _utc(conversation.resolution_due_at),
        _utc(conversation.sla_check_at),
    )


def _show(conversation: Conversation, shown: _Shown) -> None:
    """Keep the policy, the running deadlines and the next look on the conversation."""
    (
        conversation.sla_policy_id,
        conversation.first_response_due_at,
        conversation.next_response_due_at,
        conversation.resolution_due_at,
        conversation.sla_check_at,
    ) = shown


def _minutes(policy: SlaPolicy, target: SlaTarget) -> int | None:
    return {
        SlaTarget.first_response: policy.first_response_minutes,
        SlaTarget.next_response: policy.next_response_minutes,
        SlaTarget.resolution: policy.resolution_minutes,
    }[target]


def _after(calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    # Whole seconds: a deadline is recomputed on every refresh and keys its records.
    return add_business_time(calendar, start, minutes * 60).replace(microsecond=0)


def _started(fact: MetricEvent) -> datetime:
    return as_utc(fact.created_at) - timedelta(seconds=fact.seconds or 0.0)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


slas = SlaService()
