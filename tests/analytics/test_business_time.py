"""The support metrics' business seconds of one event: the shortcut taken without a calendar
gives exactly what the calendar's own computation gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rapport.analytics.support_metrics import _business
from rapport.support.calendars import BusinessCalendar, BusinessClock, business_seconds

AT = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # the night Europe moves to summer time
SPANS = [None, -5.0, 0.0, 1e-7, 0.4999996, 59.5, 3600.123456789, 86_400 * 400.25, 86_400 * 2000.0]
ALWAYS_OPEN = [
    BusinessCalendar(),
    BusinessCalendar("Europe/Paris"),
    BusinessCalendar("Asia/Kathmandu"),
]


@pytest.mark.parametrize("seconds", SPANS)
@pytest.mark.parametrize("calendar", ALWAYS_OPEN)
def test_always_open_business_seconds_match_the_calendar(
    calendar: BusinessCalendar, seconds: float | None
) -> None:
    expected = business_seconds(calendar, AT - timedelta(seconds=seconds or 0.0), AT)
    assert calendar.always_open
    assert _business(seconds, AT, BusinessClock(calendar, AT, AT)) == expected


def test_a_calendar_with_hours_still_counts_only_its_hours() -> None:
    nights = BusinessCalendar("Europe/Paris", (((60, 240),),) * 7)  # 01:00-04:00 local
    clock = BusinessClock(nights, AT - timedelta(days=7), AT)
    # From 2026-03-28 02:30 CET (01:30 UTC): 1.5 h to 04:00 CET; then 2026-03-29 from 01:00
    # CET (00:00 UTC), where 02:00 CET becomes 03:00 CEST, to 01:30 UTC: 1.5 h.
    assert _business(86_400.0, AT, clock) == business_seconds(nights, AT - timedelta(days=1), AT)
    assert _business(86_400.0, AT, clock) == 3 * 3600.0
