"""A per-day series equals the summary of each of its days, exactly: one grouped read per
metric family cuts the same local days (a DST change included) as a window of one day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event

from rapport.analytics.service import MetricsFilters, metrics
from rapport.core.db import Database
from rapport.events.enums import OrderStatus
from rapport.events.orders import OrderInput, orders
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from rapport.support.enums import Channel, ConversationStatus
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.metrics import Desk, staff_acting

# New York moves from UTC-5 to UTC-4 at 2026-03-08 07:00Z: local 03-08 is 23 hours long,
# [03-08 05:00Z, 03-09 04:00Z).
FIRST, END = date(2026, 3, 6), date(2026, 3, 11)
RESOLVED, OPEN = ConversationStatus.resolved, ConversationStatus.open
ORDERS = [
    ("a", "2026-01-07T05:30"),  # with 60 days: active from 03-08 05:00Z, not at 03-09 04:00Z
    ("a", "2026-03-09T04:30"),  # 03-09 00:30 EDT: a new purchase the next local day
    ("b", "2026-03-08T04:59"),  # 03-07 23:59 EST
    ("b", "2026-03-08T05:00"),  # 03-08 00:00 EST: b's first orders, one each side of midnight
    ("b", "2026-03-09T03:59"),  # 03-08 23:59 EDT: b's second order of 03-08
    ("c", "2026-03-09T04:00"),  # 03-09 00:00 EDT
    ("c", "2026-03-10T12:00"),
    ("d", "2025-12-01T12:00"),  # an old customer back on 03-10, not new
    ("d", "2026-03-10T12:00"),
]


async def _shop(database: Database) -> tuple[Desk, str]:
    workspace = await make_workspace(database)
    async with database.session() as session:
        stored = await session.get(Workspace, workspace.id)
        assert stored is not None
        stored.time_zone = "America/New_York"
    ana = (await make_staff(database, workspace, Role.agent)).user.id
    inputs = [
        OrderInput(
            order_key=f"o{number}", status=OrderStatus.completed, origin="csv", channel="web",
            placed_at=datetime.fromisoformat(placed).replace(tzinfo=UTC), customer_id=customer,
            total=Decimal(20), refunded=Decimal(0),
        )
        for number, (customer, placed) in enumerate(ORDERS)
    ]  # fmt: skip
    async with database.session() as session:
        await orders.apply_many(session, workspace.id, inputs)
    return Desk(database, workspace.id), ana


async def _play(desk: Desk, ana: str) -> None:
    """Conversations whose events fall on both sides of local midnights around the change."""
    w = await desk.open("2026-03-05T15:00")  # resolved before the window, reopened in it
    await desk.status(w, "2026-03-05T16:00", RESOLVED, staff_acting(ana))
    await desk.status(w, "2026-03-09T12:00", OPEN, staff_acting(ana))
    await desk.status(w, "2026-03-10T12:00", RESOLVED, staff_acting(ana))
    x = await desk.open("2026-03-08T04:30")  # 03-07 23:30 EST
    await desk.assign(x, "2026-03-08T04:40", ana)
    await desk.reply(x, "2026-03-08T05:30", ana)  # 03-08 00:30 EST
    await desk.status(x, "2026-03-08T06:00", RESOLVED, staff_acting(ana))
    await desk.status(x, "2026-03-09T03:30", OPEN, staff_acting(ana))  # reopened 03-08 23:30
    await desk.reply(x, "2026-03-09T04:30", ana)  # 03-09 00:30 EDT
    await desk.status(x, "2026-03-09T05:00", RESOLVED, staff_acting(ana))
    y = await desk.open("2026-03-08T06:59")  # 01:59 EST
    await desk.assign(y, "2026-03-08T07:00", ana)
    await desk.reply(y, "2026-03-08T07:01", ana)  # 03:01 EDT
    await desk.status(y, "2026-03-10T03:59", RESOLVED, staff_acting(ana))  # 03-09 23:59 EDT
    z = await desk.open("2026-03-09T03:59", channel=Channel.chat)  # 03-08 23:59 EDT
    await desk.status(z, "2026-03-09T04:10", ConversationStatus.closed, staff_acting(ana))
    await desk.open("2026-03-10T04:00")  # 03-10 00:00 EDT, still open: backlog


async def test_each_point_equals_the_summary_of_its_day(database: Database) -> None:
    desk, ana = await _shop(database)
    await _play(desk, ana)
    every = None
    for filters in (MetricsFilters(), MetricsFilters(channel=Channel.chat)):
        async with database.session() as session:
            series = await metrics.series(
                session, desk.workspace_id, first_day=FIRST, end_day=END, filters=filters,
                inactivity_days=60,
            )  # fmt: skip
        every = every or series
        assert [point.day for point in series.points] == [
            FIRST + timedelta(days=offset) for offset in range(5)
        ]
        for point in series.points:
            async with database.session() as session:
                alone = await metrics.summary(
                    session, desk.workspace_id, first_day=point.day,
                    end_day=point.day + timedelta(days=1), filters=filters, inactivity_days=60,
                )  # fmt: skip
            assert point.metrics.flat() == alone.flat(), point.day
    assert every is not None
    day8, day9 = (point.metrics for point in every.points[2:4])
    # 03-08 is [03-08 05:00Z, 03-09 04:00Z). Active at its start: a (01-07 05:30) and b
    # (03-08 04:59); at its end only b, so a churned; b bought twice in it and is not new.
    assert (day8.customers_active_at_start, day8.customers_active_at_end) == (2, 1)
    assert (day8.churned_customers, day8.new_customers_active_at_end) == (1, 0)
    assert (day8.buying_customers, day8.repeat_customers) == (1, 1)
    # y and z opened in it (x the evening before); x resolved and was reopened.
    assert (day8.volume, day8.resolutions, day8.reopened_resolutions) == (2, 1, 1)
    # 03-09 is [03-09 04:00Z, 03-10 04:00Z): a and c bought, c for the first time ever.
    assert (day9.customers_active_at_start, day9.customers_active_at_end) == (1, 3)
    assert (day9.new_customers_active_at_end, day9.buying_customers) == (1, 2)
    assert (day9.volume, day9.resolutions) == (0, 2)
    # Unfinished at each day's end: x (03-07); x reopened, y, z (closed just after); w
    # reopened (03-09); the one opened 03-10.
    assert [point.metrics.backlog for point in every.points] == [0, 1, 3, 1, 1]


async def test_a_series_of_one_day_is_that_days_summary(database: Database) -> None:
    desk, ana = await _shop(database)
    await _play(desk, ana)
    day = date(2026, 3, 8)
    async with database.session() as session:
        series = await metrics.series(
            session, desk.workspace_id, first_day=day, end_day=day + timedelta(days=1)
        )
        alone = await metrics.summary(
            session, desk.workspace_id, first_day=day, end_day=day + timedelta(days=1)
        )
    assert [point.metrics.flat() for point in series.points] == [alone.flat()]
    assert (alone.volume, alone.backlog) == (2, 3)


async def test_the_series_reads_each_family_once_not_once_a_day(database: Database) -> None:
    desk, ana = await _shop(database)
    await _play(desk, ana)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with database.session() as session:
            await metrics.series(
                session, desk.workspace_id, first_day=FIRST, end_day=FIRST + timedelta(days=60)
            )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) < 20, len(statements)


async def test_each_group_of_a_breakdown_equals_the_summary_filtered_to_it(
    database: Database,
) -> None:
    desk, ana = await _shop(database)
    await _play(desk, ana)
    narrow = {"channel": "channel", "team": "team_id", "agent": "staff_id"}
    for by in ("channel", "agent"):
        async with database.session() as session:
            found = await metrics.breakdown(
                session, desk.workspace_id, first_day=FIRST, end_day=END, by=by
            )
        assert [group.key for group in found.groups] == (
            ["api", "chat"] if by == "channel" else [ana]
        )
        for group in found.groups:
            filters = MetricsFilters(**{narrow[by]: group.key})
            async with database.session() as session:
                alone = await metrics.summary(
                    session, desk.workspace_id, first_day=FIRST, end_day=END, filters=filters
                )
            expected = alone.flat()  # orders belong to no group: left out of a breakdown
            for key, value in group.metrics.flat().items():
                if key not in ORDER_FIGURES:
                    assert (key, value) == (key, expected[key]), group.key


ORDER_FIGURES = {
    "retention_rate", "churn_rate", "repeat_purchase_rate", "customers_active_at_start",
    "customers_active_at_end", "new_customers_active_at_end", "churned_customers",
    "repeat_customers", "buying_customers",
}  # fmt: skip


async def test_shared_reads_read_a_windows_events_once_with_the_same_figures(
    database: Database,
) -> None:
    desk, ana = await _shop(database)
    await _play(desk, ana)
    window = {"first_day": FIRST, "end_day": END}
    before = {"first_day": FIRST - timedelta(days=5), "end_day": FIRST}

    async def page(session: Any) -> list[Any]:
        """What the dashboard page asks: two summaries, a series, three breakdowns."""
        found = [
            await metrics.summary(session, desk.workspace_id, **window),
            await metrics.summary(session, desk.workspace_id, **before),
            await metrics.series(session, desk.workspace_id, **window),
        ]
        for by in ("channel", "team", "agent"):
            found.append(await metrics.breakdown(session, desk.workspace_id, by=by, **window))
        return [figures.model_dump() for figures in found]

    reads: list[str] = []
    order_reads: list[str] = []

    def count(*args: Any) -> None:
        statement = str(args[2])
        if "FROM conversation_metric_events" in statement and "ORDER BY" in statement:
            reads.append(statement)  # the read of a window's events (`read_facts`)
        if "FROM orders" in statement and "ORDER BY orders.placed_at" in statement:
            order_reads.append(statement)  # a window's orders (`counted_orders_query`)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with database.session() as session:
            apart = await page(session)
        read_apart, reads[:] = len(reads), []
        orders_apart, order_reads[:] = len(order_reads), []
        async with database.session() as session:
            with metrics.shared_reads(session), metrics.shared_reads(session):
                shared = await page(session)
            after = await metrics.summary(session, desk.workspace_id, **window)  # not shared
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (read_apart, len(reads)) == (6, 2 + 1)  # the window and the one before, then fresh
    # The orders of the window (its summary and series) and of the one before, then fresh.
    assert (orders_apart, len(order_reads)) == (3, 2 + 1)
    assert shared == apart
    assert after.model_dump() == apart[0]
