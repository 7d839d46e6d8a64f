"""The release check, in small: data generated here is imported through `rapport import
orders` and `rapport import survey-responses`, and `rapport metrics show --json` must match
a plain-Python computation of the definitions (docs/metrics.md)."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rapport.config import Settings
from rapport.core.db import Database
from rapport.events.imports import COLUMNS
from rapport.identity.models import Workspace
from tests.fixtures.cli import run_cli
from tests.fixtures.identity import make_workspace

ZONE = "America/New_York"
FIRST, END = date(2026, 1, 1), date(2026, 2, 1)
SCALES = {"nps": range(0, 11), "csat": range(1, 6), "ces": range(1, 8)}


@dataclass(frozen=True)
class Sale:
    customer: str
    placed_at: datetime
    cancelled: bool


def _moment(rng: random.Random) -> datetime:
    """A minute between 2025-08-01 and 2026-02-15 (UTC), often near the window's edges."""
    if rng.random() < 0.15:
        edge = rng.choice(
            [datetime(2026, 1, 1, 5, tzinfo=UTC), datetime(2026, 2, 1, 5, tzinfo=UTC)]
        )
        return edge + timedelta(minutes=rng.randint(-300, 300))
    return datetime(2025, 8, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 198 * 24 * 60))


def _sales(rng: random.Random) -> list[Sale]:
    customers = [str(12000 + number) for number in range(60)]
    return [Sale(rng.choice(customers), _moment(rng), rng.random() < 0.1) for _ in range(400)]


def _orders_file(path: Path, sales: list[Sale]) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for number, sale in enumerate(sales):
            invoice = f"{'C' if sale.cancelled else ''}{500000 + number}"
            placed = sale.placed_at.strftime("%Y-%m-%d %H:%M:%S")
            writer.writerow(
                [invoice, "85123A", "LANTERN", "2", placed, "2.55", sale.customer, "UK"]
            )
    return path


def _responses(rng: random.Random, kind: str) -> list[tuple[str, int, datetime]]:
    return [(f"u{rng.randint(1, 30)}", rng.choice(SCALES[kind]), _moment(rng)) for _ in range(120)]


def _responses_file(path: Path, rows: list[tuple[str, int, datetime]]) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["user_id", "score", "answered_at"])
        for user_id, score, answered_at in rows:
            writer.writerow([user_id, score, answered_at.isoformat()])
    return path


def _bounds() -> tuple[datetime, datetime]:
    zone = ZoneInfo(ZONE)
    start = datetime.combine(FIRST, time(0), zone).astimezone(UTC)
    return start, datetime.combine(END, time(0), zone).astimezone(UTC)


def _expected_orders(sales: list[Sale], inactivity: timedelta) -> dict[str, float | None]:
    """The definitions, written out in plain Python over the generated rows."""
    start, end = _bounds()
    counted = [sale for sale in sales if not sale.cancelled]

    def active(customer: str, at: datetime) -> bool:
        placed = [s.placed_at for s in counted if s.customer == customer and s.placed_at < at]
        return bool(placed) and at - max(placed) < inactivity

    customers = {sale.customer for sale in counted}
    at_start = {c for c in customers if active(c, start)}
    at_end = {c for c in customers if active(c, end)}
    first = {c: min(s.placed_at for s in counted if s.customer == c) for c in customers}
    new = {c for c in at_end if start <= first[c] < end}
    in_window = [s.customer for s in counted if start <= s.placed_at < end]
    buyers = set(in_window)
    repeat = {c for c in buyers if in_window.count(c) >= 2}
    return {
        "retention_rate": (len(at_end) - len(new)) * 100.0 / len(at_start),
        "churn_rate": len(at_start - at_end) * 100.0 / len(at_start),
        "repeat_purchase_rate": len(repeat) * 100.0 / len(buyers),
    }


def _expected_scores(answers: dict[str, list[tuple[str, int, datetime]]]) -> dict[str, float]:
    start, end = _bounds()
    scores = {kind: [s for _, s, at in rows if start <= at < end] for kind, rows in answers.items()}
    nps = scores["nps"]
    return {
        "nps": (sum(s >= 9 for s in nps) - sum(s <= 6 for s in nps)) * 100.0 / len(nps),
        "csat": sum(s >= 4 for s in scores["csat"]) * 100.0 / len(scores["csat"]),
        "ces": sum(scores["ces"]) / len(scores["ces"]),
    }


async def test_metrics_show_matches_an_independent_computation(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(20261202)
    workspace = await make_workspace(database)
    async with database.session() as session:
        stored = await session.get(Workspace, workspace.id)
        assert stored is not None
        stored.time_zone = ZONE
    sales = _sales(rng)
    run_cli(settings, "import", "orders", str(_orders_file(tmp_path / "o.csv", sales)),
            "--workspace", workspace.slug)  # fmt: skip
    answers = {kind: _responses(rng, kind) for kind in SCALES}
    for kind, rows in answers.items():
        path = _responses_file(tmp_path / f"{kind}.csv", rows)
        run_cli(settings, "import", "survey-responses", str(path), "--workspace",
                workspace.slug, "--kind", kind)  # fmt: skip
    window = ["--workspace", workspace.slug, "--from", str(FIRST), "--to", str(END)]
    shown = json.loads(run_cli(settings, "metrics", "show", *window, "--json")[-1])
    expected = _expected_orders(sales, timedelta(days=90)) | _expected_scores(answers)
    assert {key: shown[key] for key in expected} == pytest.approx(expected, rel=1e-12)
    assert [shown[key] for key in ("first_response_seconds_p50", "resolution_seconds_p50",
            "handle_seconds_mean", "first_level_resolution_rate", "abandoned_rate",
            "containment_rate")] == [None] * 6  # fmt: skip
    shorter = json.loads(
        run_cli(settings, "metrics", "show", *window, "--inactivity-days", "30", "--json")[-1]
    )
    expected_30 = _expected_orders(sales, timedelta(days=30))
    assert {key: shorter[key] for key in expected_30} == pytest.approx(expected_30, rel=1e-12)
    table = run_cli(settings, "metrics", "show", *window)
    retention = f"{expected['retention_rate']:.2f}"
    assert [line.split() for line in table if "retention_rate" in line] == [
        ["│", "retention_rate", "│", retention, "│"]
    ]
    # The same figures once `rapport metrics digest` has digested every closed day.
    digested = run_cli(settings, "metrics", "digest", "--workspace", workspace.slug)[-1]
    assert digested.endswith(" day digests") and int(digested.split()[0]) > 300
    again = json.loads(run_cli(settings, "metrics", "show", *window, "--json")[-1])
    assert again == shown
