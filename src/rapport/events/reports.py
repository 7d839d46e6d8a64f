"""Order queries for the CX metrics (retention, churn, repeat purchase): one statement per
window, grouped in the database; a per-day series reads its window's orders once and counts
every day of it in one pass. The analytics domain reads them."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from rapport.events.enums import OrderStatus
from rapport.events.models import Order


@dataclass(frozen=True)
class CustomerActivity:
    """Customer counts behind retention, churn and repeat purchase for one window."""

    active_at_start: int  # S: a counted order in (start - threshold, start)
    active_at_end: int  # E: a counted order in (end - threshold, end)
    new_active_at_end: int  # N: first counted order in [start, end), active at end
    churned: int  # active at start, not at end
    repeat_buyers: int  # 2+ counted orders placed in [start, end)
    buyers: int  # 1+ counted orders placed in [start, end)


def counted_order(order: type[Order] = Order) -> ColumnElement[bool]:
    """Return the condition of an order that counts: not cancelled, not fully refunded."""
    fully_refunded = and_(
        order.refunded >= order.total,
        or_(order.refunded > 0, order.status == OrderStatus.refunded.value),
    )
    return and_(order.status != OrderStatus.cancelled.value, not_(fully_refunded))


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


async def customer_activity(
    session: AsyncSession,
    workspace_id: str,
    *,
    start: datetime,
    end: datetime,
    inactivity: timedelta,
) -> CustomerActivity:
    """Count active, new, churned and repeat customers of [start, end) in one query."""
    totals = customer_activity_query(workspace_id, start=start, end=end, inactivity=inactivity)
    counts = (await session.execute(totals)).one()
    return CustomerActivity(*(int(value) for value in counts))


def customer_activity_query(
    workspace_id: str, *, start: datetime, end: datetime, inactivity: timedelta
) -> Select[Any]:
    """Return the statement `customer_activity` runs: over the orders placed from the
    threshold before `start` on (`ix_orders_placed`), never the whole history; whether a
    customer's first order in that span is their first ever is looked up per candidate."""
    placed = Order.placed_at
    # Grouped by an expression no index can order: with `ix_orders_customer` covering too,
    # SQLite (planning without statistics) would walk it over every order of the workspace
    # to group without a sort, rather than read the window from `ix_orders_placed`.
    customer = Order.customer_id.concat("")
    per_customer = (
        select(
            customer.label("customer_id"),
            func.max(_flag(placed < start)).label("at_start"),
            func.max(_flag(placed > end - inactivity)).label("at_end"),
            func.min(placed).label("first_at"),
            func.sum(_flag(placed >= start)).label("in_window"),
        )
        .where(
            Order.workspace_id == workspace_id,
            Order.customer_id.is_not(None),
            placed > start - inactivity,
            placed < end,
            counted_order(),
        )
        .group_by(customer)
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
        func.coalesce(func.sum(_flag(new)), 0),
        func.coalesce(func.sum(_flag(and_(row.at_start == 1, row.at_end == 0))), 0),
        func.coalesce(func.sum(_flag(row.in_window >= 2)), 0),
        func.coalesce(func.sum(_flag(row.in_window >= 1)), 0),
    )


# Customers whose earlier orders are looked up per statement (bound parameters stay few).
LOOKUP_CHUNK = 500


async def daily_customer_activity(
    session: AsyncSession,
    workspace_id: str,
    *,
    bounds: Sequence[datetime],
    inactivity: timedelta,
) -> list[CustomerActivity]:
    """Count `customer_activity` of each bucket [bounds[i], bounds[i + 1]) from one read of
    the counted orders placed in (bounds[0] - threshold, bounds[-1]), in the order of
    `ix_orders_placed` (no sort): each customer's times come out sorted."""
    placed = Order.placed_at
    query = (
        select(Order.customer_id, placed)
        .where(
            Order.workspace_id == workspace_id,
            Order.customer_id.is_not(None),
            placed > bounds[0] - inactivity,
            placed < bounds[-1],
            counted_order(),
        )
        .order_by(placed)
    )
    histories: dict[str, list[datetime]] = defaultdict(list)
    for customer_id, at in await session.execute(query):
        histories[str(customer_id)].append(at)
    fresh = [customer for customer, times in histories.items() if times[0] >= bounds[0]]
    older = await _ordered_before(session, workspace_id, fresh, bounds[0] - inactivity)
    tally = _Tally(list(bounds), inactivity)
    for customer_id, times in histories.items():
        tally.add(times, first_ever=customer_id not in older)
    return tally.activities()


async def _ordered_before(
    session: AsyncSession, workspace_id: str, customer_ids: Sequence[str], moment: datetime
) -> set[str]:
    """Return those of these customers with a counted order placed at or before `moment`."""
    found: set[str] = set()
    for offset in range(0, len(customer_ids), LOOKUP_CHUNK):
        chunk = customer_ids[offset : offset + LOOKUP_CHUNK]
        rows = await session.execute(first_orders_query(workspace_id, chunk))
        found.update(str(customer_id) for customer_id, first in rows if first <= moment)
    return found


def first_orders_query(
    workspace_id: str, customer_ids: Sequence[str]
) -> Select[str | None, datetime]:
    """Return each of these customers' first counted order time, from `ix_orders_customer`
    alone (their own orders). No bound on the time: with one, SQLite (planning without
    statistics) chose to scan `ix_orders_placed` over every order before it, per chunk."""
    return (
        select(Order.customer_id, func.min(Order.placed_at))
        .where(
            Order.workspace_id == workspace_id,
            Order.customer_id.in_(customer_ids),
            counted_order(),
        )
        .group_by(Order.customer_id)
    )


class _Tally:
    """Per-bucket counts built one customer at a time (boundary k is bounds[k]). A customer
    active over boundaries [low, high) adds 1 at low and -1 at high of `starts`, summed once
    at the end: the cost is per order, not per order and day of the window."""

    def __init__(self, bounds: list[datetime], inactivity: timedelta) -> None:
        self.bounds, self.inactivity = bounds, inactivity
        size = len(bounds) + 1
        self.starts = [0] * size  # boundary -> customers becoming active there, minus leaving
        self.counters = {name: [0] * size for name in ("new", "churned", "repeat", "buyers")}

    def add(self, times: list[datetime], *, first_ever: bool) -> None:
        """Count one customer's counted orders (sorted) of the read span."""
        covered = self._covered(times)
        churned = self.counters["churned"]
        for low, high in covered:
            self.starts[low] += 1
            self.starts[high] -= 1
            if high < len(self.bounds):  # active at boundary high - 1, not at high
                churned[high - 1] += 1
        buyers, repeat = self.counters["buyers"], self.counters["repeat"]
        buckets = [bisect_right(self.bounds, at) - 1 for at in times]
        for index, bucket in enumerate(buckets):  # sorted: a bucket's orders are adjacent
            if bucket >= 0 and (index == 0 or buckets[index - 1] != bucket):
                buyers[bucket] += 1
                repeat[bucket] += index + 1 < len(buckets) and buckets[index + 1] == bucket
        first = buckets[0]
        if first_ever and first >= 0 and any(low <= first + 1 < high for low, high in covered):
            self.counters["new"][first] += 1

    def _covered(self, times: list[datetime]) -> list[tuple[int, int]]:
        """Return the boundary ranges [low, high) at which the customer is active: those in
        (t, t + threshold) for one of their orders t, merged."""
        ranges: list[tuple[int, int]] = []
        for at in times:
            low = bisect_right(self.bounds, at)
            high = bisect_left(self.bounds, at + self.inactivity)
            if low >= high:
                continue
            if ranges and low <= ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], max(high, ranges[-1][1]))
            else:
                ranges.append((low, high))
        return ranges

    def activities(self) -> list[CustomerActivity]:
        """Return each bucket's counts, oldest first."""
        counters = self.counters
        active = list(accumulate(self.starts))  # boundary -> customers active there
        return [
            CustomerActivity(
                active_at_start=active[bucket],
                active_at_end=active[bucket + 1],
                new_active_at_end=counters["new"][bucket],
                churned=counters["churned"][bucket],
                repeat_buyers=counters["repeat"][bucket],
                buyers=counters["buyers"][bucket],
            )
            for bucket in range(len(self.bounds) - 1)
        ]
