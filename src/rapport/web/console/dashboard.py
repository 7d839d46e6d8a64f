"""Console: the CX dashboard. Charts over time and by channel, team and agent, the NPS
distribution, headline tiles against the previous period, a live tile, and the numbers
behind every chart as CSV. Agents see their own figures, team-limited staff their teams'
(analytics/auth.py decides, as it does for the API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics.auth import MetricsViewer, metrics_viewer
from rapport.analytics.schemas import BreakdownBy
from rapport.analytics.service import MetricsFilters, metrics
from rapport.core.deps import SessionDep
from rapport.errors import NotFound
from rapport.feedback.service import feedback
from rapport.identity.enums import Scope
from rapport.identity.service import staff
from rapport.support.auth import acting
from rapport.support.enums import Channel
from rapport.support.live import live_desk
from rapport.support.schemas import ID_PATTERN
from rapport.support.teams import teams
from rapport.web.console.context import ConsoleContext, console_requiring
from rapport.web.console.dashboard_data import (
    PRESETS,
    Chart,
    Period,
    Tile,
    breakdown_chart,
    line_charts,
    nps_distribution,
    read_period,
    tiles,
    tiles_csv,
)
from rapport.web.console.home import start_of_today
from rapport.web.console.routing import AnyIsNone, console_router
from rapport.web.console.templating import page, zone_named

router = console_router()
MetricsConsole = Annotated[ConsoleContext, console_requiring(Scope.metrics_read)]
BREAKDOWNS: tuple[BreakdownBy, ...] = ("channel", "team", "agent")
LINE_NAMES = ("volume", "first-response", "resolution", "csat", "nps")
CHART_NAMES = (*LINE_NAMES, *(f"by-{by}" for by in BREAKDOWNS), "nps-distribution", "summary")
ChartName = Annotated[str, Path(pattern="^(" + "|".join(CHART_NAMES) + ")$")]
# The filter form's "All ..." choices arrive as empty values: no filter.
Id = Annotated[Annotated[str, StringConstraints(pattern=ID_PATTERN)] | None, AnyIsNone, Query()]


class UnknownChart(NotFound):
    """No chart of that name."""


@dataclass(frozen=True)
class DashboardQuery:
    """What the dashboard was asked for: a window, and the filters as given."""

    days: str | None = None
    first_day: str | None = None
    end_day: str | None = None
    channel: Channel | None = None
    team: str | None = None
    agent: str | None = None
    survey: str | None = None


def dashboard_query(
    days: Annotated[str | None, Query(max_length=4)] = None,
    first_day: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end_day: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    channel: Annotated[Channel | None, AnyIsNone, Query()] = None,
    team: Id = None,
    agent: Id = None,
    survey: Id = None,
) -> DashboardQuery:
    """Read the dashboard's query string."""
    return DashboardQuery(days, first_day, end_day, channel, team, agent, survey)


Asked = Annotated[DashboardQuery, Depends(dashboard_query)]


@dataclass(frozen=True)
class Scoped:
    """The viewer, the window and the filters narrowed to what the viewer may see."""

    viewer: MetricsViewer
    period: Period
    filters: MetricsFilters


async def _scoped(ctx: ConsoleContext, session: AsyncSession, asked: DashboardQuery) -> Scoped:
    viewer = await metrics_viewer(ctx.principal, session)
    today = start_of_today(ctx.workspace).astimezone(zone_named(ctx.workspace.time_zone)).date()
    period = read_period(today, asked.days, asked.first_day, asked.end_day)
    wanted = MetricsFilters(asked.channel, asked.team, asked.agent, asked.survey)
    return Scoped(viewer, period, viewer.narrow(wanted))


async def _names(session: AsyncSession, workspace_id: str) -> dict[str, str]:
    """Return team and staff names by id (breakdown keys are ids)."""
    found = await staff.names(session, workspace_id)
    return found | {team.id: team.name for team in await teams.list(session, workspace_id)}


async def _chart(
    session: AsyncSession, workspace_id: str, scoped: Scoped, name: str, names: dict[str, str]
) -> Chart:
    """Return one chart's numbers (one service call)."""
    if name in LINE_NAMES:
        series = await metrics.series(
            session, workspace_id, first_day=scoped.period.first_day,
            end_day=scoped.period.end_day, filters=scoped.filters,
        )  # fmt: skip
        return next(chart for chart in line_charts(series) if chart.name == name)
    if name == "nps-distribution":
        return await nps_distribution(session, workspace_id, scoped.period, scoped.filters)
    by = name.removeprefix("by-")
    if by not in BREAKDOWNS:
        raise UnknownChart("No such chart.")
    breakdown: BreakdownBy = "channel" if by == "channel" else "team" if by == "team" else "agent"
    return await breakdown_chart(
        session, workspace_id, scoped.period, scoped.filters, breakdown, names
    )


async def _summary_pair(session: AsyncSession, workspace_id: str, scoped: Scoped) -> list[Tile]:
    period, previous = scoped.period, scoped.period.previous()
    current = await metrics.summary(
        session, workspace_id, first_day=period.first_day, end_day=period.end_day,
        filters=scoped.filters,
    )  # fmt: skip
    before = await metrics.summary(
        session, workspace_id, first_day=previous.first_day, end_day=previous.end_day,
        filters=scoped.filters,
    )  # fmt: skip
    return tiles(current, before)


async def _choices(ctx: ConsoleContext, session: AsyncSession, scoped: Scoped) -> dict[str, Any]:
    """Return the filter options the viewer may pick from."""
    workspace_id = ctx.principal.workspace_id
    visible = scoped.viewer.within_team_ids
    found = [
        team
        for team in await teams.list(session, workspace_id)
        if visible is None or team.id in visible
    ]
    names = await staff.names(session, workspace_id)
    own = scoped.viewer.own_staff_id
    agents = sorted((name, staff_id) for staff_id, name in names.items() if own in (None, staff_id))
    surveys = await feedback.list_surveys(session, workspace_id)
    return {"teams": found, "agents": agents, "surveys": surveys, "channels": list(Channel)}


@router.get("/metrics", response_class=HTMLResponse)
async def show_dashboard(ctx: MetricsConsole, session: SessionDep, asked: Asked) -> Response:
    """Show the CX dashboard of a window, compared with the window before it."""
    workspace_id = ctx.principal.workspace_id
    scoped = await _scoped(ctx, session, asked)
    names = await _names(session, workspace_id)
    with metrics.shared_reads(session):  # the window's events, read once for the whole page
        series = await metrics.series(
            session, workspace_id, first_day=scoped.period.first_day,
            end_day=scoped.period.end_day, filters=scoped.filters,
        )  # fmt: skip
        charts = line_charts(series)
        for by in BREAKDOWNS:
            charts.append(
                await breakdown_chart(
                    session, workspace_id, scoped.period, scoped.filters, by, names
                )
            )
        charts.append(await nps_distribution(session, workspace_id, scoped.period, scoped.filters))
        tiles = await _summary_pair(session, workspace_id, scoped)
    return page(
        ctx, "dashboard/page.html", scoped=scoped, asked=asked, presets=PRESETS, charts=charts,
        tiles=tiles, live=await live_desk(session, workspace_id, acting(ctx.principal)),
        query=ctx.request.url.query, **await _choices(ctx, session, scoped),
    )  # fmt: skip


@router.get("/metrics/live", response_class=HTMLResponse)
async def show_live_tile(ctx: MetricsConsole, session: SessionDep) -> Response:
    """Show the live tile: open, unassigned, waiting longest, agents online (HTMX part)."""
    live = await live_desk(session, ctx.principal.workspace_id, acting(ctx.principal))
    return page(ctx, "dashboard/_live.html", live=live)


@router.get("/metrics/charts/{name}")
async def export_chart(
    ctx: MetricsConsole,
    session: SessionDep,
    name: ChartName,
    asked: Asked,
    format: Literal["csv"] = "csv",
) -> Response:
    """Return the numbers behind one chart as CSV (the same service call as the page)."""
    workspace_id = ctx.principal.workspace_id
    scoped = await _scoped(ctx, session, asked)
    if name == "summary":
        text = tiles_csv(await _summary_pair(session, workspace_id, scoped))
    else:
        chart = await _chart(
            session, workspace_id, scoped, name, await _names(session, workspace_id)
        )
        text = chart.csv()
    period = scoped.period
    filename = f"rapport-{name}-{period.first_day}-{period.end_day}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
