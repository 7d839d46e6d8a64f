"""Backtesting the lifetime models: dated purchases split into a calibration period (to fit)
and a holdout period (to compare), against a naive baseline. Plain data, no database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rapport.analytics.clv import Array

# Rows of the calibration table: customers by repeat purchases in calibration, 7 and more last.
TABLE_BINS = 8


@dataclass(frozen=True)
class CalibrationSplit:
    """Per customer (in one order): the calibration summary and the holdout purchase count."""

    frequency: Array
    recency: Array
    age: Array
    mean_value: Array
    holdout: Array
    holdout_periods: float


@dataclass(frozen=True)
class TableRow:
    """One calibration-table row: customers with this many repeats in calibration."""

    label: str
    customers: int
    actual: float
    predicted: float
    baseline: float


@dataclass(frozen=True)
class HoldoutReport:
    """Errors of predicted holdout purchases per customer, for the model and the baseline."""

    model_mae: float
    model_rmse: float
    baseline_mae: float
    baseline_rmse: float
    predicted_total: float
    baseline_total: float
    actual_total: float
    table: list[TableRow]


def split(
    purchases: Iterable[tuple[str, int, float]],
    calibration_end: int,
    holdout_end: int,
    days_per_period: float = 7.0,
) -> CalibrationSplit:
    """Summarise (customer, day number, value) purchases of the customers whose first purchase
    falls by `calibration_end` (days up to it calibrate, later days up to `holdout_end` are the
    holdout); purchases on one day are one purchase occasion, their values summed."""
    days: dict[str, dict[int, float]] = {}
    for customer, day, value in purchases:
        if day <= holdout_end:
            customer_days = days.setdefault(customer, {})
            customer_days[day] = customer_days.get(day, 0.0) + value
    rows = [_row(found, calibration_end, days_per_period) for found in days.values()]
    cohort = np.array([row for row in rows if row is not None], dtype=np.float64).reshape(-1, 5)
    return CalibrationSplit(
        frequency=cohort[:, 0],
        recency=cohort[:, 1],
        age=cohort[:, 2],
        mean_value=cohort[:, 3],
        holdout=cohort[:, 4],
        holdout_periods=(holdout_end - calibration_end) / days_per_period,
    )


def _row(found: dict[int, float], calibration_end: int, per: float) -> tuple[float, ...] | None:
    calibration = sorted(day for day in found if day <= calibration_end)
    if not calibration:
        return None  # not in the cohort: first purchase after calibration
    first, last = calibration[0], calibration[-1]
    repeats = [found[day] for day in calibration[1:]]
    mean_value = sum(repeats) / len(repeats) if repeats else 0.0
    holdout = sum(1 for day in found if day > calibration_end)
    return (
        len(repeats),
        (last - first) / per,
        (calibration_end - first) / per,
        mean_value,
        holdout,
    )


def baseline(data: CalibrationSplit) -> Array:
    """Return the naive forecast: each customer keeps their calibration repeat rate."""
    rate = np.divide(
        data.frequency, data.age, out=np.zeros_like(data.frequency), where=data.age > 0
    )
    result: Array = rate * data.holdout_periods
    return result


def report(data: CalibrationSplit, predicted: Array) -> HoldoutReport:
    """Compare predicted holdout purchases with the actual ones, beside the baseline."""
    naive = baseline(data)
    actual = data.holdout
    return HoldoutReport(
        model_mae=float(np.mean(np.abs(predicted - actual))),
        model_rmse=float(np.sqrt(np.mean((predicted - actual) ** 2))),
        baseline_mae=float(np.mean(np.abs(naive - actual))),
        baseline_rmse=float(np.sqrt(np.mean((naive - actual) ** 2))),
        predicted_total=float(predicted.sum()),
        baseline_total=float(naive.sum()),
        actual_total=float(actual.sum()),
        table=_table(data.frequency, actual, predicted, naive),
    )


def _table(frequency: Array, actual: Array, predicted: Array, naive: Array) -> list[TableRow]:
    rows = []
    binned = np.minimum(frequency, TABLE_BINS - 1)
    for value in range(TABLE_BINS):
        chosen = binned == value
        if chosen.any():
            label = f"{value}+" if value == TABLE_BINS - 1 else str(value)
            rows.append(
                TableRow(
                    label=label,
                    customers=int(chosen.sum()),
                    actual=float(actual[chosen].mean()),
                    predicted=float(predicted[chosen].mean()),
                    baseline=float(naive[chosen].mean()),
                )
            )
    return rows
