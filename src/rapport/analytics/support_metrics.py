"""The support desk's metrics over a window, computed from its recorded metric events.

The events of a whole window are read once, into columns (`fact_columns`); each bucket (the
window, one of its days, one channel, team or agent) is then computed from a view of those
columns, so a per-day series or a breakdown costs one read, and its volumes one grouped
count."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    JSON,
    ColumnElement,
    Float,
    Select,
    String,
    case,
    column,
    func,
    select,
    table,
)
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics import digests, shared
from rapport.analytics.backlog import Backlog, opened_by
from rapport.analytics.definitions import mean, ranked, rate
from rapport.analytics.fact_columns import (
    CHANNEL_CODES,
    CHANNELS,
    KIND_CODES,
    KINDS,
    Coder,
    FactColumns,
    Names,
    code_of,
    micros,
)
from rapport.core.db import UtcDateTime
from rapport.support.calendars import SEARCH_DAYS, BusinessCalendar, BusinessClock
from rapport.support.enums import Channel, MetricKind
from rapport.support.reports import MetricScope, SupportReports

# First-level resolution: at most this many agent replies, and no reopen within this time.
FIRST_LEVEL_MAX_AGENT_REPLIES = 1
FIRST_LEVEL_REOPEN_WINDOW = timedelta(days=7)
_WEEK = FIRST_LEVEL_REOPEN_WINDOW // timedelta(microseconds=1)
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
    """A window's metric events as columns, and when each conversation among them was
    reopened since the window's start (`micros`, ascending), by conversation code."""

    facts: FactColumns
    reopens: dict[int, list[int]]


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
_FIRST_RESPONSE = code_of(MetricKind.first_response)
_REPLY = code_of(MetricKind.reply)
_RESOLUTION = code_of(MetricKind.resolution)
_HANDLE = code_of(MetricKind.handle)
_CLOSED = code_of(MetricKind.closed)
_CHAT = CHANNEL_CODES[str(Channel.chat)]


async def read_facts(
    session: AsyncSession,
    workspace_id: str,
    start: datetime,
    end: datetime,
    scope: MetricScope,
    calendar: BusinessCalendar,
) -> SupportFacts:
    """Read what the support metrics of [start, end) are computed from (once per window
    inside `shared.shared_reads`)."""
    key = ("support", workspace_id, start, end, scope, calendar)
    return await shared.once(
        session, key, lambda: _read_facts(session, workspace_id, start, end, scope, calendar)
    )


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
    """Read the window's events: its closed days from their digests, the rest from the rows
    of `facts_query` (each event's business seconds computed once, with a clock over the
    window's days); then the reopens of `SupportReports.reopen_times`."""
    clock = BusinessClock(calendar, start - CLOCK_LEAD, end)

    async def read_rows(span: digests.Day) -> FactColumns:
        query = facts_query(workspace_id, *span, MetricScope())
        return _columns((await session.execute(query)).all(), clock)

    parts = await digests.read_window(
        session, workspace_id, SOURCE.name, SOURCE.variant(calendar), (start, end),
        calendar.time_zone, read_rows, _from_digest,
    )  # fmt: skip
    facts = FactColumns.joined(parts).scoped(scope.channel, scope.team_ids, scope.staff_id)
    conversation_codes = {name: code for code, name in enumerate(facts.names.conversations)}
    reopens: dict[int, list[int]] = defaultdict(list)
    reopened = select(Event.conversation_id, Event.created_at).where(
        Event.workspace_id == workspace_id,
        Event.kind == str(MetricKind.reopen),
        Event.created_at >= start,
    )
    for conversation_id, at in await session.execute(reopened):
        code = conversation_codes.get(conversation_id)
        if code is not None:  # a conversation none of the window's events names
            reopens[code].append(micros(at))
    return SupportFacts(facts, {code: sorted(times) for code, times in reopens.items()})


class SupportDigests:
    """The support desk's metric events as day digests (`analytics.digests`): a day's
    events of the kinds read, with their business seconds in the workspace's calendar."""

    name = "support"

    def variant(self, calendar: BusinessCalendar) -> str:
        """Return a hash of what a digest's content depends on: its layout, the codes of
        kinds and channels, the kinds read, the first-level reply limit, and the calendar's
        time zone, hours and holidays (its business seconds)."""
        canonical = json.dumps(
            [
                digests.FORMAT,
                [str(kind) for kind in KINDS],
                [str(channel) for channel in CHANNELS],
                [str(kind) for kind in READ_KINDS],
                FIRST_LEVEL_MAX_AGENT_REPLIES,
                calendar.time_zone,
                calendar.weekly,
                sorted(day.isoformat() for day in calendar.holidays),
            ]
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    async def first_time(self, session: AsyncSession, workspace_id: str) -> datetime | None:
        """Return when the workspace's first event of the kinds read was recorded."""
        firsts = []
        for kind in READ_KINDS:  # one index seek each
            query = select(func.min(Event.created_at)).where(
                Event.workspace_id == workspace_id, Event.kind == str(kind)
            )
            first = (await session.execute(query)).scalar_one_or_none()
            if first is not None:
                firsts.append(first)
        return min(firsts, default=None)

    async def build(
        self,
        session: AsyncSession,
        workspace_id: str,
        day: digests.Day,
        calendar: BusinessCalendar,
    ) -> tuple[bytes, digests.Fingerprint]:
        """Return the day's digest and the fingerprint of the rows it was built from."""
        clock = BusinessClock(calendar, day[0] - CLOCK_LEAD, day[1])
        query = facts_query(workspace_id, *day, MetricScope()).add_columns(Event.id)
        rows = (await session.execute(query)).all()
        facts = _columns([row[:-1] for row in rows], clock)
        names = facts.names
        payload = digests.pack(
            facts.arrays(),
            {"conversations": names.conversations, "teams": names.teams, "staff": names.staff},
        )
        return payload, digests.Fingerprint(len(rows), max((row[-1] for row in rows), default=None))

    async def fingerprint(
        self, session: AsyncSession, workspace_id: str, day: digests.Day
    ) -> digests.Fingerprint:
        """Return the count and greatest id of the day's events of the kinds read (metric
        events are only ever added or deleted, and ids grow with time)."""
        query = select(func.count(), func.max(Event.id)).where(
            Event.workspace_id == workspace_id,
            Event.kind.in_([str(kind) for kind in READ_KINDS]),
            Event.created_at >= day[0],
            Event.created_at < day[1],
        )
        rows, last_id = (await session.execute(query)).one()
        return digests.Fingerprint(rows, last_id)


SOURCE = SupportDigests()


def _from_digest(digest: digests.Unpacked) -> FactColumns:
    """Return a digest's events (ValueError when its arrays and codes do not fit)."""
    try:
        names = Names(digest.names["conversations"], digest.names["teams"], digest.names["staff"])
        facts = FactColumns.from_arrays(digest.arrays, names)
    except KeyError as error:
        raise ValueError(f"a support digest lacks {error}") from error
    facts.check()
    return facts


def _columns(rows: Sequence[Any], clock: BusinessClock) -> FactColumns:
    """Return the rows of `facts_query` as columns."""
    if rows:
        conversations, kinds, seconds, staff, channels, teams, replies, escalated, times = zip(
            *rows, strict=True
        )
    else:
        conversations = kinds = seconds = staff = channels = teams = replies = escalated = ()
        times = ()
    coders = Coder(), Coder(), Coder()
    return FactColumns(
        at=np.array([micros(at) for at in times], dtype=np.int64),
        kind=np.array([KIND_CODES[kind] for kind in kinds], dtype=np.int8),
        conversation=coders[0].encode(conversations),
        seconds=np.array(seconds, dtype=np.float64),  # None -> NaN
        business=np.array(
            [_business(span, at, clock) for span, at in zip(seconds, times, strict=True)],
            dtype=np.float64,
        ),
        channel=np.array([CHANNEL_CODES[channel] for channel in channels], dtype=np.int8),
        team=coders[1].encode(teams),
        staff=coders[2].encode(staff),
        # Only a resolution has these two; other events read None for both.
        quick=np.array(
            [
                isinstance(count, int) and count <= FIRST_LEVEL_MAX_AGENT_REPLIES and not sent_up
                for count, sent_up in zip(replies, escalated, strict=True)
            ],
            dtype=np.bool_,
        ),
        names=Names(coders[0].names(), coders[1].names(), coders[2].names()),
    )


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
    facts = source.facts
    codes: NDArray[np.integer[Any]]
    named: Sequence[str]
    if by == "channel":
        codes, named = facts.channel, [str(channel) for channel in CHANNELS]
    elif by == "team":
        codes, named = facts.team, facts.names.teams
    else:
        codes, named = facts.staff, facts.names.staff
    opened = await opened_by(session, workspace_id, window, scope, by)
    backlogs = await Backlog(session, workspace_id).by(end, scope, by)
    split = {named[code]: codes == code for code in np.unique(codes[codes >= 0]).tolist()}
    return {
        key: compute(replace(source, facts=facts.where(split[key])), start, end)
        | {"volume": opened.get(key, 0), "backlog": backlogs.get(key, 0)}
        for key in sorted(split)
    }


def compute_buckets(source: SupportFacts, bounds: Sequence[datetime]) -> list[Figures]:
    """Return `compute` of each bucket [bounds[i], bounds[i + 1])."""
    return [compute(source, start, end) for start, end in pairwise(bounds)]


def compute(source: SupportFacts, start: datetime, end: datetime) -> Figures:
    """Compute every support metric from the events recorded in [start, end)."""
    facts = source.facts.between(start, end)
    firsts = facts.kind == _FIRST_RESPONSE
    replies = facts.kind == _REPLY
    next_replies = replies & ~_at_first_responses(facts, firsts, replies)
    figures: Figures = {}
    figures |= _timed("first_response", facts, firsts)
    figures |= _timed("next_reply", facts, next_replies)
    figures |= _timed("resolution", facts, facts.kind == _RESOLUTION)
    figures |= _handling(facts)
    figures |= _resolutions(facts, source.reopens)
    return figures


def _at_first_responses(
    facts: FactColumns, firsts: NDArray[np.bool_], replies: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Tell which replies share their conversation and time with a first response (a first
    response is also recorded as a reply; it is not a next reply)."""
    found = np.zeros(len(facts), dtype=np.bool_)
    # The events are in time order: each reply finds the first responses of its instant
    # by binary search, nearly always one, whose conversation it compares.
    first_at, first_conversation = facts.at[firsts], facts.conversation[firsts]
    chosen = np.flatnonzero(replies)
    at, conversation = facts.at[chosen], facts.conversation[chosen]
    low = np.searchsorted(first_at, at, side="left")
    high = np.searchsorted(first_at, at, side="right")
    single = high - low == 1
    found[chosen[single]] = first_conversation[low[single]] == conversation[single]
    for index in np.flatnonzero(high - low > 1).tolist():  # first responses at one instant
        among = first_conversation[low[index] : high[index]]
        found[chosen[index]] = bool(np.any(among == conversation[index]))
    return found


def _timed(name: str, facts: FactColumns, selected: NDArray[np.bool_]) -> Figures:
    measured = selected & ~np.isnan(facts.seconds)
    return {
        f"{name}_count": int(np.count_nonzero(measured)),
        **_distribution(f"{name}_seconds", facts.seconds[measured]),
        **_distribution(f"{name}_business_seconds", facts.business[measured]),
    }


def _handling(facts: FactColumns) -> Figures:
    """Handle time is per conversation: the sum of its agents' open, assigned stretches."""
    handles = facts.kind == _HANDLE
    conversations, per_conversation = np.unique(facts.conversation[handles], return_inverse=True)
    # bincount adds each conversation's spans in the events' order, as a running sum would.
    size = len(conversations)
    spans = np.nan_to_num(facts.seconds[handles], nan=0.0)
    return {
        "handled_conversations": size,
        **_distribution("handle_seconds", np.bincount(per_conversation, spans, size)),
        **_distribution(
            "handle_business_seconds",
            np.bincount(per_conversation, facts.business[handles], size),
        ),
    }


def _resolutions(facts: FactColumns, reopens: dict[int, list[int]]) -> Figures:
    resolutions = facts.kind == _RESOLUTION
    resolved = int(np.count_nonzero(resolutions))
    reopened, reopened_soon = _reopened(facts, resolutions, reopens)
    first_level = int(np.count_nonzero(resolutions & facts.quick & ~reopened_soon))
    reopened_count = int(np.count_nonzero(reopened))
    chat_ends = int(
        np.count_nonzero((resolutions | (facts.kind == _CLOSED)) & (facts.channel == _CHAT))
    )
    counted = np.bincount(facts.kind, minlength=len(KIND_CODES))

    def count(kind: MetricKind) -> int:
        return int(counted[code_of(kind)])

    abandoned = count(MetricKind.abandoned)
    contained, handoffs = count(MetricKind.bot_resolved), count(MetricKind.handoff)
    return {
        "resolutions": resolved,
        "first_level_resolutions": first_level,
        "first_level_resolution_rate": rate(first_level, resolved),
        "reopened_resolutions": reopened_count,
        "reopen_rate": rate(reopened_count, resolved),
        "abandoned_chats": abandoned,
        "ended_chats": chat_ends,
        "abandoned_rate": rate(abandoned, chat_ends),
        "assistant_resolutions": contained,
        "handoffs": handoffs,
        "containment_rate": rate(contained, contained + handoffs),
        "automation_rate": rate(contained, resolved),
        "escalations": count(MetricKind.escalation),
    }


def _reopened(
    facts: FactColumns, resolutions: NDArray[np.bool_], reopens: dict[int, list[int]]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Tell which resolutions were followed by a reopen of their conversation at all, and
    within FIRST_LEVEL_REOPEN_WINDOW."""
    ever = np.zeros(len(facts), dtype=np.bool_)
    soon = np.zeros(len(facts), dtype=np.bool_)
    if not reopens:
        return ever, soon
    reopened = np.fromiter(reopens, dtype=np.int32, count=len(reopens))
    candidates = np.flatnonzero(resolutions & np.isin(facts.conversation, reopened))
    conversations, moments = facts.conversation[candidates], facts.at[candidates]
    for index, conversation, at in zip(
        candidates.tolist(), conversations.tolist(), moments.tolist(), strict=True
    ):
        later = [reopen for reopen in reopens[conversation] if reopen > at]
        ever[index] = bool(later)
        soon[index] = bool(later) and later[0] <= at + _WEEK
    return ever, soon


def _business(seconds: float | None, ended: datetime, clock: BusinessClock) -> float:
    """Return the business seconds of the span of `seconds` that ended at `ended` (0 when
    nothing was measured)."""
    span = timedelta(seconds=seconds or 0.0)
    if clock.calendar.always_open:
        # What `business_seconds` returns without a calendar, without its datetime work:
        # the whole span (rounded to microseconds as a timedelta is), at most its search
        # horizon, and nothing for an empty or negative span.
        if span <= timedelta(0):
            return 0.0
        return min(span, ALWAYS_OPEN_HORIZON).total_seconds()
    return clock.seconds(ended - span, ended)


def _distribution(name: str, values: NDArray[Any]) -> Figures:
    ordered = np.sort(values)
    listed = ordered.tolist()
    return {
        f"{name}_mean": mean(listed),
        f"{name}_p50": ranked(listed, 0.5),
        f"{name}_p90": ranked(listed, 0.9),
    }
