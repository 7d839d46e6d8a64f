"""The metric definitions as plain functions of counts and values (no database).

Rates are percentages 0-100 as floats, never rounded here; `None` means no data (an empty
denominator). Percentiles interpolate linearly between the two nearest ranks, as
PostgreSQL's `percentile_cont` does."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

NPS_PROMOTERS = range(9, 11)
NPS_DETRACTORS = range(0, 7)
CSAT_SATISFIED = range(4, 6)


def rate(part: int, whole: int) -> float | None:
    """Return part / whole x 100, or None when whole is 0."""
    return None if whole == 0 else part * 100.0 / whole


def nps(histogram: Mapping[int, int]) -> float | None:
    """Return % of scores 9-10 minus % of scores 0-6 (None without responses)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    promoters = sum(count for score, count in histogram.items() if score in NPS_PROMOTERS)
    detractors = sum(count for score, count in histogram.items() if score in NPS_DETRACTORS)
    return (promoters - detractors) * 100.0 / total


def csat(histogram: Mapping[int, int]) -> float | None:
    """Return responses scored 4-5 / all CSAT responses x 100 (None without responses)."""
    satisfied = sum(count for score, count in histogram.items() if score in CSAT_SATISFIED)
    return rate(satisfied, sum(histogram.values()))


def ces(histogram: Mapping[int, int]) -> float | None:
    """Return the mean CES score (None without responses)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    return sum(score * count for score, count in histogram.items()) / total


def mean(values: Sequence[float]) -> float | None:
    """Return the arithmetic mean (None for no values)."""
    return None if not values else math.fsum(values) / len(values)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Return the `fraction` percentile (0-1) by linear interpolation between ranks."""
    return ranked(sorted(values), fraction)


def ranked(ordered: Sequence[float], fraction: float) -> float | None:
    """Return `percentile` of values already sorted ascending (several percentiles of one
    list sort it once)."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def retention_rate(
    active_at_start: int, active_at_end: int, new_active_at_end: int
) -> float | None:
    """Return (E - N) / S x 100."""
    return rate(active_at_end - new_active_at_end, active_at_start)
