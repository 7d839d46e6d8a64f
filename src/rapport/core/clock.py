"""The one clock: timezone-aware UTC, overridable in tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def utcnow() -> datetime:
    """Return the current time in UTC."""
    return _now()


def set_clock(now: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); None restores the system clock."""
    global _now
    _now = now or (lambda: datetime.now(UTC))


def as_utc(moment: datetime) -> datetime:
    """Return `moment` as aware UTC (SQLite hands back naive datetimes)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
