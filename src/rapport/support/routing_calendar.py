"""A workspace's business calendar: stored hours and holidays, read in its time zone."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import known_zone
from rapport.core.db import take_writer
from rapport.identity.enums import ActorType
from rapport.identity.schemas import Principal
from rapport.identity.service import workspaces
from rapport.support.calendars import MINUTES_PER_DAY, BusinessCalendar
from rapport.support.routing_models import Calendar
from rapport.support.routing_repository import CalendarRepository
from rapport.support.routing_schemas import CalendarRead, CalendarUpdate, HoursSpan, Weekday

AROUND_THE_CLOCK = (((0, MINUTES_PER_DAY),),) * 7


class CalendarService:
    async def load(self, session: AsyncSession, workspace_id: str) -> BusinessCalendar:
        """Return the workspace's business calendar (always open when none was set)."""
        time_zone = await self._time_zone(session, workspace_id)
        stored = await CalendarRepository(session, workspace_id).current()
        if stored is None:
            return BusinessCalendar(time_zone)
        weekly = tuple(tuple((start, end) for start, end in day) for day in stored.weekly)
        holidays = frozenset(date.fromisoformat(day) for day in stored.holidays)
        return BusinessCalendar(time_zone, weekly, holidays)

    async def read(self, session: AsyncSession, workspace_id: str) -> CalendarRead:
        """Return the workspace's business hours and holidays."""
        calendar = await self.load(session, workspace_id)
        weekly = calendar.weekly or AROUND_THE_CLOCK
        return CalendarRead(
            weekly_hours={
                day: [HoursSpan(start=_wall(start), end=_wall(end)) for start, end in spans]
                for day, spans in zip(Weekday, weekly, strict=True)
                if spans
            },
            holidays=sorted(calendar.holidays),
            time_zone=calendar.time_zone,
            always_open=calendar.always_open,
        )

    async def replace(
        self, session: AsyncSession, workspace_id: str, body: CalendarUpdate
    ) -> CalendarRead:
        """Set the workspace's business hours and holidays."""
        await take_writer(session)
        repository = CalendarRepository(session, workspace_id)
        weekly = [[list(span) for span in day] for day in body.weekly()]
        holidays = sorted({day.isoformat() for day in body.holidays})
        stored = await repository.current(for_update=True)
        if stored is None:
            await repository.add(Calendar(weekly=weekly, holidays=holidays))
        else:
            stored.weekly, stored.holidays = weekly, holidays
        await session.flush()
        return await self.read(session, workspace_id)

    async def _time_zone(self, session: AsyncSession, workspace_id: str) -> str:
        system = Principal(workspace_id, ActorType.system, "support", frozenset())
        return known_zone((await workspaces.get(session, system)).time_zone)


def _wall(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


calendars = CalendarService()
