"""Reading metric filters and dates given as text (the CLI's options, the API's query)."""

from __future__ import annotations

from datetime import date

from rapport.analytics.errors import InvalidWindow, UnknownMetricFilter
from rapport.support.enums import Channel


def read_day(value: str, name: str) -> date:
    """Read a `YYYY-MM-DD` date, naming the option in the error."""
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise InvalidWindow(f"`{name}` must be a date written YYYY-MM-DD.") from error


def read_channel(value: str | None) -> Channel | None:
    """Read a support channel name (None: every channel)."""
    if value is None:
        return None
    try:
        return Channel(value)
    except ValueError as error:
        names = ", ".join(channel.value for channel in Channel)
        raise UnknownMetricFilter(f"Unknown channel {value!r}: one of {names}.") from error
