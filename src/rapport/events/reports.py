"""Order queries for the CX metrics (retention, churn, repeat purchase): one statement each,
grouped in the database, never a loop over customers. The analytics domain reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

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


def counted_order() -> ColumnElement[bool]:
    """Return the condition of an order that counts: not cancelled, not fully refunded."""
    fully_refunded = and_(
        Order.refunded >= Order.total,
        or_(Order.refunded > 0, Order.status == OrderStatus.refunded.value),
    )
    return and_(Order.status != OrderStatus.cancelled.value, not_(fully_refunded))


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
    placed = Order.placed_at
    per_customer = (
        select(
            func.max(_flag(and_(placed > start - inactivity, placed < start))).label("at_start"),
            func.max(_flag(placed > end - inactivity)).label("at_end"),
            func.min(placed).label("first_at"),
            func.sum(_flag(placed >= start)).label("in_window"),
        )
        .where(
            Order.workspace_id == workspace_id,
            Order.customer_id.is_not(None),
            placed < end,
            counted_order(),
        )
        .group_by(Order.customer_id)
        .subquery()
    )
    row = per_customer.c
    totals = select(
        func.coalesce(func.sum(row.at_start), 0),
        func.coalesce(func.sum(row.at_end), 0),
        func.coalesce(func.sum(_flag(and_(row.first_at >= start, row.at_end == 1))), 0),
        func.coalesce(func.sum(_flag(and_(row.at_start == 1, row.at_end == 0))), 0),
        func.coalesce(func.sum(_flag(row.in_window >= 2)), 0),
        func.coalesce(func.sum(_flag(row.in_window >= 1)), 0),
    )
    counts = (await session.execute(totals)).one()
    return CustomerActivity(*(int(value) for value in counts))
