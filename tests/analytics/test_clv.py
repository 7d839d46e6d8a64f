"""The lifetime models against hand-computed values and direct evaluations of the published
formulas (plain math, no logs, no hypergeometric function)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from rapport.analytics.clv import (
    BetaGeoParameters,
    GammaGammaParameters,
    bg_nbd_log_likelihood,
    expected_purchases,
    expected_spend,
    expected_value,
    fit_bg_nbd,
    gamma_gamma_log_likelihood,
    probability_alive,
)
from rapport.analytics.clv_evaluation import baseline, report, split

PARAMETERS = BetaGeoParameters(r=0.5, alpha=2.0, a=0.8, b=2.5)
# (x, t_x, T): no repeat, some repeats, many repeats long ago.
CUSTOMERS = [(0, 0.0, 5.0), (2, 3.0, 5.0), (5, 4.5, 6.0), (3, 0.5, 30.0)]


def _beta(first: float, second: float) -> float:
    return math.gamma(first) * math.gamma(second) / math.gamma(first + second)


def _likelihood(parameters: BetaGeoParameters, x: int, t_x: float, big_t: float) -> float:
    """FHL 2005 eq. 3, evaluated as written."""
    r, alpha, a, b = parameters.r, parameters.alpha, parameters.a, parameters.b
    rate = math.gamma(r + x) * alpha**r / math.gamma(r)
    survive = _beta(a, b + x) / _beta(a, b) * rate / (alpha + big_t) ** (r + x)
    if x == 0:
        return survive
    dropped = _beta(a + 1, b + x - 1) / _beta(a, b) * rate / (alpha + t_x) ** (r + x)
    return survive + dropped


def test_log_likelihood_equals_the_formula_evaluated_directly() -> None:
    x, t_x, big_t = zip(*CUSTOMERS, strict=True)
    found = bg_nbd_log_likelihood(PARAMETERS, x, t_x, big_t)
    expected = [math.log(_likelihood(PARAMETERS, *customer)) for customer in CUSTOMERS]
    assert found.tolist() == pytest.approx(expected, rel=1e-12)


def test_log_likelihood_of_a_customer_without_repeats_is_r_log_alpha_over_alpha_plus_t() -> None:
    # x = 0: the Beta terms cancel, leaving (alpha / (alpha + T))^r = (1 / 2)^1.
    parameters = BetaGeoParameters(r=1.0, alpha=1.0, a=1.0, b=1.0)
    assert bg_nbd_log_likelihood(parameters, [0], [0.0], [1.0]).tolist() == pytest.approx(
        [-math.log(2)], rel=1e-15
    )


def test_probability_alive_by_hand() -> None:
    # odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x) = 1 * (4 / 2)^2 = 4.
    parameters = BetaGeoParameters(r=1.0, alpha=1.0, a=1.0, b=1.0)
    found = probability_alive(parameters, [1, 0], [1.0, 0.0], [3.0, 3.0])
    assert found.tolist() == pytest.approx([0.2, 1.0], rel=1e-15)


def test_expected_purchases_of_a_new_customer_equal_the_integral_over_dropout() -> None:
    # At x = t_x = T = 0 the conditional expectation is the unconditional E[X(t)]: given p,
    # integrating lambda out gives (1 - (alpha / (alpha + p t))^r) / p; then average over p.
    r, alpha, a, b = PARAMETERS.r, PARAMETERS.alpha, PARAMETERS.a, PARAMETERS.b
    periods = 10.0

    def given_p(p: float) -> float:
        density = p ** (a - 1) * (1 - p) ** (b - 1) / _beta(a, b)
        return (1 - (alpha / (alpha + p * periods)) ** r) / p * density

    integral, _ = quad(given_p, 0.0, 1.0, limit=200)
    found = expected_purchases(PARAMETERS, periods, [0], [0.0], [0.0])
    assert found.tolist() == pytest.approx([integral], rel=1e-7)


def _series(
    parameters: BetaGeoParameters, periods: float, x: int, t_x: float, big_t: float
) -> float:
    """FHL 2005 eq. 10 with the hypergeometric series summed term by term in log space."""
    r, alpha, a, b = parameters.r, parameters.alpha, parameters.a, parameters.b
    z, c = periods / (alpha + big_t + periods), a + b + x - 1
    logs, term = [], 0.0
    for k in range(20000):
        logs.append(term)
        term += math.log((r + x + k) * (b + x + k) / ((c + k) * (k + 1)) * z)
    top = max(logs)
    log_sum = top + math.log(sum(math.exp(value - top) for value in logs))
    discounted = math.exp((r + x) * math.log(1 - z) + log_sum)
    odds = a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x)
    return (a + b + x - 1) / (a - 1) * (1 - discounted) / (1 + odds)


@pytest.mark.parametrize(
    ("x", "t_x", "big_t", "periods"),
    [(2, 3.0, 5.0, 10.0), (200, 50.0, 52.0, 52.18), (1000, 299.0, 300.0, 500.0)],
)
def test_expected_purchases_equal_the_series_summed_directly(
    x: int, t_x: float, big_t: float, periods: float
) -> None:
    # The last row overflows the published form in floating point (hyp2f1 is infinite there).
    found = expected_purchases(PARAMETERS, periods, [x], [t_x], [big_t])
    assert found.tolist() == pytest.approx([_series(PARAMETERS, periods, x, t_x, big_t)], rel=1e-9)


def test_expected_purchases_are_zero_over_no_time() -> None:
    assert expected_purchases(PARAMETERS, 0.0, [2], [3.0], [5.0]).tolist() == [0.0]


def test_gamma_gamma_log_likelihood_equals_the_density_evaluated_directly() -> None:
    parameters = GammaGammaParameters(p=2.0, q=3.0, gamma=10.0)
    x, mean = 2, 20.0
    px = parameters.p * x
    density = (
        math.gamma(px + parameters.q)
        / (math.gamma(px) * math.gamma(parameters.q))
        * parameters.gamma**parameters.q
        * mean ** (px - 1)
        * x**px
        / (parameters.gamma + mean * x) ** (px + parameters.q)
    )
    found = gamma_gamma_log_likelihood(parameters, [x], [mean])
    assert found.tolist() == pytest.approx([math.log(density)], rel=1e-12)


def test_expected_spend_by_hand() -> None:
    # p (gamma + m x) / (p x + q - 1): 2 (10 + 40) / 6; without repeats gamma p / (q - 1) = 10.
    parameters = GammaGammaParameters(p=2.0, q=3.0, gamma=10.0)
    found = expected_spend(parameters, [2, 0], [20.0, 0.0])
    assert found.tolist() == pytest.approx([100 / 6, 10.0], rel=1e-15)


def test_expected_value_discounts_each_month() -> None:
    summary = ([2], [3.0], [5.0])
    month, two = (expected_purchases(PARAMETERS, n * 4.0, *summary)[0] for n in (1, 2))
    found = expected_value(
        PARAMETERS, [50.0], *summary, months=2, periods_per_month=4.0, monthly_discount=0.01
    )
    expected = 50.0 * (month / 1.01 + (two - month) / 1.01**2)
    assert found.tolist() == pytest.approx([expected], rel=1e-12)


def _simulated(customers: int, seed: int) -> list[tuple[int, float, float]]:
    """Draw BG/NBD customers over 52 weeks, times rounded to weeks (so many coincide)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(customers):
        rate, dropout = rng.gamma(PARAMETERS.r, 1 / PARAMETERS.alpha), rng.beta(0.8, 2.5)
        big_t, moment, times = float(rng.integers(20, 53)), 0.0, []
        while True:
            moment += rng.exponential(1 / rate)
            if moment > big_t:
                break
            times.append(round(moment))
            if rng.random() < dropout:
                break
        rows.append((len(times), float(times[-1]) if times else 0.0, big_t))
    return rows


def test_fit_with_weights_equals_the_fit_on_repeated_rows() -> None:
    rows = _simulated(2000, seed=7)
    unique, counts = np.unique(np.array(rows), axis=0, return_counts=True)
    weighted = fit_bg_nbd(unique[:, 0], unique[:, 1], unique[:, 2], weights=counts)
    plain = fit_bg_nbd(*zip(*rows, strict=True))
    assert len(unique) < len(rows) * 0.7
    assert [weighted.r, weighted.alpha, weighted.a, weighted.b] == pytest.approx(
        [plain.r, plain.alpha, plain.a, plain.b], rel=1e-3
    )


def test_split_summarises_calibration_and_counts_the_holdout() -> None:
    purchases = [
        ("ann", 0, 10.0),
        ("ann", 0, 5.0),  # same day: one purchase occasion worth 15
        ("ann", 7, 20.0),
        ("ann", 14, 40.0),
        ("ann", 30, 1.0),  # holdout
        ("bob", 21, 9.0),
        ("cat", 29, 9.0),  # first purchase after calibration: not in the cohort
        ("bob", 99, 9.0),  # after the holdout
    ]
    data = split(purchases, calibration_end=28, holdout_end=56)
    assert data.frequency.tolist() == [2, 0]
    assert data.recency.tolist() == [2.0, 0.0]
    assert data.age.tolist() == [4.0, 1.0]
    assert data.mean_value.tolist() == [30.0, 0.0]
    assert data.holdout.tolist() == [1, 0]
    assert data.holdout_periods == 4.0
    assert baseline(data).tolist() == [2.0, 0.0]  # 2 repeats in 4 weeks, for 4 more weeks


def test_report_errors_and_table() -> None:
    data = split([("ann", 0, 1.0), ("ann", 7, 1.0), ("ann", 20, 1.0), ("bob", 0, 1.0)], 14, 28)
    found = report(data, np.array([0.5, 0.25]))
    # ann: actual 1, model 0.5, baseline 1/2 * 2 = 1; bob: actual 0, model 0.25, baseline 0.
    assert (found.model_mae, found.baseline_mae) == (0.375, 0.0)
    assert (found.model_rmse, found.baseline_rmse) == pytest.approx((math.sqrt(0.15625), 0.0))
    assert (found.predicted_total, found.actual_total, found.baseline_total) == (0.75, 1.0, 1.0)
    assert [(row.label, row.customers, row.actual, row.predicted) for row in found.table] == [
        ("0", 1, 0.0, 0.25),
        ("1", 1, 1.0, 0.5),
    ]
