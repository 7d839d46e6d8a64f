"""The support metrics against hand-computed values: a reopen, a hand-off that resets the
first-response start, handle time across a reassignment, first-level resolution, abandoned
chats, containment, volume and backlog; business hours across a weekend and a holiday."""

from __future__ import annotations

from datetime import date

import pytest

from rapport.analytics.service import MetricsFilters, metrics
from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from rapport.support.routing_calendar import calendars
from rapport.support.routing_schemas import CalendarUpdate
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.metrics import Desk, play_desk_day


async def test_every_support_metric_of_a_day(database: Database) -> None:
    """The day of `play_desk_day`, whose steps name the conversations x, y, z, w, v, u."""
    desk, _, _ = await play_desk_day(database)
    async with database.session() as session:
        found = await metrics.summary(
            session, desk.workspace_id, first_day=date(2026, 3, 2), end_day=date(2026, 3, 3)
        )
    # First responses x 600, y 600 (from the hand-off, not 2400), v 1800.
    assert (found.first_response_count, found.first_response_seconds_mean) == (3, 1000.0)
    assert found.first_response_seconds_p50 == 600.0
    assert found.first_response_seconds_p90 == pytest.approx(1560.0)  # 600 + 0.8 x 1200
    # Next replies: x at 09:50 and 11:30, 1800 s each (first responses are not next replies).
    assert (found.next_reply_count, found.next_reply_seconds_p50) == (2, 1800.0)
    # Resolutions per cycle: x 3600 and 3600 (the reopen starts a cycle), y 2700, z 300,
    # v 2400: sorted 300 2400 2700 3600 3600.
    assert (found.resolutions, found.resolution_seconds_mean) == (5, 2520.0)
    assert (found.resolution_seconds_p50, found.resolution_seconds_p90) == (2700.0, 3600.0)
    # Handle per conversation: x 3300 + 3600 = 6900; v 1200 (ana) + 1200 (ben) = 2400.
    assert (found.handled_conversations, found.handle_seconds_mean) == (2, 4650.0)
    assert found.handle_seconds_p90 == pytest.approx(6450.0)
    # First level: x's second cycle, y, z; not x's first (reopened, 2 replies) nor v
    # (escalated).
    assert (found.first_level_resolutions, found.first_level_resolution_rate) == (3, 60.0)
    assert (found.reopened_resolutions, found.reopen_rate) == (1, 20.0)
    # Chat cycles ended: y, z, w; w had no answer.
    assert (found.abandoned_chats, found.ended_chats) == (1, 3)
    assert found.abandoned_rate == pytest.approx(100 / 3)
    # z contained, y handed off; z is one of five resolutions.
    assert (found.containment_rate, found.automation_rate, found.escalations) == (50.0, 20.0, 1)
    assert (found.volume, found.backlog) == (6, 1)
    # Always open: business time is all the time.
    assert found.first_response_business_seconds_mean == 1000.0


async def test_the_next_day_is_empty_but_keeps_the_backlog(database: Database) -> None:
    desk, _, _ = await play_desk_day(database)
    async with database.session() as session:
        series = await metrics.series(
            session, desk.workspace_id, first_day=date(2026, 3, 2), end_day=date(2026, 3, 4)
        )
    first, second = (point.metrics for point in series.points)
    assert [point.day for point in series.points] == [date(2026, 3, 2), date(2026, 3, 3)]
    assert (first.volume, first.resolutions, first.first_response_seconds_mean) == (6, 5, 1000.0)
    assert (second.volume, second.resolutions, second.backlog) == (0, 0, 1)
    assert (second.first_response_seconds_p50, second.first_level_resolution_rate) == (None, None)


async def test_an_agent_sees_their_own_figures_and_a_breakdown_by_agent(
    database: Database,
) -> None:
    desk, ana, ben = await play_desk_day(database)
    async with database.session() as session:
        mine = await metrics.summary(
            session, desk.workspace_id, first_day=date(2026, 3, 2), end_day=date(2026, 3, 3),
            filters=MetricsFilters(staff_id=ana),
        )  # fmt: skip
        by_agent = await metrics.breakdown(
            session, desk.workspace_id, first_day=date(2026, 3, 2), end_day=date(2026, 3, 3),
            by="agent",
        )  # fmt: skip
    # ana: first responses x and y (600 each); handle x 6900 and v 1200.
    assert (mine.first_response_count, mine.first_response_seconds_mean) == (2, 600.0)
    assert (mine.handled_conversations, mine.handle_seconds_mean) == (2, 4050.0)
    groups = {group.key: group.metrics for group in by_agent.groups}
    assert sorted(groups) == sorted([ana, ben])
    assert (groups[ben].first_response_count, groups[ben].handle_seconds_mean) == (1, 1200.0)
    assert groups[ana].handle_seconds_mean == mine.handle_seconds_mean


async def test_business_hours_skip_a_weekend_and_a_holiday_in_berlin(database: Database) -> None:
    workspace = await make_workspace(database)
    async with database.session() as session:
        stored = await session.get(Workspace, workspace.id)
        assert stored is not None
        stored.time_zone = "Europe/Berlin"
    async with database.session() as session:
        hours = [{"start": "09:00", "end": "17:00"}]
        weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday")
        body = CalendarUpdate.model_validate(
            {"weekly_hours": dict.fromkeys(weekdays, hours), "holidays": ["2026-03-09"]}
        )
        await calendars.replace(session, workspace.id, body)
    ana = (await make_staff(database, workspace, Role.agent)).user.id
    desk = Desk(database, workspace.id)
    # Friday 16:00 Berlin (15:00Z) to Tuesday 10:00 (09:00Z), Monday a holiday: 90 hours,
    # of which Friday 16-17 and Tuesday 9-10 are business time.
    slow = await desk.open("2026-03-06T15:00")
    await desk.reply(slow, "2026-03-10T09:00", ana)
    # Answered Tuesday 00:30 in Berlin, still Monday in UTC: inside the Berlin window; 90
    # minutes after a start on the holiday's evening, none of it business time.
    night = await desk.open("2026-03-09T22:00")
    await desk.reply(night, "2026-03-09T23:30", ana)
    # Wednesday 00:30 in Berlin is still Tuesday in UTC: outside it.
    late = await desk.open("2026-03-10T22:00")
    await desk.reply(late, "2026-03-10T23:30", ana)
    async with database.session() as session:
        found = await metrics.summary(
            session, workspace.id, first_day=date(2026, 3, 10), end_day=date(2026, 3, 11)
        )
    assert found.first_response_count == 2
    assert found.first_response_seconds_mean == (90 * 3600 + 90 * 60) / 2
    assert found.first_response_business_seconds_mean == 3600.0  # (7200 + 0) / 2
    assert found.first_response_business_seconds_p90 == pytest.approx(6480.0)
    assert (found.volume, found.backlog) == (1, 3)  # `late`, created Tuesday 23:00 Berlin
