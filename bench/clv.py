"""Churn and lifetime-value models on CDNOW (../shared/data/cdnow): BG/NBD + Gamma-Gamma fitted
on the first 39 weeks of the 1997-Q1 cohort, judged on the next 39 weeks against a naive
baseline (each customer keeps their calibration repeat rate). Prints one figure per line.

    .venv/bin/python bench/clv.py [--master]   # --master: the full 23,570 customers too
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

from rapport.analytics.clv import (
    expected_purchases,
    expected_spend,
    fit_bg_nbd,
    fit_gamma_gamma,
)
from rapport.analytics.clv_evaluation import CalibrationSplit, report, split

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cdnow"
START = date(1997, 1, 1)
CALIBRATION_END = (date(1997, 9, 30) - START).days  # 39 weeks after 1997-01-01
HOLDOUT_END = (date(1998, 6, 30) - START).days  # 39 weeks more
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def read(path: Path, id_column: int) -> list[tuple[str, int, float]]:
    """Read CDNOW rows as (customer, day since 1997-01-01, dollar value)."""
    rows = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if not fields or not fields[0].isdigit():
            continue  # the master file's header
        day = date(int(fields[-3][:4]), int(fields[-3][4:6]), int(fields[-3][6:]))
        rows.append((fields[id_column], (day - START).days, float(fields[-1])))
    return rows


def evaluate(name: str, data: CalibrationSplit) -> None:
    """Fit on the calibration period and print the holdout comparison."""
    started = time.perf_counter()
    beta_geo = fit_bg_nbd(data.frequency, data.recency, data.age)
    fit_seconds = time.perf_counter() - started
    # As the product fits: customers sharing (x, t_x, T) once, weighted.
    rows = np.stack([data.frequency, data.recency, data.age], axis=1)
    started = time.perf_counter()
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    fit_bg_nbd(unique[:, 0], unique[:, 1], unique[:, 2], weights=counts)
    weighted_seconds = time.perf_counter() - started
    started = time.perf_counter()
    gamma_gamma = fit_gamma_gamma(data.frequency, data.mean_value)
    gamma_seconds = time.perf_counter() - started
    predicted = expected_purchases(
        beta_geo, data.holdout_periods, data.frequency, data.recency, data.age
    )
    found = report(data, predicted)
    print(f"[{name}] customers={data.frequency.size}")
    print(
        f"[{name}] bg_nbd r={beta_geo.r:.4f} alpha={beta_geo.alpha:.4f} "
        f"a={beta_geo.a:.4f} b={beta_geo.b:.4f} fit_seconds={fit_seconds:.3f}"
    )
    print(
        f"[{name}] bg_nbd weighted fit ({len(unique)} distinct rows) seconds={weighted_seconds:.3f}"
    )
    print(
        f"[{name}] gamma_gamma p={gamma_gamma.p:.3f} q={gamma_gamma.q:.3f} "
        f"gamma={gamma_gamma.gamma:.3f} fit_seconds={gamma_seconds:.3f}"
    )
    print(f"[{name}] holdout model mae={found.model_mae:.4f} rmse={found.model_rmse:.4f}")
    print(f"[{name}] holdout baseline mae={found.baseline_mae:.4f} rmse={found.baseline_rmse:.4f}")
    print(
        f"[{name}] model/baseline mae_ratio={found.model_mae / found.baseline_mae:.3f} "
        f"rmse_ratio={found.model_rmse / found.baseline_rmse:.3f}"
    )
    print(
        f"[{name}] holdout repeat purchases actual={found.actual_total:.0f} "
        f"predicted={found.predicted_total:.1f} baseline={found.baseline_total:.1f}"
    )
    spend = expected_spend(gamma_gamma, data.frequency, data.mean_value)
    repeaters = data.frequency > 0
    print(
        f"[{name}] mean expected spend (repeaters)={spend[repeaters].mean():.2f} "
        f"mean observed repeat spend={data.mean_value[repeaters].mean():.2f}"
    )
    print(f"[{name}] calibration table: repeats in calibration -> mean holdout purchases")
    print(f"[{name}]   {'x':>3} {'customers':>9} {'actual':>7} {'model':>7} {'baseline':>8}")
    for row in found.table:
        print(
            f"[{name}]   {row.label:>3} {row.customers:>9} {row.actual:>7.3f} "
            f"{row.predicted:>7.3f} {row.baseline:>8.3f}"
        )


def main() -> None:
    """Evaluate on the 2,357-customer sample (the papers' set), and on the master file if asked."""
    print("published (FHL 2005, sample): " + " ".join(f"{k}={v}" for k, v in PUBLISHED.items()))
    print(
        "published Gamma-Gamma (FHL 2005, sample): "
        + " ".join(f"{k}={v}" for k, v in PUBLISHED_GAMMA_GAMMA.items())
    )
    sample = read(DATA / "CDNOW_sample.txt", id_column=0)
    evaluate("CDNOW_sample.txt", split(sample, CALIBRATION_END, HOLDOUT_END))
    if "--master" in sys.argv:
        master = read(DATA / "CDNOW_master.txt", id_column=0)
        evaluate("CDNOW_master.txt", split(master, CALIBRATION_END, HOLDOUT_END))


if __name__ == "__main__":
    main()
