"""Customer lifetime models, plain arrays in and out: BG/NBD (Fader, Hardie & Lee 2005,
"Counting your customers the easy way") for repeat purchases and P(alive), Gamma-Gamma
(Fader, Hardie & Lee 2005, "RFM and CLV") for spend per purchase. No database here.

A customer is summarised by `frequency` x (repeat purchases: purchase occasions after the
first), `recency` t_x (first to last purchase) and `age` T (first purchase to the end of
observation), all in one time unit, plus the mean value of their repeat purchases."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln, hyp2f1

Array = NDArray[np.float64]
# Optimisation works on log-parameters, kept in a range where every term stays finite.
LOG_BOUNDS = (-12.0, 12.0)


@dataclass(frozen=True)
class BetaGeoParameters:
    """BG/NBD parameters: purchase rate ~ Gamma(r, alpha), dropout probability ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParameters:
    """Gamma-Gamma parameters of spend per purchase (p, q, gamma)."""

    p: float
    q: float
    gamma: float


def _arrays(*values: ArrayLike) -> list[Array]:
    return [np.asarray(value, dtype=np.float64) for value in values]


def bg_nbd_log_likelihood(
    parameters: BetaGeoParameters, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> Array:
    """Return each customer's BG/NBD log-likelihood (FHL 2005, eq. 6, in log space)."""
    x, t_x, big_t = _arrays(frequency, recency, age)
    r, alpha, a, b = parameters.r, parameters.alpha, parameters.a, parameters.b
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + big_t)
    repeat = x > 0
    # B(a + 1, b + x - 1) / B(a, b + x) = a / (b + x - 1); only defined for x > 0.
    a4 = np.full_like(x, -np.inf)
    a4[repeat] = (
        np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    )
    result: Array = a1 + a2 + np.logaddexp(a3, a4)
    return result


def fit_bg_nbd(
    frequency: ArrayLike, recency: ArrayLike, age: ArrayLike, weights: ArrayLike | None = None
) -> BetaGeoParameters:
    """Fit BG/NBD by maximum likelihood (L-BFGS-B on log-parameters); `weights` count
    customers sharing one (x, t_x, T)."""
    x, t_x, big_t = _arrays(frequency, recency, age)
    w = np.ones_like(x) if weights is None else _arrays(weights)[0]
    if x.size == 0:
        raise ValueError("no customers to fit")
    scale = max(float(np.average(big_t, weights=w)), 1e-9)

    def negative(log_parameters: Array) -> float:
        r, alpha, a, b = np.exp(log_parameters)
        values = bg_nbd_log_likelihood(BetaGeoParameters(r, alpha, a, b), x, t_x, big_t)
        return -float(np.dot(w, values)) / float(w.sum())

    start = np.log([1.0, scale, 1.0, 1.0])
    from scipy.optimize import minimize  # on use: loading it slows every process start

    found = minimize(negative, start, method="L-BFGS-B", bounds=[LOG_BOUNDS] * 4)
    r, alpha, a, b = (float(value) for value in np.exp(found.x))
    return BetaGeoParameters(r, alpha, a, b)


def probability_alive(
    parameters: BetaGeoParameters, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> Array:
    """Return P(alive | x, t_x, T) (FHL 2005, eq. 11); 1 for customers without repeats."""
    x, t_x, big_t = _arrays(frequency, recency, age)
    result: Array = 1.0 / (1.0 + _dropout_odds(parameters, x, t_x, big_t))
    return result


def _dropout_odds(parameters: BetaGeoParameters, x: Array, t_x: Array, big_t: Array) -> Array:
    """(a / (b + x - 1)) ((alpha + T) / (alpha + t_x))^(r + x) for x > 0, else 0."""
    r, alpha, a, b = parameters.r, parameters.alpha, parameters.a, parameters.b
    odds = np.zeros_like(x)
    repeat = x > 0
    log_odds = (
        np.log(a)
        - np.log(b + x[repeat] - 1)
        + (r + x[repeat]) * (np.log(alpha + big_t[repeat]) - np.log(alpha + t_x[repeat]))
    )
    odds[repeat] = np.exp(np.minimum(log_odds, 700.0))
    return odds


def expected_purchases(
    parameters: BetaGeoParameters,
    periods: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
) -> Array:
    """Return E[Y(t) | x, t_x, T]: expected purchases in the next `periods` (FHL 2005, eq. 10)."""
    x, t_x, big_t = _arrays(frequency, recency, age)
    if periods <= 0:
        return np.zeros_like(x)
    r, alpha, a, b = parameters.r, parameters.alpha, parameters.a, parameters.b
    z = periods / (alpha + big_t + periods)
    # (1 - z)^(r + x) 2F1(r + x, b + x; a + b + x - 1; z), after Pfaff's transformation:
    # (1 - z)^(r - b) 2F1(b + x, a + b - 1 - r; a + b + x - 1; z / (z - 1)). The published
    # form overflows for heavy buyers (x in the thousands); this one keeps a small parameter.
    # Past |z / (z - 1)| > 1 scipy may still fail on it; the published form is tried there.
    pfaff = hyp2f1(b + x, a + b - 1 - r, a + b + x - 1, -periods / (alpha + big_t))
    discounted = np.exp((r - b) * np.log1p(-z)) * pfaff
    failed = ~np.isfinite(discounted)
    if failed.any():
        published = hyp2f1(r + x[failed], b + x[failed], a + b + x[failed] - 1, z[failed])
        discounted[failed] = np.exp((r + x[failed]) * np.log1p(-z[failed])) * published
    numerator = (a + b + x - 1) / (a - 1) * (1.0 - discounted)
    result: Array = numerator / (1.0 + _dropout_odds(parameters, x, t_x, big_t))
    return result


def gamma_gamma_log_likelihood(
    parameters: GammaGammaParameters, frequency: ArrayLike, mean_value: ArrayLike
) -> Array:
    """Return each repeat customer's Gamma-Gamma log-likelihood of their mean spend."""
    x, m = _arrays(frequency, mean_value)
    p, q, gamma = parameters.p, parameters.q, parameters.gamma
    result: Array = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )
    return result


def fit_gamma_gamma(frequency: ArrayLike, mean_value: ArrayLike) -> GammaGammaParameters:
    """Fit Gamma-Gamma by maximum likelihood on customers with repeats and positive spend."""
    x, m = _arrays(frequency, mean_value)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if x.size == 0:
        raise ValueError("no repeat customers with spend to fit")

    def negative(log_parameters: Array) -> float:
        p, q, gamma = np.exp(log_parameters)
        values = gamma_gamma_log_likelihood(GammaGammaParameters(p, q, gamma), x, m)
        return -float(values.mean())

    start = np.log([1.0, 2.0, max(float(m.mean()), 1e-6)])
    bounds = [LOG_BOUNDS, (float(np.log(1.0001)), LOG_BOUNDS[1]), LOG_BOUNDS]
    from scipy.optimize import minimize  # on use: loading it slows every process start

    found = minimize(negative, start, method="L-BFGS-B", bounds=bounds)
    p, q, gamma = (float(value) for value in np.exp(found.x))
    return GammaGammaParameters(p, q, gamma)


def expected_spend(
    parameters: GammaGammaParameters, frequency: ArrayLike, mean_value: ArrayLike
) -> Array:
    """Return E[M | x, m_x]: expected value of a future purchase; the population mean
    gamma p / (q - 1) for customers without repeats."""
    x, m = _arrays(frequency, mean_value)
    p, q, gamma = parameters.p, parameters.q, parameters.gamma
    m = np.where(x > 0, m, 0.0)
    result: Array = p * (gamma + m * x) / (p * x + q - 1)
    return result


def expected_value(
    parameters: BetaGeoParameters,
    spend: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    *,
    months: int,
    periods_per_month: float,
    monthly_discount: float = 0.0,
) -> Array:
    """Return the expected value of each customer's purchases over the next `months`: the
    purchases expected in each month times the expected spend, discounted per month."""
    value = np.zeros_like(_arrays(frequency)[0])
    before = np.zeros_like(value)
    for month in range(1, months + 1):
        until = expected_purchases(parameters, month * periods_per_month, frequency, recency, age)
        value += (until - before) / (1.0 + monthly_discount) ** month
        before = until
    result: Array = value * np.asarray(spend, dtype=np.float64)
    return result
