"""Business time: weekly opening hours and holidays in a workspace's time zone.

Plain data in, plain data out (no database): the SLA deadlines and the routing hours are
computed here. A calendar's hours are wall-clock minutes of each local day; an instant is
business time when its local day is no holiday and its wall time lies in one of that day's
intervals. Elapsed business time is real elapsed time, so the hour a DST change removes is
not counted and the hour it repeats counts twice."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# How far a deadline is looked for: a calendar with some hours each week always has one.
SEARCH_DAYS = 3 * 366

Interval = tuple[int, int]  # [start, end) in minutes after local midnight; end may be 1440


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday (Monday first) and holidays, in one time zone; `None`
    hours mean open around the clock."""

    time_zone: str = "UTC"
    weekly: tuple[tuple[Interval, ...], ...] | None = None
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.weekly is not None:
            check_weekly(self.weekly)

    @property
    def always_open(self) -> bool:
        """Tell whether every instant is business time."""
        return self.weekly is None and not self.holidays


def check_weekly(weekly: tuple[tuple[Interval, ...], ...]) -> None:
    """Refuse hours that are not seven days of sorted, disjoint, non-empty intervals."""
    if len(weekly) != 7:
        raise ValueError("weekly hours need seven days, Monday first")
    for intervals in weekly:
        previous_end = 0
        for start, end in intervals:
            if not 0 <= start < end <= MINUTES_PER_DAY or start < previous_end:
                raise ValueError("a day's intervals must be sorted, disjoint and within the day")
            previous_end = end
    if not any(weekly):
        raise ValueError("a calendar needs some opening hours")


def is_open(calendar: BusinessCalendar, at: datetime) -> bool:
    """Tell whether `at` is business time."""
    moment = at.astimezone(UTC)
    day = moment.astimezone(ZoneInfo(calendar.time_zone)).date()
    return any(start <= moment < end for start, end in _open_spans(calendar, day))


def business_seconds(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Return the business time between `start` and `end`, in seconds (0 when end <= start).
    The overlaps are added as timedeltas (whole microseconds), so the sum is exact."""
    begin, finish = start.astimezone(UTC), end.astimezone(UTC)
    if finish <= begin:
        return 0.0
    total = NOTHING
    for span_start, span_end in _spans_from(calendar, begin):
        if span_start >= finish:
            break
        overlap = min(span_end, finish) - max(span_start, begin)
        if overlap > NOTHING:
            total += overlap
    return total.total_seconds()


NOTHING = timedelta(0)


class BusinessClock:
    """`business_seconds` of many spans of one calendar, each in two binary searches: the open
    spans of the local days from `first` to `last` are listed once with the business time
    before each (a running sum of timedeltas), so the time between a and b is the sum up to b
    minus the sum up to a, exactly what `business_seconds` adds span by span. A span outside
    those days (or longer than the calendar's search horizon, or a calendar whose spans
    overlap in UTC) is computed by `business_seconds` itself."""

    def __init__(self, calendar: BusinessCalendar, first: datetime, last: datetime) -> None:
        self.calendar = calendar
        zone = ZoneInfo(calendar.time_zone)
        first_day = first.astimezone(zone).date() - timedelta(days=1)
        last_day = last.astimezone(zone).date() + timedelta(days=1)
        spans = [
            span
            for offset in range((last_day - first_day).days + 1)
            for span in _open_spans(calendar, first_day + timedelta(days=offset))
        ]
        # A span from `low` on sees every open span of its local day's eve onwards (as
        # `_spans_from` does); one ending by `high` sees none the list lacks.
        self.low = _instant(calendar, first_day + timedelta(days=1), 0)
        self.high = _instant(calendar, last_day, 0)
        self.starts = [start for start, _end in spans]
        self.ends = [end for _start, end in spans]
        # The business time before each span starts.
        self.before = list(accumulate((end - start for start, end in spans[:-1]), initial=NOTHING))
        self.ordered = all(
            later >= earlier for earlier, later in zip(self.ends, self.starts[1:], strict=False)
        )

    def seconds(self, start: datetime, end: datetime) -> float:
        """Return `business_seconds(calendar, start, end)`."""
        begin, finish = start.astimezone(UTC), end.astimezone(UTC)
        if finish <= begin:
            return 0.0
        inside = self.ordered and self.low <= begin and finish <= self.high
        if not inside or finish - begin >= _HORIZON_SAFE:
            return business_seconds(self.calendar, begin, finish)
        return (self._until(finish) - self._until(begin)).total_seconds()

    def _until(self, moment: datetime) -> timedelta:
        """Return the business time of the listed spans before `moment`."""
        index = bisect_right(self.starts, moment) - 1
        if index < 0:
            return NOTHING
        return self.before[index] + min(moment, self.ends[index]) - self.starts[index]


# `business_seconds` looks SEARCH_DAYS local days ahead from the eve of a span's first day:
# any span shorter than this is inside that horizon. Local days can run ahead of real time:
# a DST shift, and a date a zone skipped (Samoa's 2011-12-30), so a week is kept to spare.
_HORIZON_SAFE = timedelta(days=SEARCH_DAYS - 7)


def add_business_time(calendar: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """Return the instant at which `seconds` of business time have passed since `start`."""
    begin = start.astimezone(UTC)
    remaining = timedelta(seconds=max(0.0, seconds))
    for span_start, span_end in _spans_from(calendar, begin):
        usable_from = max(span_start, begin)
        if usable_from >= span_end:
            continue
        if usable_from + remaining <= span_end:
            return usable_from + remaining
        remaining -= span_end - usable_from
    raise ValueError("the calendar has no business time left to reach the deadline")


def next_open(calendar: BusinessCalendar, at: datetime) -> datetime:
    """Return `at` if it is business time, else when business time next begins."""
    begin = at.astimezone(UTC)
    for span_start, span_end in _spans_from(calendar, begin):
        if span_end > begin:
            return max(span_start, begin)
    raise ValueError("the calendar never opens")


def _spans_from(calendar: BusinessCalendar, begin: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Yield the open spans (UTC, in order) of the local days from `begin`'s on."""
    if calendar.always_open:
        yield begin, begin + timedelta(days=SEARCH_DAYS)
        return
    day = begin.astimezone(ZoneInfo(calendar.time_zone)).date() - timedelta(days=1)
    for offset in range(SEARCH_DAYS):
        yield from _open_spans(calendar, day + timedelta(days=offset))


def _open_spans(calendar: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """Return one local day's open spans as UTC instants (none on a holiday)."""
    if day in calendar.holidays:
        return []
    if calendar.weekly is None:
        return [(_instant(calendar, day, 0), _instant(calendar, day, MINUTES_PER_DAY))]
    spans = []
    for start, end in calendar.weekly[day.weekday()]:
        opening, closing = _instant(calendar, day, start), _instant(calendar, day, end)
        if closing > opening:  # a span inside a skipped DST hour has no length
            spans.append((opening, closing))
    return spans


def _instant(calendar: BusinessCalendar, day: date, minute: int) -> datetime:
    """Return the UTC instant of a local wall time (minute 1440 is the next midnight)."""
    if minute == MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), 0
    local = datetime.combine(day, time(minute // 60, minute % 60), ZoneInfo(calendar.time_zone))
    return local.astimezone(UTC)
