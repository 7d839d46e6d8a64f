"""BG/NBD on CDNOW's 2,357-customer sample (the papers' set): the classic split, 39 weeks to
fit and 39 to compare. Skipped where the shared datasets are absent."""

from __future__ import annotations

from datetime import date

import pytest

from rapport.analytics.clv import BetaGeoParameters, expected_purchases, fit_bg_nbd
from rapport.analytics.clv_evaluation import CalibrationSplit, report, split
from tests.fixtures.shared_data import shared_data

START = date(1997, 1, 1)
CALIBRATION_END = (date(1997, 9, 30) - START).days
HOLDOUT_END = (date(1998, 6, 30) - START).days
# Fader, Hardie & Lee (2005), Table 1.
PUBLISHED = BetaGeoParameters(r=0.243, alpha=4.414, a=0.793, b=2.426)


@pytest.fixture(scope="module")
def cdnow() -> CalibrationSplit:
    """The sample as (customer, day, dollars), split at the end of September 1997."""
    try:
        path = shared_data("cdnow", "CDNOW_sample.txt")
    except FileNotFoundError:
        pytest.skip("the shared CDNOW data is not here")
    purchases = []
    for line in path.read_text().splitlines():
        customer, _, day, _, dollars = line.split()
        when = date(int(day[:4]), int(day[4:6]), int(day[6:]))
        purchases.append((customer, (when - START).days, float(dollars)))
    return split(purchases, CALIBRATION_END, HOLDOUT_END)


def test_the_cohort_is_the_papers(cdnow: CalibrationSplit) -> None:
    assert (cdnow.frequency.size, int(cdnow.frequency.sum()), int(cdnow.holdout.sum())) == (
        2357,
        2457,
        1882,
    )


def test_fitted_parameters_are_the_published_ones(cdnow: CalibrationSplit) -> None:
    found = fit_bg_nbd(cdnow.frequency, cdnow.recency, cdnow.age)
    assert [found.r, found.alpha, found.a, found.b] == pytest.approx(
        [PUBLISHED.r, PUBLISHED.alpha, PUBLISHED.a, PUBLISHED.b], abs=0.002
    )


def test_the_model_beats_the_naive_baseline_on_the_holdout(cdnow: CalibrationSplit) -> None:
    fitted = fit_bg_nbd(cdnow.frequency, cdnow.recency, cdnow.age)
    predicted = expected_purchases(
        fitted, cdnow.holdout_periods, cdnow.frequency, cdnow.recency, cdnow.age
    )
    found = report(cdnow, predicted)
    assert found.model_mae < found.baseline_mae
    assert found.model_rmse < found.baseline_rmse
    assert abs(found.predicted_total - found.actual_total) < abs(
        found.baseline_total - found.actual_total
    )
