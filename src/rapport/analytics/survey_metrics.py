"""NPS, CSAT and CES from the feedback domain's score histograms."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics.definitions import ces, csat, nps
from rapport.feedback.service import (
    daily_score_histograms,
    grouped_score_histograms,
    score_histogram,
)
from rapport.support.reports import MetricScope

Figures = dict[str, float | int | None]
SCORES: dict[str, Callable[[Mapping[int, int]], float | None]] = {
    "nps": nps,
    "csat": csat,
    "ces": ces,
}


def from_histograms(histograms: Mapping[str, Mapping[int, int]]) -> Figures:
    """Return each score and its number of responses from one histogram per kind."""
    figures: Figures = {}
    for kind, score in SCORES.items():
        histogram = histograms.get(kind, {})
        figures[kind] = score(histogram)
        figures[f"{kind}_responses"] = sum(histogram.values())
    return figures


def _teams(scope: MetricScope) -> list[str | None]:
    """Return the team filters to ask for and add up (one None: every team)."""
    return [None] if scope.team_ids is None else list(scope.team_ids)


async def survey_figures(
    session: AsyncSession,
    workspace_id: str,
    start: datetime,
    end: datetime,
    scope: MetricScope,
    survey_id: str | None,
) -> Figures:
    """Return NPS, CSAT and CES of the responses answered in [start, end)."""
    channel = None if scope.channel is None else str(scope.channel)
    histograms: dict[str, Counter[int]] = {}
    for kind in SCORES:
        histograms[kind] = Counter()
        for team_id in _teams(scope):
            counted = await score_histogram(
                session, workspace_id, kind=kind, start=start, end=end, channel=channel,
                team_id=team_id, staff_id=scope.staff_id, survey_id=survey_id,
            )  # fmt: skip
            histograms[kind].update(counted)
    return from_histograms(histograms)


async def grouped_survey_figures(
    session: AsyncSession,
    workspace_id: str,
    window: tuple[datetime, datetime],
    scope: MetricScope,
    survey_id: str | None,
    by: str,
) -> dict[str, Figures]:
    """Return `survey_figures` of every channel, team or agent (`by`) with answers in the
    window: one grouped statement per kind, not one per group (a group without answers is
    absent; `from_histograms({})` is its figures)."""
    start, end = window
    channel = None if scope.channel is None else str(scope.channel)
    per_group: dict[str, dict[str, Mapping[int, int]]] = {}
    for kind in SCORES:
        groups = await grouped_score_histograms(
            session, workspace_id, kind=kind, start=start, end=end, by=by, channel=channel,
            team_ids=scope.team_ids, staff_id=scope.staff_id, survey_id=survey_id,
        )  # fmt: skip
        for group, histogram in groups.items():
            per_group.setdefault(group, {})[kind] = histogram
    return {group: from_histograms(histograms) for group, histograms in per_group.items()}


async def daily_survey_figures(
    session: AsyncSession,
    workspace_id: str,
    start: datetime,
    end: datetime,
    time_zone: str,
    scope: MetricScope,
    survey_id: str | None,
) -> dict[date, Figures]:
    """Return NPS, CSAT and CES per local day of [start, end) (only days with answers)."""
    channel = None if scope.channel is None else str(scope.channel)
    per_day: dict[date, dict[str, Counter[int]]] = {}
    for kind in SCORES:
        for team_id in _teams(scope):
            days = await daily_score_histograms(
                session, workspace_id, kind=kind, start=start, end=end, time_zone=time_zone,
                channel=channel, team_id=team_id, staff_id=scope.staff_id, survey_id=survey_id,
            )  # fmt: skip
            for day, histogram in days.items():
                per_day.setdefault(day, {}).setdefault(kind, Counter()).update(histogram)
    return {day: from_histograms(histograms) for day, histograms in per_day.items()}
