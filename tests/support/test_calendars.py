"""Business time: elapsed time and deadlines over weekly hours, holidays and DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.support import calendars as calendars_module
from rapport.support.calendars import (
    SEARCH_DAYS,
    BusinessCalendar,
    BusinessClock,
    add_business_time,
    business_seconds,
    is_open,
    next_open,
)

PARIS = ZoneInfo("Europe/Paris")
NINE_TO_FIVE = ((9 * 60, 17 * 60),)
WEEKDAYS = (NINE_TO_FIVE,) * 5 + ((), ())
OFFICE = BusinessCalendar("Europe/Paris", WEEKDAYS, frozenset({date(2026, 12, 25)}))
HOUR = 3600.0


def paris(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=PARIS)  # type: ignore[misc]


def test_open_only_inside_weekday_hours() -> None:
    assert [
        is_open(OFFICE, paris(2026, 12, 2, 8, 59)),
        is_open(OFFICE, paris(2026, 12, 2, 9, 0)),
        is_open(OFFICE, paris(2026, 12, 2, 16, 59)),
        is_open(OFFICE, paris(2026, 12, 2, 17, 0)),
        is_open(OFFICE, paris(2026, 12, 5, 12, 0)),  # a Saturday
        is_open(OFFICE, paris(2026, 12, 25, 12, 0)),  # a holiday (Friday)
    ] == [False, True, True, False, False, False]


def test_elapsed_counts_only_business_time_across_a_weekend() -> None:
    # Friday 16:00 -> Monday 10:00: one hour on Friday, one on Monday.
    assert business_seconds(OFFICE, paris(2026, 12, 4, 16), paris(2026, 12, 7, 10)) == 2 * HOUR


def test_elapsed_is_zero_outside_hours_and_for_reversed_times() -> None:
    assert business_seconds(OFFICE, paris(2026, 12, 5, 9), paris(2026, 12, 6, 18)) == 0.0
    assert business_seconds(OFFICE, paris(2026, 12, 3, 12), paris(2026, 12, 2, 12)) == 0.0


def test_deadline_skips_the_night_the_weekend_and_a_holiday() -> None:
    # Thursday 24 December 16:30 + 2 h: 30 min on Thursday, Friday 25th is a holiday,
    # the weekend is closed, so 1 h 30 on Monday 28th.
    due = add_business_time(OFFICE, paris(2026, 12, 24, 16, 30), 2 * HOUR)
    assert due == paris(2026, 12, 28, 10, 30)


def test_deadline_starting_before_opening_counts_from_opening() -> None:
    assert add_business_time(OFFICE, paris(2026, 12, 2, 6), 30 * 60) == paris(2026, 12, 2, 9, 30)


def test_deadline_ending_exactly_at_closing_stays_that_day() -> None:
    assert add_business_time(OFFICE, paris(2026, 12, 2, 16), HOUR) == paris(2026, 12, 2, 17)


def test_spring_forward_night_counts_the_real_hours() -> None:
    # Paris skips 02:00-03:00 on Sunday 29 March 2026: a 24-hour calendar day lasts 23 h.
    around_the_clock = BusinessCalendar("Europe/Paris", (((0, 1440),),) * 7)
    start, end = paris(2026, 3, 29, 0), paris(2026, 3, 30, 0)
    assert business_seconds(around_the_clock, start, end) == 23 * HOUR
    assert add_business_time(around_the_clock, start, 3 * HOUR) == paris(2026, 3, 29, 4)


def test_fall_back_night_counts_the_repeated_hour() -> None:
    # Paris repeats 02:00-03:00 on Sunday 25 October 2026: 01:00-04:00 wall time is 4 h.
    night = BusinessCalendar("Europe/Paris", (((60, 240),),) * 7)
    start, end = paris(2026, 10, 25, 0), paris(2026, 10, 26, 0)
    assert business_seconds(night, start, end) == 4 * HOUR


def test_hours_are_read_in_the_calendar_time_zone() -> None:
    new_york = BusinessCalendar("America/New_York", WEEKDAYS)
    # 14:00 UTC on a Wednesday in December is 09:00 in New York.
    assert is_open(new_york, datetime(2026, 12, 2, 13, 59, tzinfo=UTC)) is False
    assert is_open(new_york, datetime(2026, 12, 2, 14, 0, tzinfo=UTC)) is True


def test_next_open_is_monday_morning_after_a_friday_evening() -> None:
    assert next_open(OFFICE, paris(2026, 12, 4, 18)) == paris(2026, 12, 7, 9)
    assert next_open(OFFICE, paris(2026, 12, 7, 11)) == paris(2026, 12, 7, 11)


def test_a_calendar_without_weekly_hours_is_open_around_the_clock() -> None:
    start = datetime(2026, 12, 5, 23, tzinfo=UTC)
    assert add_business_time(BusinessCalendar(), start, 2 * HOUR) == start + timedelta(hours=2)


@pytest.mark.parametrize(
    "weekly",
    [
        (NINE_TO_FIVE,) * 6,
        (((600, 540),),) * 7,
        (((540, 700), (650, 800)),) * 7,
        ((),) * 7,
        (((0, 1441),),) * 7,
    ],
    ids=["six days", "reversed", "overlapping", "never open", "past midnight"],
)
def test_bad_weekly_hours_are_refused(weekly: tuple[tuple[tuple[int, int], ...], ...]) -> None:
    with pytest.raises(ValueError):
        BusinessCalendar("UTC", weekly)


MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
ZONES = st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "UTC"])
SPLIT_HOURS = ((480, 720), (780, 1080))


@settings(max_examples=150, deadline=None)
@given(start=MOMENTS, minutes=st.integers(0, 5000), zone=ZONES)
def test_the_deadline_is_exactly_that_much_business_time_later(
    start: datetime, minutes: int, zone: str
) -> None:
    calendar = BusinessCalendar(zone, (SPLIT_HOURS,) * 5 + ((), ()), frozenset({date(2026, 5, 1)}))
    due = add_business_time(calendar, start, minutes * 60)
    assert business_seconds(calendar, start, due) == pytest.approx(minutes * 60, abs=1e-3)
    if minutes > 0:
        assert is_open(calendar, due - timedelta(microseconds=1)) is True


@settings(max_examples=150, deadline=None)
@given(start=MOMENTS, middle=st.integers(0, 10**6), end=st.integers(0, 10**6), zone=ZONES)
def test_elapsed_business_time_adds_up_over_consecutive_stretches(
    start: datetime, middle: int, end: int, zone: str
) -> None:
    calendar = BusinessCalendar(zone, (SPLIT_HOURS,) * 5 + ((), ()))
    first, second = start + timedelta(seconds=middle), start + timedelta(seconds=middle + end)
    whole = business_seconds(calendar, start, second)
    parts = business_seconds(calendar, start, first) + business_seconds(calendar, first, second)
    assert whole == pytest.approx(parts, abs=1e-6)
    assert 0.0 <= whole <= (second - start).total_seconds()


CLOCK_FROM, CLOCK_TO = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
CALENDARS = st.sampled_from(
    [
        BusinessCalendar(
            "Europe/Paris", (SPLIT_HOURS,) * 5 + ((), ()), frozenset({date(2026, 11, 11)})
        ),
        BusinessCalendar("Australia/Lord_Howe", WEEKDAYS),  # a half-hour DST shift
        BusinessCalendar(
            "America/New_York", (((0, 1440),),) * 6 + ((),)
        ),  # open all day but Sunday
        BusinessCalendar("Asia/Kathmandu", holidays=frozenset({date(2026, 10, 2)})),
    ]
)
# Both ends anywhere from well before the clock's days to well after them.
AROUND = st.datetimes(
    min_value=datetime(2026, 4, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(calendar=CALENDARS, start=AROUND, end=AROUND)
def test_the_clock_gives_exactly_what_business_seconds_gives(
    calendar: BusinessCalendar, start: datetime, end: datetime
) -> None:
    """Inside its days the clock answers from its running sums, outside them span by span:
    the same float either way, to the last bit (both add whole microseconds)."""
    clock = BusinessClock(calendar, CLOCK_FROM, CLOCK_TO)
    assert clock.seconds(start, end) == business_seconds(calendar, start, end)


def test_the_clock_answers_inside_its_days_from_its_sums(monkeypatch: pytest.MonkeyPatch) -> None:
    """A week of the office's days inside the clock's range, across a holiday: no calendar
    walk (the clock's spans were listed once)."""
    clock = BusinessClock(OFFICE, paris(2026, 12, 1), paris(2026, 12, 31))
    walked: list[object] = []
    original = calendars_module._spans_from
    monkeypatch.setattr(
        calendars_module, "_spans_from", lambda *args: walked.append(args) or original(*args)
    )
    week = clock.seconds(paris(2026, 12, 21, 12), paris(2026, 12, 28, 12))
    # Mon 21 from noon 5 h, Tue-Thu 3 x 8 h, Fri 25 a holiday, Mon 28 to noon 3 h.
    assert (week, walked) == (32 * HOUR, [])


def test_the_clock_leaves_a_span_near_the_horizon_to_business_seconds() -> None:
    """Samoa skipped 2011-12-30: its local days ran a day ahead of real time, so a span just
    short of three years in real time reached past `business_seconds`' horizon of local
    days. The clock leaves such a span to it rather than counting further."""
    samoa = BusinessCalendar("Pacific/Apia", (((0, 1440),),) * 7)  # hours, all day
    start = datetime(2011, 4, 5, 23, 59, tzinfo=ZoneInfo("Pacific/Apia")).astimezone(UTC)
    end = start + timedelta(days=SEARCH_DAYS - 3, microseconds=-1)
    clock = BusinessClock(samoa, start, end)
    assert clock.seconds(start, end) == business_seconds(samoa, start, end)
