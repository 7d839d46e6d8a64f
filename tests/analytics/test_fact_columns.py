"""The support metrics computed from columns equal the definitions applied event by event.

`compute` selects events with array operations (`fact_columns`); the reference below walks
the same events one at a time, the way docs/metrics.md states each definition. Random
windows of events (first responses recorded with their reply, next replies, resolutions
with and without a known reply count, escalations, first responses of several conversations
at one instant, reopens before, inside, exactly a week
after and long after a resolution, handle stretches of one conversation on several days,
spans not measured) are given to both, whole and per day, per channel, team and agent."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from rapport.analytics.definitions import mean, percentile, rate
from rapport.analytics.fact_columns import CHANNELS, micros
from rapport.analytics.support_metrics import (
    SupportFacts,
    _columns,
    compute,
    compute_buckets,
)
from rapport.support.calendars import BusinessCalendar, BusinessClock, business_seconds
from rapport.support.enums import Channel, MetricKind

START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 6
END = START + timedelta(days=DAYS)
OFFICE = BusinessCalendar("Europe/Paris", (((540, 1020),),) * 5 + ((), ()))
Row = tuple[Any, ...]


def _events(seed: int) -> tuple[list[Row], dict[str, list[datetime]]]:
    """Return random rows of `facts_query` (oldest first, some after END) and reopens by
    conversation."""
    draw = random.Random(seed)
    rows: list[Row] = []
    reopens: dict[str, list[datetime]] = defaultdict(list)
    teams, staff = ["t1", "t2", None], ["s1", "s2", "s3", None]
    for number in range(60):
        # conversation, channel, team: what every event of the conversation carries
        named = (f"c{number}", str(draw.choice(list(Channel)[:3])), draw.choice(teams))
        at = START + timedelta(seconds=draw.uniform(0, DAYS * 86_400))
        if rows and draw.random() < 0.25:  # first responses of two conversations at one instant
            at = rows[-1][-1]
        agent, first = draw.choice(staff), draw.uniform(1, 9_000)
        rows.append(_row(named, MetricKind.first_response, first, agent, at))
        rows.append(_row(named, MetricKind.reply, first, agent, at))
        for _ in range(draw.randrange(3)):
            at += timedelta(seconds=draw.uniform(60, 50_000))
            seconds = draw.choice([None, draw.uniform(1, 20_000)])
            rows.append(_row(named, MetricKind.reply, seconds, draw.choice(staff), at))
        for _ in range(draw.randrange(3)):
            at += timedelta(seconds=draw.uniform(60, 90_000))
            seconds = draw.choice([None, -3.0, draw.uniform(0, 30_000)])
            rows.append(_row(named, MetricKind.handle, seconds, draw.choice(staff), at))
        kind = draw.choice([kind for kind in MetricKind if kind != MetricKind.reopen])
        seconds = draw.choice([None, draw.uniform(0, 200_000)])
        if kind == MetricKind.resolution:
            replies, escalated = draw.choice([None, 0, 1, 2, 5]), draw.choice([None, True, False])
            rows.append(_row(named, kind, seconds, draw.choice(staff), at, replies, escalated))
        else:
            rows.append(_row(named, kind, seconds, draw.choice(staff), at))
        for _ in range(draw.randrange(3)):
            reopens[named[0]].append(at + timedelta(seconds=draw.uniform(-90_000, 900_000)))
        if draw.random() < 0.3:  # at the edge of first-level resolution's week, or just past
            edge = timedelta(days=7, microseconds=draw.choice([0, 1]))
            reopens[named[0]].append(at + edge)
    rows.sort(key=lambda row: row[-1])
    return rows, reopens


def _row(
    named: tuple[str, str, str | None],
    kind: MetricKind,
    seconds: float | None,
    staff: str | None,
    at: datetime,
    replies: int | None = None,
    escalated: bool | None = None,
) -> Row:
    """Return a row as `facts_query` selects it."""
    conversation, channel, team = named
    return (conversation, str(kind), seconds, staff, channel, team, replies, escalated, at)


def _reference(
    rows: list[Row], reopens: dict[str, list[datetime]], calendar: BusinessCalendar
) -> dict[str, Any]:
    """Every support metric of the rows, one event at a time (docs/metrics.md)."""
    by_kind: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_kind[row[1]].append(row)

    def business(row: Row) -> float:
        span = timedelta(seconds=row[2] or 0.0)
        return business_seconds(calendar, row[-1] - span, row[-1])

    def distribution(name: str, values: list[float]) -> dict[str, Any]:
        return {
            f"{name}_mean": mean(values),
            f"{name}_p50": percentile(values, 0.5),
            f"{name}_p90": percentile(values, 0.9),
        }

    def timed(name: str, chosen: list[Row]) -> dict[str, Any]:
        measured = [row for row in chosen if row[2] is not None]
        return {
            f"{name}_count": len(measured),
            **distribution(f"{name}_seconds", [row[2] for row in measured]),
            **distribution(f"{name}_business_seconds", [business(row) for row in measured]),
        }

    firsts = {(row[0], row[-1]) for row in by_kind["first_response"]}
    next_replies = [row for row in by_kind["reply"] if (row[0], row[-1]) not in firsts]
    handled: dict[str, float] = defaultdict(float)
    handled_business: dict[str, float] = defaultdict(float)
    for row in by_kind["handle"]:
        handled[row[0]] += row[2] or 0.0
        handled_business[row[0]] += business(row)

    def reopened(row: Row, within: timedelta | None) -> bool:
        return any(
            at > row[-1] and (within is None or at <= row[-1] + within)
            for at in reopens.get(row[0], ())
        )

    resolutions = by_kind["resolution"]
    first_level = [
        row
        for row in resolutions
        if isinstance(row[6], int)
        and row[6] <= 1
        and not row[7]
        and not reopened(row, timedelta(days=7))
    ]
    reopened_count = sum(1 for row in resolutions if reopened(row, None))
    chat_ends = [row for row in resolutions + by_kind["closed"] if row[4] == "chat"]
    contained, handoffs = len(by_kind["bot_resolved"]), len(by_kind["handoff"])
    return {
        **timed("first_response", by_kind["first_response"]),
        **timed("next_reply", next_replies),
        **timed("resolution", resolutions),
        "handled_conversations": len(handled),
        **distribution("handle_seconds", list(handled.values())),
        **distribution("handle_business_seconds", list(handled_business.values())),
        "resolutions": len(resolutions),
        "first_level_resolutions": len(first_level),
        "first_level_resolution_rate": rate(len(first_level), len(resolutions)),
        "reopened_resolutions": reopened_count,
        "reopen_rate": rate(reopened_count, len(resolutions)),
        "abandoned_chats": len(by_kind["abandoned"]),
        "ended_chats": len(chat_ends),
        "abandoned_rate": rate(len(by_kind["abandoned"]), len(chat_ends)),
        "assistant_resolutions": contained,
        "handoffs": handoffs,
        "containment_rate": rate(contained, contained + handoffs),
        "automation_rate": rate(contained, len(resolutions)),
        "escalations": len(by_kind["escalation"]),
    }


def _source(
    rows: list[Row], reopens: dict[str, list[datetime]], calendar: BusinessCalendar
) -> SupportFacts:
    facts = _columns(rows, BusinessClock(calendar, START - timedelta(days=90), END))
    codes = {name: code for code, name in enumerate(facts.names.conversations)}
    return SupportFacts(
        facts,
        {codes[name]: sorted(micros(at) for at in times) for name, times in reopens.items()},
    )


@pytest.mark.parametrize("calendar", [BusinessCalendar(), OFFICE], ids=["always", "office"])
@pytest.mark.parametrize("seed", range(12))
def test_columns_compute_the_definitions(seed: int, calendar: BusinessCalendar) -> None:
    rows, reopens = _events(seed)
    source = _source(rows, reopens, calendar)
    window = [row for row in rows if START <= row[-1] < END]  # some run past the end
    assert len(window) < len(rows)
    assert compute(source, START, END) == _reference(window, reopens, calendar)
    days = [START + timedelta(days=day) for day in range(DAYS + 1)]
    for (low, high), figures in zip(pairwise(days), compute_buckets(source, days), strict=True):
        inside = [row for row in rows if low <= row[-1] < high]
        assert figures == _reference(inside, reopens, calendar)


@pytest.mark.parametrize("seed", range(6))
def test_a_view_by_channel_team_or_agent_is_its_events(seed: int) -> None:
    rows, reopens = _events(seed)
    source = _source(rows, reopens, OFFICE)
    facts = source.facts
    views = [
        (facts.channel, {str(channel): code for code, channel in enumerate(CHANNELS)}, 4),
        (facts.team, {name: code for code, name in enumerate(facts.names.teams)}, 5),
        (facts.staff, {name: code for code, name in enumerate(facts.names.staff)}, 3),
    ]
    for codes, named, column in views:
        for name, code in named.items():
            chosen = replace(source, facts=facts.where(codes == code))
            inside = [row for row in rows if row[column] == name and row[-1] < END]
            assert compute(chosen, START, END) == _reference(inside, reopens, OFFICE)


def test_no_events_give_no_figures() -> None:
    source = _source([], {}, OFFICE)
    assert len(source.facts) == 0 and source.facts.at.dtype == np.int64
    assert compute(source, START, END) == _reference([], {}, OFFICE)
