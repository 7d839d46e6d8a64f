"""Analytics errors, each with its HTTP status."""

from __future__ import annotations

from rapport.errors import UnprocessableContent


class InvalidWindow(UnprocessableContent):
    """A metrics window needs `from` before `to`, at most `MAX_WINDOW_DAYS` days apart."""


class UnknownMetricFilter(UnprocessableContent):
    """A filter names no channel, team, staff member or breakdown Rapport knows."""


class InvalidInactivityThreshold(UnprocessableContent):
    """The inactivity threshold is a whole number of days from 1 to 3650."""
