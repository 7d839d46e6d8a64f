"""Metric windows: local dates of a workspace's time zone turned into UTC instants."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rapport.analytics.errors import InvalidWindow

# A window longer than this is refused: a per-day series of it would be too long to serve.
MAX_WINDOW_DAYS = 1_100
# Days outside these are refused: the inactivity threshold is counted back from `from`, and
# instants near year 1 or 9999 cannot be.
EARLIEST_DAY, LATEST_DAY = date(1970, 1, 1), date(9000, 1, 1)


@dataclass(frozen=True)
class Window:
    """[first_day, end_day) in `time_zone`, and the UTC instants [start, end) they span."""

    first_day: date
    end_day: date
    time_zone: str
    start: datetime
    end: datetime

    def days(self) -> Iterator[Window]:
        """Yield the window's local days, each a window of its own."""
        day = self.first_day
        while day < self.end_day:
            yield window(day, day + timedelta(days=1), self.time_zone)
            day += timedelta(days=1)


def local_midnight(day: date, time_zone: str) -> datetime:
    """Return the UTC instant at which `day` begins in `time_zone` (DST-correct)."""
    return datetime.combine(day, time(0), ZoneInfo(time_zone)).astimezone(UTC)


def window(first_day: date, end_day: date, time_zone: str) -> Window:
    """Return the window [first_day, end_day) of local dates; refuse an empty or huge one."""
    if end_day <= first_day:
        raise InvalidWindow("`to` must be a later date than `from` (the window is [from, to)).")
    if first_day < EARLIEST_DAY or end_day > LATEST_DAY:
        raise InvalidWindow(f"Windows lie between {EARLIEST_DAY} and {LATEST_DAY}.")
    if (end_day - first_day).days > MAX_WINDOW_DAYS:
        raise InvalidWindow(f"A window spans at most {MAX_WINDOW_DAYS} days.")
    return Window(
        first_day,
        end_day,
        time_zone,
        local_midnight(first_day, time_zone),
        local_midnight(end_day, time_zone),
    )


def local_days(start: datetime, end: datetime, time_zone: str) -> list[tuple[datetime, datetime]]:
    """Return the local days of `time_zone` that lie wholly in [start, end), as UTC instants
    [day start, day end), oldest first."""
    zone = ZoneInfo(time_zone)
    day = start.astimezone(zone).date()
    days = []
    while (day_start := local_midnight(day, time_zone)) < end:
        day_end = local_midnight(day + timedelta(days=1), time_zone)
        if day_start >= start and day_end <= end:
            days.append((day_start, day_end))
        day += timedelta(days=1)
    return days


def day_start(moment: datetime, time_zone: str) -> datetime:
    """Return the UTC instant at which the local day of `moment` began."""
    return local_midnight(moment.astimezone(ZoneInfo(time_zone)).date(), time_zone)
