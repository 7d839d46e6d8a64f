"""The metric definitions as plain functions, against hand-computed values."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rapport.analytics.definitions import ces, csat, mean, nps, percentile, rate, retention_rate
from rapport.analytics.errors import InvalidWindow
from rapport.analytics.windows import window


def test_nps_is_promoters_minus_detractors_in_percent() -> None:
    # 3 promoters (9, 10, 10), 2 passives (7, 8), 3 detractors (0, 5, 6) of 8: (3 - 3) / 8.
    assert nps({10: 2, 9: 1, 8: 1, 7: 1, 6: 1, 5: 1, 0: 1}) == 0.0
    # 3 promoters, 1 detractor of 5: 60 - 20 = 40.
    assert nps({10: 3, 8: 1, 2: 1}) == 40.0


def test_csat_counts_4_and_5_as_satisfied() -> None:
    # 4s and 5s: 2 + 1 of 2 + 1 + 1 + 1 + 3 = 8 -> 37.5 %.
    assert csat({5: 2, 4: 1, 3: 1, 2: 1, 1: 3}) == 37.5


def test_ces_is_the_mean_score() -> None:
    # (7 + 7 + 2 + 1) / 4 = 4.25
    assert ces({7: 2, 2: 1, 1: 1}) == 4.25


def test_no_responses_give_no_score() -> None:
    assert (nps({}), csat({}), ces({}), nps({9: 0})) == (None, None, None, None)


def test_percentiles_interpolate_between_ranks() -> None:
    values = [10.0, 40.0, 20.0, 30.0]
    # sorted 10 20 30 40: p50 at rank 1.5 -> 25; p90 at rank 2.7 -> 30 + 0.7 * 10 = 37.
    assert percentile(values, 0.5) == 25.0
    assert percentile(values, 0.9) == pytest.approx(37.0)
    assert (percentile([5.0], 0.9), percentile([], 0.5), mean([])) == (5.0, None, None)
    assert mean(values) == 25.0


def test_rates_are_unrounded_percentages() -> None:
    assert rate(1, 3) == pytest.approx(33.333333333333336)
    assert (rate(0, 0), retention_rate(0, 3, 1)) == (None, None)
    assert retention_rate(4, 5, 2) == 75.0


def test_a_window_is_read_in_the_workspace_time_zone_across_dst() -> None:
    # Berlin leaves summer time on 2026-10-25: that local day lasts 25 hours.
    span = window(date(2026, 10, 24), date(2026, 10, 26), "Europe/Berlin")
    assert (span.start, span.end) == (
        datetime(2026, 10, 23, 22, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 23, 0, tzinfo=UTC),
    )
    assert [(day.start, day.end) for day in span.days()][1] == (
        datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 23, 0, tzinfo=UTC),
    )


def test_an_empty_or_reversed_window_is_refused() -> None:
    with pytest.raises(InvalidWindow):
        window(date(2026, 1, 2), date(2026, 1, 2), "UTC")
    with pytest.raises(InvalidWindow):
        window(date(2026, 1, 3), date(2026, 1, 2), "UTC")
