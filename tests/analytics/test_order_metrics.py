"""Retention, churn and repeat purchase against hand-computed values: a window edge in a
non-UTC time zone, cancelled and fully refunded orders, an empty window."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Select, and_, case, func, not_, select
from sqlalchemy.orm import aliased

from rapport.analytics import digests
from rapport.analytics.models import DayDigest
from rapport.analytics.order_metrics import ORDER_DIGESTS
from rapport.analytics.service import metrics
from rapport.analytics.windows import window
from rapport.core.db import Database
from rapport.events.enums import OrderStatus
from rapport.events.models import Order
from rapport.events.orders import OrderInput, orders
from rapport.events.reports import counted_order
from rapport.identity.models import Workspace
from rapport.support.routing_calendar import calendars
from tests.fixtures.identity import make_workspace

# The window is [2026-01-10, 2026-01-20) in New York (UTC-5): [01-10 05:00Z, 01-20 05:00Z).
# With 90 days of inactivity, "active at from" needs an order in (2025-10-12 05:00Z, from)
# and "active at to" one in (2025-10-22 05:00Z, to).
ORDERS = [
    ("a", "2025-12-01T12:00", "completed", "40", "0"),
    ("a", "2026-01-12T12:00", "completed", "40", "0"),
    ("b", "2025-10-15T12:00", "completed", "10", "0"),  # active at from, not at to: churned
    ("c", "2026-01-15T12:00", "completed", "25", "0"),  # new, with a repeat purchase
    ("c", "2026-01-18T12:00", "completed", "25", "0"),
    ("d", "2026-01-10T04:30", "completed", "15", "0"),  # 01-09 23:30 in New York: before
    ("d", "2026-01-20T04:59", "completed", "15", "0"),  # 01-19 23:59 there: inside
    ("d", "2026-01-20T05:00", "completed", "15", "0"),  # 01-20 00:00 there: after
    ("e", "2025-12-01T12:00", "cancelled", "30", "0"),  # never counts
    ("e", "2026-01-12T12:00", "cancelled", "30", "0"),
    ("e", "2026-01-13T12:00", "completed", "30", "0"),  # e's first counted order: new
    ("f", "2025-12-20T12:00", "refunded", "50", "50"),  # fully refunded: f never counts
    ("g", "2025-12-20T12:00", "refunded", "50", "20"),  # partly refunded: counts
    (None, "2026-01-12T12:00", "completed", "99", "0"),  # no customer: ignored
]


async def _new_york_shop(database: Database) -> Workspace:
    workspace = await make_workspace(database)
    async with database.session() as session:
        stored = await session.get(Workspace, workspace.id)
        assert stored is not None
        stored.time_zone = "America/New_York"
    return workspace


async def _orders(database: Database, workspace_id: str) -> None:
    inputs = [
        OrderInput(
            order_key=f"o{number}",
            status=OrderStatus(status),
            origin="csv",
            channel="web",
            placed_at=datetime.fromisoformat(placed).replace(tzinfo=UTC),
            customer_id=customer,
            total=Decimal(total),
            refunded=Decimal(refunded),
        )
        for number, (customer, placed, status, total, refunded) in enumerate(ORDERS)
    ]
    async with database.session() as session:
        await orders.apply_many(session, workspace_id, inputs)


async def _summary(
    database: Database, workspace_id: str, first: date, end: date
) -> dict[str, object]:
    async with database.session() as session:
        found = await metrics.summary(session, workspace_id, first_day=first, end_day=end)
    return found.flat()


async def test_retention_churn_and_repeat_purchase(database: Database) -> None:
    workspace = await _new_york_shop(database)
    await _orders(database, workspace.id)
    found = await _summary(database, workspace.id, date(2026, 1, 10), date(2026, 1, 20))
    # S = a b d g; E = a c d e g; N = c e; churned = b; in the window a 1, c 2, d 1, e 1.
    assert {key: found[key] for key in ORDER_KEYS} == {
        "customers_active_at_start": 4,
        "customers_active_at_end": 5,
        "new_customers_active_at_end": 2,
        "churned_customers": 1,
        "repeat_customers": 1,
        "buying_customers": 4,
        "retention_rate": 75.0,  # (5 - 2) / 4
        "churn_rate": 25.0,  # 1 / 4
        "repeat_purchase_rate": 25.0,  # 1 / 4
    }
    assert (found["time_zone"], found["from"], found["to"]) == (
        "America/New_York",
        "2026-01-10",
        "2026-01-20",
    )


async def test_a_shorter_inactivity_threshold_changes_who_is_active(database: Database) -> None:
    workspace = await _new_york_shop(database)
    await _orders(database, workspace.id)
    async with database.session() as session:
        found = await metrics.summary(
            session,
            workspace.id,
            first_day=date(2026, 1, 10),
            end_day=date(2026, 1, 20),
            inactivity_days=30,
        )
    # 30 days: active at from needs an order after 12-11 05:00Z: d and g (a's is 12-01).
    # Active at to (after 12-21 05:00Z): a c d e. N = c e. Churned: g.
    assert (found.customers_active_at_start, found.customers_active_at_end) == (2, 4)
    assert (found.retention_rate, found.churn_rate) == (100.0, 50.0)


async def test_an_empty_window_has_no_rates(database: Database) -> None:
    workspace = await _new_york_shop(database)
    await _orders(database, workspace.id)
    found = await _summary(database, workspace.id, date(2024, 1, 1), date(2024, 2, 1))
    assert {key: found[key] for key in ORDER_KEYS} == {
        "customers_active_at_start": 0,
        "customers_active_at_end": 0,
        "new_customers_active_at_end": 0,
        "churned_customers": 0,
        "repeat_customers": 0,
        "buying_customers": 0,
        "retention_rate": None,
        "churn_rate": None,
        "repeat_purchase_rate": None,
    }
    assert (found["nps"], found["csat"], found["ces"], found["volume"]) == (None, None, None, 0)
    assert (found["first_response_seconds_p50"], found["containment_rate"]) == (None, None)


ORDER_KEYS = (
    "customers_active_at_start",
    "customers_active_at_end",
    "new_customers_active_at_end",
    "churned_customers",
    "repeat_customers",
    "buying_customers",
    "retention_rate",
    "churn_rate",
    "repeat_purchase_rate",
)


def _reference_query(
    workspace_id: str, start: datetime, end: datetime, inactivity: timedelta
) -> Select[Any]:
    """The definitions of docs/metrics.md as one SQL statement, independent of the product's
    counting: per customer, flags over the orders of (start - threshold, end), and whether
    a new buyer ordered before that span."""
    placed = Order.placed_at

    def flag(condition: Any) -> Any:
        return case((condition, 1), else_=0)

    per_customer = (
        select(
            Order.customer_id.label("customer_id"),
            func.max(flag(placed < start)).label("at_start"),
            func.max(flag(placed > end - inactivity)).label("at_end"),
            func.sum(flag(placed >= start)).label("in_window"),
        )
        .where(
            Order.workspace_id == workspace_id,
            Order.customer_id.is_not(None),
            placed > start - inactivity,
            placed < end,
            counted_order(),
        )
        .group_by(Order.customer_id)
        .subquery()
    )
    row = per_customer.c
    earlier = aliased(Order)
    ordered_before = (
        select(earlier.placed_at)
        .where(
            earlier.workspace_id == workspace_id,
            earlier.customer_id == row.customer_id,
            earlier.placed_at <= start - inactivity,
            counted_order(earlier),
        )
        .exists()
    )
    new = and_(row.at_start == 0, row.at_end == 1, not_(ordered_before))
    return select(
        func.coalesce(func.sum(row.at_start), 0),
        func.coalesce(func.sum(row.at_end), 0),
        func.coalesce(func.sum(flag(new)), 0),
        func.coalesce(func.sum(flag(and_(row.at_start == 1, row.at_end == 0))), 0),
        func.coalesce(func.sum(flag(row.in_window >= 2)), 0),
        func.coalesce(func.sum(flag(row.in_window >= 1)), 0),
    )


async def _reference(
    database: Database, workspace_id: str, first: date, end: date, time_zone: str = "UTC"
) -> dict[str, int]:
    span = window(first, end, time_zone)
    query = _reference_query(workspace_id, span.start, span.end, timedelta(days=90))
    async with database.session() as session:
        counts = (await session.execute(query)).one()
    return dict(zip(COUNTS, (int(count) for count in counts), strict=True))


COUNTS = ("customers_active_at_start", "customers_active_at_end", "new_customers_active_at_end",
          "churned_customers", "repeat_customers", "buying_customers")  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_each_day_of_a_series_counts_as_the_summary_of_that_day(
    database: Database, seed: int
) -> None:
    """Each day of a series, the summary of each day and of longer windows against the
    definitions in one SQL statement (`_reference_query`), on random histories: repeat
    buyers, gaps around the 90-day threshold, cancelled and refunded orders, buyers whose
    first order falls inside the window; read from the rows, then from day digests."""
    workspace = await make_workspace(database)
    pick = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    inputs = []
    for number in range(300):
        status = pick.choice(["completed"] * 8 + ["cancelled", "refunded"])
        total = Decimal(pick.randint(1, 9) * 10)
        inputs.append(
            OrderInput(
                order_key=f"o{number}", status=OrderStatus(status), origin="csv",
                channel="web", customer_id=f"c{pick.randrange(120)}",
                placed_at=start + timedelta(hours=pick.randrange(-200 * 24, 14 * 24)),
                total=total, refunded=total if status == "refunded" else Decimal(0),
            )
        )  # fmt: skip
    async with database.session() as session:
        await orders.apply_many(session, workspace.id, inputs)
    first, end = date(2026, 1, 1), date(2026, 1, 15)
    for digested in (False, True):
        if digested:  # the same figures from the day digests of every closed day
            assert await _digest_all(database, workspace.id) > 0
        async with database.session() as session:
            series = await metrics.series(session, workspace.id, first_day=first, end_day=end)
        for point in series.points:
            day = point.day, point.day + timedelta(days=1)
            expected = await _reference(database, workspace.id, *day)
            assert {key: point.metrics.flat()[key] for key in COUNTS} == expected
            summary = await _summary(database, workspace.id, *day)
            assert {key: summary[key] for key in COUNTS} == expected
        for length in (3, 7, 14):
            stretch = first, first + timedelta(days=length)
            summary = await _summary(database, workspace.id, *stretch)
            expected = await _reference(database, workspace.id, *stretch)
            assert {key: summary[key] for key in COUNTS} == expected
        assert sum(point.metrics.flat()["buying_customers"] for point in series.points) > 0


async def _digest_all(database: Database, workspace_id: str) -> int:
    """Digest every closed day of the workspace (the job's step until none is left)."""
    while True:
        async with database.session() as session:
            calendar = await calendars.load(session, workspace_id)
            left = await digests.digest_days(
                session, workspace_id, ORDER_DIGESTS, calendar, datetime.now(UTC)
            )
        if not left:
            break
    async with database.session() as session:
        query = select(func.count()).where(DayDigest.workspace_id == workspace_id)
        return (await session.execute(query)).scalar_one()
