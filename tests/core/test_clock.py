"""Times read back from the database are aware UTC, whatever form the driver hands them in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from rapport.core.clock import as_utc, read_utc

NOON = datetime(2026, 12, 5, 12, 0, 0, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-05 12:00:00.250000",  # SQLAlchemy's SQLite text: no offset, meaning UTC
        "2026-12-05T12:00:00.250000",
        "2026-12-05 12:00:00.250000+00:00",
        "2026-12-05 14:00:00.250000+02:00",
        "2026-12-05 07:00:00.250000-05:00",
        "2026-12-05T12:00:00.25Z",
        NOON,  # asyncpg's aware datetime
        NOON.astimezone(timezone(timedelta(hours=9))),
        NOON.replace(tzinfo=None),  # a naive datetime, as SQLite's own type processor makes
    ],
)
def test_a_time_is_read_as_aware_utc(value: str | datetime) -> None:
    moment = read_utc(value)
    assert moment == NOON
    assert moment.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05 12:00:00", NOON.replace(microsecond=0)),
        ("2026-12-05", datetime(2026, 12, 5, tzinfo=UTC)),
        ("2026-12-05 12:00+00:00", NOON.replace(microsecond=0)),
        ("2026-12-05T14+02:00", NOON.replace(microsecond=0)),
        ("2026-12-05 13:00:00.2+0100", NOON.replace(microsecond=200000)),
    ],
)
def test_other_iso_shapes_keep_their_offset_or_are_utc(text: str, expected: datetime) -> None:
    # Only SQLAlchemy's own shape takes the quick path; the rest are read by their offset.
    moment = read_utc(text)
    assert moment == expected
    assert moment.tzinfo is UTC


def test_bad_text_is_refused_as_fromisoformat_refuses_it() -> None:
    with pytest.raises(ValueError):
        read_utc("yesterday")


def test_as_utc_keeps_a_utc_time_and_converts_the_others() -> None:
    assert as_utc(NOON) is NOON
    eastern = NOON.astimezone(timezone(timedelta(hours=-5)))
    assert as_utc(eastern) == NOON and as_utc(eastern).tzinfo is UTC
    assert as_utc(NOON.replace(tzinfo=None)) == NOON
