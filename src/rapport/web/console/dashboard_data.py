"""The dashboard's numbers: its window and the one before, each chart as labelled series
read from the metrics service, and those series as CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics.filters import read_day
from rapport.analytics.schemas import BreakdownBy, MetricsSeries, MetricsSummary
from rapport.analytics.service import MetricsFilters, metrics
from rapport.analytics.windows import window
from rapport.feedback.service import score_histogram
from rapport.support.routing_calendar import calendars

PRESETS = (7, 30, 90)
DEFAULT_DAYS = 30
Number = float | int | None
ChartKind = Literal["line", "bar"]


@dataclass(frozen=True)
class Period:
    """A dashboard window [first_day, end_day) of local days; `preset` when it is one."""

    first_day: date
    end_day: date
    preset: int | None = None

    @property
    def days(self) -> int:
        """Return the number of days in the window."""
        return (self.end_day - self.first_day).days

    def previous(self) -> Period:
        """Return the window of the same length just before this one."""
        return Period(self.first_day - timedelta(days=self.days), self.first_day)


def read_period(today: date, days: str | None, first: str | None, end: str | None) -> Period:
    """Read the window asked for: from/to when both are given, else the last `days` days
    (7, 30 or 90; 30 by default) up to and including today."""
    if first and end:
        return Period(read_day(first, "from"), read_day(end, "to"))
    count = int(days) if days in {str(preset) for preset in PRESETS} else DEFAULT_DAYS
    return Period(today + timedelta(days=1 - count), today + timedelta(days=1), count)


@dataclass(frozen=True)
class Chart:
    """One chart: its labels (x axis), named series of numbers, and how to read it."""

    name: str
    title: str
    definition: str
    kind: ChartKind
    unit: str
    axis: str
    labels: list[str]
    series: list[tuple[str, list[Number]]]

    def rows(self) -> list[tuple[str, list[str]]]:
        """Return each label with its numbers written as the CSV writes them."""
        return [
            (label, [cell(values[index]) for _name, values in self.series])
            for index, label in enumerate(self.labels)
        ]

    def csv(self) -> str:
        """Return the chart's numbers as CSV: a header, then one line per label."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([self.axis, *(name for name, _values in self.series)])
        for label, cells in self.rows():
            writer.writerow([label, *cells])
        return buffer.getvalue()


def cell(value: Number) -> str:
    """Write a number exactly as the service gave it (empty: no data)."""
    return "" if value is None else repr(value)


# (chart name, title, summary key, unit, definition from docs/metrics.md)
LINES: tuple[tuple[str, str, str, str, str], ...] = (
    ("volume", "Conversations", "volume", "conversations", "Conversations created each day."),
    (
        "first-response", "First response, median", "first_response_seconds_p50", "seconds",
        "From the conversation's start, or from the assistant's hand-off when there was one, to "
        "the first public human reply; the median (p50) of the day's first responses.",
    ),
    (
        "resolution", "Resolution time, median", "resolution_seconds_p50", "seconds",
        "Each open-to-resolved cycle from its start (a reopen starts a new cycle); the median "
        "(p50) of the cycles resolved that day.",
    ),
    (
        "csat", "CSAT", "csat", "percent",
        "CSAT responses scored 4-5 / all CSAT responses x 100, over the responses of the day.",
    ),
    (
        "nps", "NPS", "nps", "score",
        "% of NPS scores 9-10 minus % of scores 0-6 (from -100 to 100), over the day's answers.",
    ),
)  # fmt: skip


def line_charts(series: MetricsSeries) -> list[Chart]:
    """Return the charts over time, one per figure, from one per-day series."""
    labels = [point.day.isoformat() for point in series.points]
    charts = []
    for name, title, key, unit, definition in LINES:
        values: list[Number] = [getattr(point.metrics, key) for point in series.points]
        charts.append(
            Chart(name, title, definition, "line", unit, "day", labels, [(title, values)])
        )
    return charts


BREAKDOWN_DEFINITION = (
    "Conversations created in the window (by their current {by}) and open-to-resolved cycles "
    "resolved in it (by the {by} that resolved them)."
)


async def breakdown_chart(
    session: AsyncSession,
    workspace_id: str,
    period: Period,
    filters: MetricsFilters,
    by: BreakdownBy,
    names: dict[str, str],
) -> Chart:
    """Return conversations and resolutions per channel, team or agent."""
    found = await metrics.breakdown(
        session, workspace_id, first_day=period.first_day, end_day=period.end_day, by=by,
        filters=filters,
    )  # fmt: skip
    labels = [names.get(group.key, group.key) for group in found.groups]
    volume: list[Number] = [group.metrics.volume for group in found.groups]
    resolved: list[Number] = [group.metrics.resolutions for group in found.groups]
    return Chart(
        f"by-{by}", f"By {by}", BREAKDOWN_DEFINITION.format(by=by), "bar", "conversations",
        by, labels, [("Conversations", volume), ("Resolutions", resolved)],
    )  # fmt: skip


async def nps_distribution(
    session: AsyncSession, workspace_id: str, period: Period, filters: MetricsFilters
) -> Chart:
    """Return how many NPS answers of the window gave each score 0-10 (the filters apply as
    they do to the NPS figure)."""
    calendar = await calendars.load(session, workspace_id)
    span = window(period.first_day, period.end_day, calendar.time_zone)
    scope = filters.scope()
    channel = None if scope.channel is None else str(scope.channel)
    counted: Counter[int] = Counter()
    for team_id in [None] if scope.team_ids is None else list(scope.team_ids):
        counted.update(
            await score_histogram(
                session, workspace_id, kind="nps", start=span.start, end=span.end,
                channel=channel, team_id=team_id, staff_id=scope.staff_id,
                survey_id=filters.survey_id,
            )
        )  # fmt: skip
    values: list[Number] = [counted.get(score, 0) for score in range(11)]
    return Chart(
        "nps-distribution", "NPS answers by score",
        "How many NPS answers of the window gave each score: 0-6 detractors, 7-8 passives, "
        "9-10 promoters.",
        "bar", "answers", "score", [str(score) for score in range(11)], [("Answers", values)],
    )  # fmt: skip


# (summary key, label, unit, lower is better, definition from docs/metrics.md)
TILES: tuple[tuple[str, str, str, bool, str], ...] = (
    ("nps", "NPS", "score", False, "% of NPS scores 9-10 minus % of scores 0-6."),
    ("csat", "CSAT", "percent", False, "CSAT responses scored 4-5 / all CSAT responses x 100."),
    ("ces", "CES", "score", True, "The mean CES score (1-7; lower means less effort)."),
    (
        "retention_rate", "Retention", "percent", False,
        "(E - N) / S x 100: customers active at the end, less those new in the window, over "
        "those active at the start.",
    ),
    (
        "churn_rate", "Churn", "percent", True,
        "Customers active at the start and not at the end / customers active at the start x 100.",
    ),
    (
        "repeat_purchase_rate", "Repeat purchase", "percent", False,
        "Customers with 2 or more counted orders in the window / customers with 1 or more x 100.",
    ),
    (
        "first_response_seconds_p50", "First response (p50)", "seconds", True,
        "Median time to the first public human reply, from the start or the hand-off.",
    ),
    (
        "handle_seconds_mean", "Handle time (mean)", "seconds", True,
        "Mean per conversation of the time it was open and assigned to an agent.",
    ),
    (
        "first_level_resolution_rate", "First-level resolution", "percent", False,
        "Resolutions with at most one agent reply, no escalation and no reopen within 7 days / "
        "resolutions x 100.",
    ),
    (
        "abandoned_rate", "Abandoned chats", "percent", True,
        "Chat cycles that ended with no answer / chat cycles that ended x 100.",
    ),
    (
        "containment_rate", "Containment", "percent", False,
        "Conversations the assistant resolved alone / (those + hand-offs to people) x 100.",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Tile:
    """One headline number, the previous period's, and whether the change is good news."""

    key: str
    label: str
    unit: str
    definition: str
    current: Number
    previous: Number
    lower_is_better: bool

    @property
    def change(self) -> Number:
        """Return current minus previous (None when either is missing)."""
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def trend(self) -> str:
        """Return "up", "down" or "flat" (no change or nothing to compare)."""
        change = self.change
        if not change:
            return "flat"
        return "up" if change > 0 else "down"

    @property
    def good(self) -> bool | None:
        """Tell whether the change is an improvement (None: no change)."""
        if self.trend == "flat":
            return None
        return (self.trend == "down") == self.lower_is_better


def tiles(current: MetricsSummary, previous: MetricsSummary) -> list[Tile]:
    """Return the headline tiles comparing a window with the one before."""
    return [
        Tile(key, label, unit, definition, getattr(current, key), getattr(previous, key), lower)
        for key, label, unit, lower, definition in TILES
    ]


def tiles_csv(found: Sequence[Tile]) -> str:
    """Return the tiles as CSV: metric, current, previous, change."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["metric", "current", "previous", "change"])
    for tile in found:
        writer.writerow([tile.key, cell(tile.current), cell(tile.previous), cell(tile.change)])
    return buffer.getvalue()
