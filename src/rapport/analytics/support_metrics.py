"""The support desk's metrics over a window, computed from its recorded metric events.

The events of a whole window are read once; each bucket (the window, or one of its days)
is then computed from the events recorded in it, so a per-day series costs one read, and
its volumes one grouped count."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import JSON, ColumnElement, Float, Select, String, case, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics.backlog import Backlog, opened_by
from rapport.analytics.definitions import mean, percentile, rate
from rapport.core.db import UtcDateTime
from rapport.support.calendars import SEARCH_DAYS, BusinessCalendar, BusinessClock
from rapport.support.enums import Channel, MetricKind
from rapport.support.reports import Fact, MetricScope, SupportReports

# First-level resolution: at most this many agent replies, and no reopen within this time.
FIRST_LEVEL_MAX_AGENT_REPLIES = 1
FIRST_LEVEL_REOPEN_WINDOW = timedelta(days=7)
READ_KINDS = (
    MetricKind.first_response,
    MetricKind.reply,
    MetricKind.resolution,
    MetricKind.handle,
    MetricKind.closed,
    MetricKind.abandoned,
    MetricKind.bot_resolved,
    MetricKind.handoff,
    MetricKind.escalation,
)
Figures = dict[str, float | int | None]
ALWAYS_OPEN_HORIZON = timedelta(days=SEARCH_DAYS)
# How far before a window its business clock lists open spans: a measured span that began
# earlier (a resolution after weeks open) is computed span by span instead.
CLOCK_LEAD = timedelta(days=90)


@dataclass(frozen=True)
class SupportFacts:
    """A window's metric events, the reopens since its start, and the business calendar
    (with its clock over the window's days)."""

    facts: Sequence[Fact]
    reopens: dict[str, list[datetime]]
    clock: BusinessClock


# The support desk's metric events, named here rather than imported: a domain never imports
# another's models (rule 7). Read as plain columns, never as ORM rows.
_EVENTS = table(
    "conversation_metric_events",
    column("id", String),
    column("workspace_id", String),
    column("conversation_id", String),
    column("kind", String),
    column("seconds", Float),
    column("staff_id", String),
    column("channel", String),
    column("team_id", String),
    column("data", JSON),
    column("created_at", UtcDateTime(timezone=True)),
)
Event = _EVENTS.c
_KINDS = {str(kind): kind for kind in MetricKind}
_CHANNELS = {str(channel): channel for channel in Channel}


_SHARED = "rapport_shared_support_facts"


@contextmanager
def shared_reads(session: AsyncSession) -> Iterator[None]:
    """Read each window's metric events once for all the figures computed inside (a page
    showing one window's summary, series and breakdowns), which then agree by construction.
    Only for units of work that record no metric event meanwhile (the service never does)."""
    if _SHARED in session.info:  # already shared by an enclosing block
        yield
        return
    session.info[_SHARED] = {}
    try:
        yield
    finally:
        session.info.pop(_SHARED, None)


async def read_facts(
    session: AsyncSession,
    workspace_id: str,
    start: datetime,
    end: datetime,
    scope: MetricScope,
    calendar: BusinessCalendar,
) -> SupportFacts:
    """Read what the support metrics of [start, end) are computed from (once per window
    inside `shared_reads`)."""
    shared: dict[Any, SupportFacts] | None = session.info.get(_SHARED)
    key = (workspace_id, start, end, scope, calendar)
    if shared is not None and key in shared:
        return shared[key]
    facts = await _read_facts(session, workspace_id, start, end, scope, calendar)
    if shared is not None:
        shared[key] = facts
    return facts


def facts_query(
    workspace_id: str, start: datetime, end: datetime, scope: MetricScope
) -> Select[Any]:
    """Return the read of `SupportReports.facts` in [start, end) (oldest first), of which
    only a resolution's `agent_replies` and `escalated` are used, so those two are extracted
    in SQL and no other event's JSON is decoded. Every other column read is in
    ix_conversation_metric_events_window: only a resolution's row is visited for its data."""
    resolution = Event.kind == str(MetricKind.resolution)
    return (
        select(
            Event.conversation_id,
            Event.kind,
            Event.seconds,
            Event.staff_id,
            Event.channel,
            Event.team_id,
            case((resolution, Event.data["agent_replies"].as_integer())),
            case((resolution, Event.data["escalated"].as_boolean())),
            Event.created_at,
        )
        .where(
            Event.workspace_id == workspace_id,
            Event.kind.in_([str(kind) for kind in READ_KINDS]),
            Event.created_at >= start,
            Event.created_at < end,
            *_event_scope(scope),
        )
        .order_by(Event.created_at, Event.id)
    )


async def _read_facts(
    session: AsyncSession,
    workspace_id: str,
    start: datetime,
    end: datetime,
    scope: MetricScope,
    calendar: BusinessCalendar,
) -> SupportFacts:
    """Read `facts_query` and the reopens of `SupportReports.reopen_times`."""
    query = facts_query(workspace_id, start, end, scope)
    facts = [_fact(*row) for row in await session.execute(query)]
    reopens: dict[str, list[datetime]] = defaultdict(list)
    reopened = select(Event.conversation_id, Event.created_at).where(
        Event.workspace_id == workspace_id,
        Event.kind == str(MetricKind.reopen),
        Event.created_at >= start,
    )
    for conversation_id, at in await session.execute(reopened):
        reopens[conversation_id].append(at)
    clock = BusinessClock(calendar, start - CLOCK_LEAD, end)
    return SupportFacts(facts, dict(reopens), clock)


def _fact(
    conversation_id: str,
    kind: str,
    seconds: float | None,
    staff_id: str | None,
    channel: str,
    team_id: str | None,
    replies: int | None,
    escalated: bool | None,
    created_at: datetime,
) -> Fact:
    """Return one row of `read_facts` as the `Fact` it stands for (a resolution's data holds
    the two keys the metrics read, other events' none)."""
    data = _resolution_data(replies, escalated) if kind == MetricKind.resolution else {}
    return Fact(
        conversation_id, _KINDS[kind], seconds, staff_id, _CHANNELS[channel], team_id, data,
        created_at,
    )  # fmt: skip


def _resolution_data(replies: int | None, escalated: bool | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if replies is not None:
        data["agent_replies"] = replies
    if escalated is not None:
        data["escalated"] = escalated
    return data


def _event_scope(scope: MetricScope) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if scope.channel is not None:
        found.append(Event.channel == str(scope.channel))
    if scope.team_ids is not None:
        found.append(Event.team_id.in_(scope.team_ids))
    if scope.staff_id is not None:
        found.append(Event.staff_id == scope.staff_id)
    return found


async def counts(
    session: AsyncSession, workspace_id: str, start: datetime, end: datetime, scope: MetricScope
) -> Figures:
    """Return the volume of [start, end) and the backlog at its end."""
    reports = SupportReports(session, workspace_id)
    return {
        "volume": await reports.opened(start, end, scope),
        "backlog": await Backlog(session, workspace_id).at(end, scope),
    }


async def daily_counts(
    session: AsyncSession, workspace_id: str, bounds: Sequence[datetime], scope: MetricScope
) -> list[Figures]:
    """Return `counts` of each bucket [bounds[i], bounds[i + 1])."""
    reports = SupportReports(session, workspace_id)
    volumes = await reports.opened_per_bucket(bounds, scope)
    backlogs = await Backlog(session, workspace_id).per_bucket(bounds, scope)
    return [
        {"volume": volume, "backlog": backlog}
        for volume, backlog in zip(volumes, backlogs, strict=True)
    ]


async def grouped(
    session: AsyncSession,
    workspace_id: str,
    source: SupportFacts,
    window: tuple[datetime, datetime],
    scope: MetricScope,
    by: str,
) -> dict[str, Figures]:
    """Return every support metric of [start, end) per channel, team or agent (`by`) named by
    the facts: the facts split in memory, the counts in one grouped query each."""
    start, end = window
    split: dict[str, list[Fact]] = defaultdict(list)
    for fact in source.facts:
        value = {"channel": fact.channel, "team": fact.team_id, "agent": fact.staff_id}[by]
        if value is not None:
            split[str(value)].append(fact)
    opened = await opened_by(session, workspace_id, window, scope, by)
    backlogs = await Backlog(session, workspace_id).by(end, scope, by)
    return {
        key: compute(replace(source, facts=facts), start, end)
        | {"volume": opened.get(key, 0), "backlog": backlogs.get(key, 0)}
        for key, facts in sorted(split.items())
    }


def compute_buckets(source: SupportFacts, bounds: Sequence[datetime]) -> list[Figures]:
    """Return `compute` of each bucket [bounds[i], bounds[i + 1]); the facts are sorted by
    time, so each bucket is a slice of them."""
    times = [fact.created_at for fact in source.facts]
    figures = []
    for start, end in pairwise(bounds):
        inside = source.facts[bisect_left(times, start) : bisect_left(times, end)]
        figures.append(compute(replace(source, facts=inside), start, end))
    return figures


def compute(source: SupportFacts, start: datetime, end: datetime) -> Figures:
    """Compute every support metric from the events recorded in [start, end)."""
    by_kind: dict[MetricKind, list[Fact]] = defaultdict(list)
    for fact in source.facts:
        if start <= fact.created_at < end:
            by_kind[fact.kind].append(fact)
    firsts = by_kind[MetricKind.first_response]
    first_marks = {(fact.conversation_id, fact.created_at) for fact in firsts}
    next_replies = [
        fact
        for fact in by_kind[MetricKind.reply]
        if (fact.conversation_id, fact.created_at) not in first_marks
    ]
    figures: Figures = {}
    figures |= _timed("first_response", firsts, source.clock)
    figures |= _timed("next_reply", next_replies, source.clock)
    figures |= _timed("resolution", by_kind[MetricKind.resolution], source.clock)
    figures |= _handling(by_kind[MetricKind.handle], source.clock)
    figures |= _resolutions(by_kind, source.reopens)
    return figures


def _timed(name: str, facts: Sequence[Fact], clock: BusinessClock) -> Figures:
    measured = [fact for fact in facts if fact.seconds is not None]
    seconds = [fact.seconds for fact in measured if fact.seconds is not None]
    business = [_business(fact, clock) for fact in measured]
    return {
        f"{name}_count": len(measured),
        **_distribution(f"{name}_seconds", seconds),
        **_distribution(f"{name}_business_seconds", business),
    }


def _handling(facts: Sequence[Fact], clock: BusinessClock) -> Figures:
    """Handle time is per conversation: the sum of its agents' open, assigned stretches."""
    seconds: dict[str, float] = defaultdict(float)
    business: dict[str, float] = defaultdict(float)
    for fact in facts:
        seconds[fact.conversation_id] += fact.seconds or 0.0
        business[fact.conversation_id] += _business(fact, clock)
    return {
        "handled_conversations": len(seconds),
        **_distribution("handle_seconds", list(seconds.values())),
        **_distribution("handle_business_seconds", list(business.values())),
    }


def _resolutions(
    by_kind: dict[MetricKind, list[Fact]], reopens: dict[str, list[datetime]]
) -> Figures:
    resolutions = by_kind[MetricKind.resolution]
    first_level = [fact for fact in resolutions if _first_level(fact, reopens)]
    reopened = [fact for fact in resolutions if _reopened_after(fact, reopens, None)]
    chat_ends = [
        fact for fact in (*resolutions, *by_kind[MetricKind.closed]) if fact.channel == Channel.chat
    ]
    abandoned = len(by_kind[MetricKind.abandoned])
    contained, handoffs = len(by_kind[MetricKind.bot_resolved]), len(by_kind[MetricKind.handoff])
    return {
        "resolutions": len(resolutions),
        "first_level_resolutions": len(first_level),
        "first_level_resolution_rate": rate(len(first_level), len(resolutions)),
        "reopened_resolutions": len(reopened),
        "reopen_rate": rate(len(reopened), len(resolutions)),
        "abandoned_chats": abandoned,
        "ended_chats": len(chat_ends),
        "abandoned_rate": rate(abandoned, len(chat_ends)),
        "assistant_resolutions": contained,
        "handoffs": handoffs,
        "containment_rate": rate(contained, contained + handoffs),
        "automation_rate": rate(contained, len(resolutions)),
        "escalations": len(by_kind[MetricKind.escalation]),
    }


def _first_level(fact: Fact, reopens: dict[str, list[datetime]]) -> bool:
    replies = fact.data.get("agent_replies")
    return (
        isinstance(replies, int)
        and replies <= FIRST_LEVEL_MAX_AGENT_REPLIES
        and not fact.data.get("escalated", False)
        and not _reopened_after(fact, reopens, FIRST_LEVEL_REOPEN_WINDOW)
    )


def _reopened_after(
    fact: Fact, reopens: dict[str, list[datetime]], within: timedelta | None
) -> bool:
    """Tell whether the conversation was reopened after this resolution (within `within`)."""
    limit = None if within is None else fact.created_at + within
    return any(
        at > fact.created_at and (limit is None or at <= limit)
        for at in reopens.get(fact.conversation_id, ())
    )


def _business(fact: Fact, clock: BusinessClock) -> float:
    span = timedelta(seconds=fact.seconds or 0.0)
    if clock.calendar.always_open:
        # What `business_seconds` returns without a calendar, without its datetime work:
        # the whole span (rounded to microseconds as a timedelta is), at most its search
        # horizon, and nothing for an empty or negative span.
        if span <= timedelta(0):
            return 0.0
        return min(span, ALWAYS_OPEN_HORIZON).total_seconds()
    ended = fact.created_at
    return clock.seconds(ended - span, ended)


def _distribution(name: str, values: Iterable[float]) -> Figures:
    listed = list(values)
    return {
        f"{name}_mean": mean(listed),
        f"{name}_p50": percentile(listed, 0.5),
        f"{name}_p90": percentile(listed, 0.9),
    }
