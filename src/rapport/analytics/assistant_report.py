"""The assistant's report over a window: the conversations it held, how many it resolved
alone and how many it gave to people, why, and on which intents (what to write an article or
a custom intent for). Read from the support desk's metric events (`handoff`, with the reason
and the intent in hand the assistant recorded, and `bot_resolved`); nothing here writes."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics.definitions import rate
from rapport.analytics.schemas import (
    AssistantDay,
    AssistantIntent,
    AssistantReason,
    AssistantReport,
)
from rapport.analytics.support_metrics import Event
from rapport.analytics.windows import window
from rapport.assistant.enums import HandoffReason
from rapport.core.clock import as_utc
from rapport.support.enums import TAKEN_OVER, Channel, MetricKind
from rapport.support.routing_calendar import calendars

# The assistant's hand-offs recorded before it kept their reasons (before 2026-12-06).
UNRECORDED = "unrecorded"
# The reasons that mean the assistant could not answer: an article or a custom intent for
# the intent in hand would have let it.
GAPS = frozenset(
    {HandoffReason.no_answer, HandoffReason.low_confidence, HandoffReason.out_of_scope}
)
TOP_INTENTS = 20


async def assistant_report(
    session: AsyncSession,
    workspace_id: str,
    *,
    first_day: date,
    end_day: date,
    channel: Channel | None = None,
) -> AssistantReport:
    """Return the assistant's report of [first_day, end_day) in the workspace's time zone."""
    calendar = await calendars.load(session, workspace_id)
    span = window(first_day, end_day, calendar.time_zone)
    query = select(
        Event.kind,
        Event.created_at,
        Event.staff_id,
        Event.data["reason"].as_string(),
        Event.data["intent"].as_string(),
    ).where(
        Event.workspace_id == workspace_id,
        Event.kind.in_([str(MetricKind.handoff), str(MetricKind.bot_resolved)]),
        Event.created_at >= span.start,
        Event.created_at < span.end,
    )
    if channel is not None:
        query = query.where(Event.channel == str(channel))
    zone = ZoneInfo(span.time_zone)
    resolved: Counter[date] = Counter()
    handed: Counter[date] = Counter()
    reasons: Counter[str] = Counter()
    intents: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for kind, created_at, staff_id, reason, intent in await session.execute(query):
        day = as_utc(created_at).astimezone(zone).date()
        if kind == MetricKind.bot_resolved:
            resolved[day] += 1
            continue
        handed[day] += 1
        # Before reasons were recorded, a person's take-over was told by their staff id.
        why = reason or (TAKEN_OVER if staff_id is not None else UNRECORDED)
        reasons[why] += 1
        if intent:
            intents[intent][why] += 1
    contained, handoffs = sum(resolved.values()), sum(handed.values())
    days = [
        AssistantDay(day=day, resolved_alone=resolved[day], handed_off=handed[day])
        for day in _days(span.first_day, span.end_day)
    ]
    return AssistantReport.model_validate(
        {
            "from": span.first_day,
            "to": span.end_day,
            "time_zone": span.time_zone,
            "channel": channel,
            "held": contained + handoffs,
            "resolved_alone": contained,
            "handed_off": handoffs,
            "containment_rate": rate(contained, contained + handoffs),
            "reasons": [
                AssistantReason(reason=why, handoffs=count, gap=why in GAPS)
                for why, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
            ],
            "intents": _intents(intents),
            "days": days,
        }
    )


def _intents(found: dict[str, Counter[str]]) -> list[AssistantIntent]:
    """The intents hand-offs had in hand, most hand-offs first (at most `TOP_INTENTS`), with
    how many of them were gaps (the assistant could not answer)."""
    listed = [
        AssistantIntent(
            intent=intent,
            handoffs=sum(why.values()),
            unanswered=sum(count for reason, count in why.items() if reason in GAPS),
            reasons=dict(sorted(why.items(), key=lambda item: (-item[1], item[0]))),
        )
        for intent, why in found.items()
    ]
    listed.sort(key=lambda item: (-item.unanswered, -item.handoffs, item.intent))
    return listed[:TOP_INTENTS]


def _days(first: date, end: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((end - first).days)]
