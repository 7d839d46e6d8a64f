"""The CX metrics service: one implementation behind the API, the CLI and the dashboard.

Stable signatures (the console dashboard codes against them; see docs/metrics.md):

    metrics.summary(session, workspace_id, *, first_day: date, end_day: date,
                    filters: MetricsFilters = MetricsFilters(),
                    inactivity_days: int = DEFAULT_INACTIVITY_DAYS) -> MetricsSummary
    metrics.series(session, workspace_id, *, first_day: date, end_day: date,
                   filters: MetricsFilters = MetricsFilters(), bucket: Bucket = "day",
                   inactivity_days: int = DEFAULT_INACTIVITY_DAYS) -> MetricsSeries
    metrics.breakdown(session, workspace_id, *, first_day: date, end_day: date,
                      by: BreakdownBy, filters: MetricsFilters = MetricsFilters())
                      -> MetricsBreakdown

The window is [first_day, end_day) in the workspace's time zone; every figure is defined in
docs/metrics.md. Nothing here writes.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics.errors import InvalidInactivityThreshold
from rapport.analytics.order_metrics import (
    DEFAULT_INACTIVITY_DAYS,
    Figures,
    daily_order_figures,
    order_figures,
)
from rapport.analytics.schemas import (
    BreakdownBy,
    Bucket,
    MetricsBreakdown,
    MetricsGroup,
    MetricsPoint,
    MetricsSeries,
    MetricsSummary,
)
from rapport.analytics.shared import shared_reads
from rapport.analytics.support_metrics import (
    compute,
    compute_buckets,
    counts,
    daily_counts,
    grouped,
    read_facts,
)
from rapport.analytics.survey_metrics import (
    daily_survey_figures,
    from_histograms,
    grouped_survey_figures,
    survey_figures,
)
from rapport.analytics.windows import Window, window
from rapport.support.calendars import BusinessCalendar
from rapport.support.enums import Channel
from rapport.support.reports import MetricScope
from rapport.support.routing_calendar import calendars

MAX_INACTIVITY_DAYS = 3650


@dataclass(frozen=True)
class MetricsFilters:
    """Which figures to count: one channel, team, agent (staff id) or survey (None: all);
    `within_team_ids` is what the caller may see (None: every team)."""

    channel: Channel | None = None
    team_id: str | None = None
    staff_id: str | None = None
    survey_id: str | None = None
    within_team_ids: tuple[str, ...] | None = None

    def scope(self) -> MetricScope:
        """Return the support scope these filters select."""
        team_ids = self.within_team_ids
        if self.team_id is not None:
            allowed = team_ids is None or self.team_id in team_ids
            team_ids = (self.team_id,) if allowed else ()
        return MetricScope(self.channel, team_ids, self.staff_id)


class MetricsService:
    def shared_reads(self, session: AsyncSession) -> AbstractContextManager[None]:
        """Within this block, calls on the same window and filters read its support events
        once (the dashboard page: summary, series and three breakdowns of one window)."""
        return shared_reads(session)

    async def summary(
        self,
        session: AsyncSession,
        workspace_id: str,
        *,
        first_day: date,
        end_day: date,
        filters: MetricsFilters = MetricsFilters(),
        inactivity_days: int = DEFAULT_INACTIVITY_DAYS,
    ) -> MetricsSummary:
        """Return every metric of the window [first_day, end_day)."""
        _check_inactivity(inactivity_days)
        calendar = await calendars.load(session, workspace_id)
        span = window(first_day, end_day, calendar.time_zone)
        scope = filters.scope()
        figures = await survey_figures(
            session, workspace_id, span.start, span.end, scope, filters.survey_id
        )
        figures |= await order_figures(
            session, workspace_id, (span.start, span.end), calendar, inactivity_days
        )
        figures |= await self._support(session, workspace_id, span, scope, calendar)
        return _summary(span, inactivity_days, figures)

    async def series(
        self,
        session: AsyncSession,
        workspace_id: str,
        *,
        first_day: date,
        end_day: date,
        filters: MetricsFilters = MetricsFilters(),
        bucket: Bucket = "day",
        inactivity_days: int = DEFAULT_INACTIVITY_DAYS,
    ) -> MetricsSeries:
        """Return every metric per local day of the window, oldest first."""
        _check_inactivity(inactivity_days)
        calendar = await calendars.load(session, workspace_id)
        span = window(first_day, end_day, calendar.time_zone)
        scope = filters.scope()
        days = list(span.days())
        bounds = [day.start for day in days] + [span.end]
        source = await read_facts(session, workspace_id, span.start, span.end, scope, calendar)
        surveys = await daily_survey_figures(
            session, workspace_id, span.start, span.end, span.time_zone, scope, filters.survey_id
        )
        supports = compute_buckets(source, bounds)
        orders = await daily_order_figures(session, workspace_id, bounds, calendar, inactivity_days)
        counted = await daily_counts(session, workspace_id, bounds, scope)
        points = []
        for day, support, order, count in zip(days, supports, orders, counted, strict=True):
            figures = surveys.get(day.first_day, {}) | support | order | count
            points.append(
                MetricsPoint(day=day.first_day, metrics=_summary(day, inactivity_days, figures))
            )
        return MetricsSeries(bucket=bucket, points=points)

    async def breakdown(
        self,
        session: AsyncSession,
        workspace_id: str,
        *,
        first_day: date,
        end_day: date,
        by: BreakdownBy,
        filters: MetricsFilters = MetricsFilters(),
    ) -> MetricsBreakdown:
        """Return the support and survey metrics of each channel, team or agent with recorded
        activity in the window (order metrics belong to no group: null)."""
        calendar = await calendars.load(session, workspace_id)
        span = window(first_day, end_day, calendar.time_zone)
        scope = filters.scope()
        source = await read_facts(session, workspace_id, span.start, span.end, scope, calendar)
        supports = await grouped(session, workspace_id, source, (span.start, span.end), scope, by)
        surveys = await grouped_survey_figures(
            session, workspace_id, (span.start, span.end), scope, filters.survey_id, by
        )
        no_answers = from_histograms({})
        groups = [
            MetricsGroup(
                key=key,
                metrics=_summary(
                    span, DEFAULT_INACTIVITY_DAYS, surveys.get(key, no_answers) | support
                ),
            )
            for key, support in supports.items()
        ]
        return MetricsBreakdown(by=by, groups=groups)

    async def _support(
        self,
        session: AsyncSession,
        workspace_id: str,
        span: Window,
        scope: MetricScope,
        calendar: BusinessCalendar,
    ) -> Figures:
        source = await read_facts(session, workspace_id, span.start, span.end, scope, calendar)
        figures = compute(source, span.start, span.end)
        return figures | await counts(session, workspace_id, span.start, span.end, scope)


def _check_inactivity(days: int) -> None:
    if not 1 <= days <= MAX_INACTIVITY_DAYS:
        raise InvalidInactivityThreshold(
            f"The inactivity threshold is 1 to {MAX_INACTIVITY_DAYS} days."
        )


def _summary(span: Window, inactivity_days: int, figures: Figures) -> MetricsSummary:
    return MetricsSummary.model_validate(
        {
            "from": span.first_day,
            "to": span.end_day,
            "time_zone": span.time_zone,
            "inactivity_days": inactivity_days,
            **figures,
        }
    )


metrics = MetricsService()
