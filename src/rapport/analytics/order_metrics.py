"""Retention, churn and repeat purchase over orders.

A window [start, end) needs the counted orders placed in (start - threshold, end): its
closed days come from their day digests (`analytics.digests`), the rest from the rows
(`events.reports.counted_orders_query`). They are counted as arrays, every bucket of a
per-day series in the same pass: each order makes its customer active at the bucket
boundaries in (order, order + threshold); a customer's overlapping stretches merge; the
boundaries where each stretch begins and ends, summed once, give who is active at each. Whether
a buyer's first order in the span is their first ever is looked up for the buyers who had
none in the threshold before the window (`events.reports.ordered_before`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics import digests, shared
from rapport.analytics.definitions import rate, retention_rate
from rapport.analytics.fact_columns import Coder, micros
from rapport.events.reports import counted_orders_query, first_order_time, ordered_before
from rapport.support.calendars import BusinessCalendar

# A customer is active while their last counted order is less than this many days old;
# `rapport metrics show --inactivity-days` and `?inactivity_days=` choose another.
DEFAULT_INACTIVITY_DAYS = 90
Figures = dict[str, float | int | None]


@dataclass(frozen=True)
class CustomerActivity:
    """Customer counts behind retention, churn and repeat purchase for one window."""

    active_at_start: int  # S: a counted order in (start - threshold, start)
    active_at_end: int  # E: a counted order in (end - threshold, end)
    new_active_at_end: int  # N: first counted order in [start, end), active at end
    churned: int  # active at start, not at end
    repeat_buyers: int  # 2+ counted orders placed in [start, end)
    buyers: int  # 1+ counted orders placed in [start, end)


@dataclass(frozen=True)
class OrderColumns:
    """Counted orders as two arrays, oldest first: when each was placed (`micros`) and its
    customer (an index into `customers`)."""

    at: NDArray[np.int64]
    customer: NDArray[np.int32]
    customers: Sequence[str]

    @classmethod
    def from_rows(cls, rows: Sequence[Any]) -> OrderColumns:
        """Return the rows of `counted_orders_query` as columns."""
        coder = Coder()
        customers = coder.encode([str(customer) for customer, _at in rows])
        at = np.array([micros(at) for _customer, at in rows], dtype=np.int64)
        return cls(at, customers, coder.names())

    @classmethod
    def joined(cls, parts: Sequence[OrderColumns]) -> OrderColumns:
        """Return the orders of `parts` (each later than the one before) as one."""
        if len(parts) == 1:
            return parts[0]
        coder = Coder()
        customers = [coder.recode(part.customers, part.customer) for part in parts]
        at = np.concatenate([part.at for part in parts])
        return cls(at, np.concatenate(customers), coder.names())


async def order_figures(
    session: AsyncSession,
    workspace_id: str,
    span: tuple[datetime, datetime],
    calendar: BusinessCalendar,
    inactivity_days: int,
) -> Figures:
    """Return retention, churn and repeat purchase of [start, end) with their counts."""
    (figures,) = await daily_order_figures(
        session, workspace_id, list(span), calendar, inactivity_days
    )
    return figures


async def daily_order_figures(
    session: AsyncSession,
    workspace_id: str,
    bounds: Sequence[datetime],
    calendar: BusinessCalendar,
    inactivity_days: int,
) -> list[Figures]:
    """Return `order_figures` of each bucket [bounds[i], bounds[i + 1]), from one read."""
    inactivity = timedelta(days=inactivity_days)
    key = ("orders", workspace_id, bounds[0], bounds[-1], inactivity, calendar.time_zone)
    orders = await shared.once(
        session,
        key,
        lambda: _window_orders(
            session, workspace_id, (bounds[0], bounds[-1]), inactivity, calendar
        ),
    )
    counted = _count(
        orders.at,
        orders.customer,
        np.array([micros(bound) for bound in bounds], dtype=np.int64),
        inactivity // timedelta(microseconds=1),
    )
    first_ever = ~np.isin(counted.fresh, orders.ordered_before)
    return [_figures(activity) for activity in counted.activities(first_ever)]


@dataclass(frozen=True)
class _WindowOrders:
    """The counted orders placed in (start - threshold, end), and which of the customers
    whose first of them is in the window ordered before that span."""

    at: NDArray[np.int64]
    customer: NDArray[np.int32]
    ordered_before: NDArray[np.int32]


async def _window_orders(
    session: AsyncSession,
    workspace_id: str,
    window: tuple[datetime, datetime],
    inactivity: timedelta,
    calendar: BusinessCalendar,
) -> _WindowOrders:
    """Read a window's orders: its closed days from their digests, the rest from the rows."""
    start, end = window
    since = start - inactivity

    async def read_rows(span: digests.Day) -> OrderColumns:
        rows = (await session.execute(counted_orders_query(workspace_id, *span))).all()
        return OrderColumns.from_rows(rows)

    variant = ORDER_DIGESTS.variant(calendar)
    parts = await digests.read_window(
        session, workspace_id, ORDER_DIGESTS.name, variant, (since, end), calendar.time_zone,
        read_rows, _from_digest,
    )  # fmt: skip
    orders = OrderColumns.joined(parts)
    # The span is (since, end): an order placed exactly at `since` is not in it.
    kept = orders.at > micros(since)
    at, customer = orders.at[kept], orders.customer[kept]
    # Customers whose first order of the span is in the window: new, unless they ordered
    # before the span.
    first = np.full(len(orders.customers), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, customer, at)
    fresh = np.flatnonzero((first >= micros(start)) & (first < micros(end)))
    names = [orders.customers[code] for code in fresh.tolist()]
    older = await ordered_before(session, workspace_id, names, since)
    known = np.array([name in older for name in names], dtype=np.bool_)
    return _WindowOrders(at, customer, fresh[known].astype(np.int32))


@dataclass(frozen=True)
class _Counted:
    """Per-bucket counts of a span's orders, but for the new customers, which wait for
    whether each fresh buyer's first order in the span is their first ever."""

    active: NDArray[np.int64]  # boundary -> customers active there
    churned: NDArray[np.int64]
    repeat: NDArray[np.int64]
    buyers: NDArray[np.int64]
    fresh: NDArray[np.int32]  # customers whose first order in the span is in a bucket
    new_bucket: NDArray[np.int64]  # each fresh customer's bucket if it would count as new

    def activities(self, first_ever: NDArray[np.bool_]) -> list[CustomerActivity]:
        """Return each bucket's counts, oldest first (`first_ever` per fresh customer)."""
        buckets = len(self.active) - 1
        chosen = self.new_bucket[first_ever & (self.new_bucket >= 0)]
        new = np.bincount(chosen, minlength=buckets)
        return [
            CustomerActivity(
                active_at_start=int(self.active[bucket]),
                active_at_end=int(self.active[bucket + 1]),
                new_active_at_end=int(new[bucket]),
                churned=int(self.churned[bucket]),
                repeat_buyers=int(self.repeat[bucket]),
                buyers=int(self.buyers[bucket]),
            )
            for bucket in range(buckets)
        ]


def _count(
    at: NDArray[np.int64],
    customer: NDArray[np.int32],
    bounds: NDArray[np.int64],
    inactivity: int,
) -> _Counted:
    """Count the orders (`at`, `customer`: microseconds, customer codes) over the buckets
    between `bounds` (k boundaries, k - 1 buckets; every order before the last boundary)."""
    size = len(bounds)
    order = np.lexsort((at, customer))
    at, customer = at[order], customer[order]
    starts = np.ones(len(at), dtype=np.bool_)  # the first order of each customer
    starts[1:] = customer[1:] != customer[:-1]
    # Boundaries [low, high) at which an order makes its customer active: bounds in
    # (at, at + inactivity). A customer's orders are in time order, so both ends only grow,
    # and a range overlapping or touching the one before merges into it.
    low = np.searchsorted(bounds, at, side="right")
    high = np.searchsorted(bounds, at + inactivity, side="left")
    covering = low < high
    c_low, c_high, c_customer = low[covering], high[covering], customer[covering]
    begins = np.ones(len(c_low), dtype=np.bool_)
    begins[1:] = (c_customer[1:] != c_customer[:-1]) | (c_low[1:] > c_high[:-1])
    ends = np.ones(len(c_low), dtype=np.bool_)
    ends[:-1] = begins[1:]
    stretch_low, stretch_high = c_low[begins], c_high[ends]
    stretch_customer = c_customer[begins]
    changes = np.bincount(stretch_low, minlength=size + 1) - np.bincount(
        stretch_high, minlength=size + 1
    )
    active = np.cumsum(changes)[:size]
    left = stretch_high[stretch_high < size] - 1  # active at boundary high - 1, not at high
    churned = np.bincount(left, minlength=size)[: size - 1]
    # Buyers per bucket: runs of one customer's orders in one bucket.
    bucket = low - 1
    run = np.ones(len(at), dtype=np.bool_)
    run[1:] = starts[1:] | (bucket[1:] != bucket[:-1])
    run_starts = np.flatnonzero(run)
    run_lengths = np.diff(np.append(run_starts, len(at)))
    run_bucket = bucket[run_starts]
    bought = run_bucket >= 0
    buyers = np.bincount(run_bucket[bought], minlength=size)[: size - 1]
    repeat = np.bincount(run_bucket[bought & (run_lengths >= 2)], minlength=size)[: size - 1]
    # New: a customer's first bucket, when one of their stretches covers its end boundary.
    first_bucket = bucket[starts]
    customers = customer[starts]
    fresh = first_bucket >= 0
    position = np.searchsorted(customers, stretch_customer)  # each stretch's customer
    target = first_bucket[position] + 1
    covers = (stretch_low <= target) & (target < stretch_high) & (first_bucket[position] >= 0)
    new_bucket = np.full(len(customers), -1, dtype=np.int64)
    new_bucket[position[covers]] = first_bucket[position[covers]]
    return _Counted(
        active=active.astype(np.int64),
        churned=churned.astype(np.int64),
        repeat=repeat.astype(np.int64),
        buyers=buyers.astype(np.int64),
        fresh=customers[fresh],
        new_bucket=new_bucket[fresh],
    )


def _figures(counted: CustomerActivity) -> Figures:
    return {
        "retention_rate": retention_rate(
            counted.active_at_start, counted.active_at_end, counted.new_active_at_end
        ),
        "churn_rate": rate(counted.churned, counted.active_at_start),
        "repeat_purchase_rate": rate(counted.repeat_buyers, counted.buyers),
        "customers_active_at_start": counted.active_at_start,
        "customers_active_at_end": counted.active_at_end,
        "new_customers_active_at_end": counted.new_active_at_end,
        "churned_customers": counted.churned,
        "repeat_customers": counted.repeat_buyers,
        "buying_customers": counted.buyers,
    }


class OrderDigests:
    """Counted orders with a customer as day digests (`analytics.digests`): a day's orders
    by placing time; nothing else depends on the calendar than the day's bounds."""

    name = "orders"

    def variant(self, calendar: BusinessCalendar) -> str:
        """Return the digests' layout (they depend on no setting)."""
        return digests.FORMAT

    async def first_time(self, session: AsyncSession, workspace_id: str) -> datetime | None:
        """Return when the workspace's first order was placed."""
        return await first_order_time(session, workspace_id)

    async def build(
        self,
        session: AsyncSession,
        workspace_id: str,
        day: digests.Day,
        calendar: BusinessCalendar,
    ) -> tuple[bytes, digests.Fingerprint]:
        """Return the day's digest and the fingerprint of the rows it was built from."""
        rows = (await session.execute(counted_orders_query(workspace_id, *day))).all()
        orders = OrderColumns.from_rows(rows)
        payload = digests.pack(
            {"at": orders.at, "customer": orders.customer}, {"customers": orders.customers}
        )
        return payload, _fingerprint(rows)

    async def fingerprint(
        self, session: AsyncSession, workspace_id: str, day: digests.Day
    ) -> digests.Fingerprint:
        """Return the count and a hash of the day's counted orders as read again (orders
        change: a refund, a cancellation)."""
        rows = (await session.execute(counted_orders_query(workspace_id, *day))).all()
        return _fingerprint(rows)


def _fingerprint(rows: Sequence[Any]) -> digests.Fingerprint:
    content = hashlib.sha256()
    for customer, at in rows:
        content.update(f"{customer}|{micros(at)}\n".encode())
    return digests.Fingerprint(len(rows), content.hexdigest())


def _from_digest(digest: digests.Unpacked) -> OrderColumns:
    """Return a digest's orders (ValueError when its arrays and codes do not fit)."""
    try:
        at, customer = digest.arrays["at"], digest.arrays["customer"]
        customers = digest.names["customers"]
    except KeyError as error:
        raise ValueError(f"an order digest lacks {error}") from error
    if at.dtype != np.int64 or customer.dtype.kind != "i" or len(at) != len(customer):
        raise ValueError("an order digest's columns do not fit")
    if len(customer) and (int(customer.min()) < 0 or int(customer.max()) >= len(customers)):
        raise ValueError("an order digest's customer code names nothing")
    return OrderColumns(
        at.astype(np.int64, copy=False), customer.astype(np.int32, copy=False), customers
    )


ORDER_DIGESTS = OrderDigests()
