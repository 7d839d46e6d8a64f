"""HTTP: the CX metrics of a window, whole, per day, or by channel, team or agent."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from rapport.analytics.assistant_report import assistant_report
from rapport.analytics.auth import MetricsRead, OtherAgentsFigures, WholeWorkspaceOnly
from rapport.analytics.errors import InvalidInactivityThreshold, InvalidWindow
from rapport.analytics.order_metrics import DEFAULT_INACTIVITY_DAYS
from rapport.analytics.schemas import (
    AssistantReport,
    BreakdownBy,
    Bucket,
    MetricsBreakdown,
    MetricsSeries,
    MetricsSummary,
)
from rapport.analytics.service import MetricsFilters, metrics
from rapport.core.deps import SessionDep
from rapport.errors import error_responses
from rapport.support.enums import Channel
from rapport.support.schemas import ID_PATTERN

router = APIRouter(prefix="/metrics", tags=["analytics"])
ERRORS = error_responses(InvalidWindow, InvalidInactivityThreshold, OtherAgentsFigures)
ASSISTANT_ERRORS = error_responses(InvalidWindow, WholeWorkspaceOnly)
ID = ID_PATTERN

FromDay = Annotated[date, Query(alias="from", description="First day (workspace time zone).")]
ToDay = Annotated[date, Query(alias="to", description="The day the window ends before.")]
ChannelFilter = Annotated[Channel | None, Query(description="Only this support channel.")]
TeamFilter = Annotated[str | None, Query(pattern=ID, description="Only this team (id).")]
AgentFilter = Annotated[str | None, Query(pattern=ID, description="Only this agent (staff id).")]
SurveyFilter = Annotated[str | None, Query(pattern=ID, description="Only this survey (id).")]
Inactivity = Annotated[
    int, Query(ge=1, le=3650, description="Days after their last order a customer is active.")
]


def _filters(
    viewer: MetricsRead,
    channel: Channel | None,
    team: str | None,
    agent: str | None,
    survey: str | None,
) -> MetricsFilters:
    return viewer.narrow(MetricsFilters(channel, team, agent, survey))


@router.get("", response_model=MetricsSummary, responses=ERRORS)
async def get_metrics(
    viewer: MetricsRead,
    session: SessionDep,
    from_day: FromDay,
    to_day: ToDay,
    channel: ChannelFilter = None,
    team: TeamFilter = None,
    agent: AgentFilter = None,
    survey: SurveyFilter = None,
    inactivity_days: Inactivity = DEFAULT_INACTIVITY_DAYS,
) -> MetricsSummary:
    """Return every CX metric of the window [from, to) (docs/metrics.md)."""
    return await metrics.summary(
        session, viewer.principal.workspace_id, first_day=from_day, end_day=to_day,
        filters=_filters(viewer, channel, team, agent, survey), inactivity_days=inactivity_days,
    )  # fmt: skip


@router.get("/series", response_model=MetricsSeries, responses=ERRORS)
async def get_metrics_series(
    viewer: MetricsRead,
    session: SessionDep,
    from_day: FromDay,
    to_day: ToDay,
    channel: ChannelFilter = None,
    team: TeamFilter = None,
    agent: AgentFilter = None,
    survey: SurveyFilter = None,
    bucket: Annotated[Bucket, Query(description="How to cut the window.")] = "day",
    inactivity_days: Inactivity = DEFAULT_INACTIVITY_DAYS,
) -> MetricsSeries:
    """Return every CX metric per local day of the window [from, to), oldest first."""
    return await metrics.series(
        session, viewer.principal.workspace_id, first_day=from_day, end_day=to_day,
        filters=_filters(viewer, channel, team, agent, survey), bucket=bucket,
        inactivity_days=inactivity_days,
    )  # fmt: skip


@router.get("/breakdown", response_model=MetricsBreakdown, responses=ERRORS)
async def get_metrics_breakdown(
    viewer: MetricsRead,
    session: SessionDep,
    from_day: FromDay,
    to_day: ToDay,
    by: Annotated[BreakdownBy, Query(description="Group by channel, team or agent.")],
    channel: ChannelFilter = None,
    team: TeamFilter = None,
    agent: AgentFilter = None,
    survey: SurveyFilter = None,
) -> MetricsBreakdown:
    """Return the support and survey metrics of each channel, team or agent of the window."""
    return await metrics.breakdown(
        session, viewer.principal.workspace_id, first_day=from_day, end_day=to_day, by=by,
        filters=_filters(viewer, channel, team, agent, survey),
    )  # fmt: skip


@router.get("/assistant", response_model=AssistantReport, responses=ASSISTANT_ERRORS)
async def get_assistant_report(
    viewer: MetricsRead,
    session: SessionDep,
    from_day: FromDay,
    to_day: ToDay,
    channel: ChannelFilter = None,
) -> AssistantReport:
    """Return what the assistant did in the window [from, to): the conversations it held,
    resolved alone or handed off, the hand-offs' reasons and the intents they had in hand
    (docs/assistant.md, "The assistant's report")."""
    viewer.whole_workspace()
    return await assistant_report(
        session, viewer.principal.workspace_id, first_day=from_day, end_day=to_day,
        channel=channel,
    )  # fmt: skip
