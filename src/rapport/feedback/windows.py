"""Local days of a window: the stretches of it during which a time zone's offset holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# Offsets change at most a few times a year; no two changes fall within a day of each other.
STEP = timedelta(hours=12)
RESOLUTION = timedelta(seconds=1)


def offset_at(moment: datetime, zone: ZoneInfo) -> int:
    """Return the zone's UTC offset in seconds at this moment."""
    offset = moment.astimezone(zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


def offset_stretches(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, int]]:
    """Cut [start, end) where the zone's offset changes; return each stretch's end (UTC) and
    the offset (seconds) that holds until then, in order."""
    stretches: list[tuple[datetime, int]] = []
    cursor, current = start.astimezone(UTC), offset_at(start, zone)
    end = end.astimezone(UTC)
    while cursor < end:
        probe = min(cursor + STEP, end)
        if offset_at(probe, zone) != current:
            change = _change_between(cursor, probe, current, zone)
            if change < end:
                stretches.append((change, current))
                cursor, current = change, offset_at(change, zone)
                continue
        cursor = probe
    stretches.append((end, current))
    return stretches


def _change_between(low: datetime, high: datetime, before: int, zone: ZoneInfo) -> datetime:
    """Return the first moment in (low, high] whose offset differs from `before`."""
    while high - low > RESOLUTION:
        middle = low + (high - low) / 2
        if offset_at(middle, zone) == before:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)
