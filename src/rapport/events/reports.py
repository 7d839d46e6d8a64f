"""Order queries for the CX metrics (retention, churn, repeat purchase): the counted orders
placed in a span, from `ix_orders_placed` alone, and which customers ordered before a time,
from `ix_orders_customer` alone. The analytics domain reads them and counts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.events.enums import OrderStatus
from rapport.events.models import Order


def counted_order(order: type[Order] = Order) -> ColumnElement[bool]:
    """Return the condition of an order that counts: not cancelled, not fully refunded."""
    fully_refunded = and_(
        order.refunded >= order.total,
        or_(order.refunded > 0, order.status == OrderStatus.refunded.value),
    )
    return and_(order.status != OrderStatus.cancelled.value, not_(fully_refunded))


def counted_orders_query(
    workspace_id: str, start: datetime, end: datetime
) -> Select[str | None, datetime]:
    """Return the customer and time of each counted order with a customer placed in
    [start, end), oldest first, in the order of `ix_orders_placed` (no sort)."""
    placed = Order.placed_at
    return (
        select(Order.customer_id, placed)
        .where(
            Order.workspace_id == workspace_id,
            Order.customer_id.is_not(None),
            placed >= start,
            placed < end,
            counted_order(),
        )
        .order_by(placed)
    )


async def first_order_time(session: AsyncSession, workspace_id: str) -> datetime | None:
    """Return when the workspace's first order was placed (one index seek)."""
    query = select(func.min(Order.placed_at)).where(Order.workspace_id == workspace_id)
    first: datetime | None = (await session.execute(query)).scalar_one_or_none()
    return first


async def ordered_before(
    session: AsyncSession, workspace_id: str, customer_ids: Sequence[str], moment: datetime
) -> set[str]:
    """Return those of these customers with a counted order placed at or before `moment`:
    one statement, one look-up in `ix_orders_customer` per customer."""
    if not customer_ids:
        return set()
    bind = session.bind
    postgres = bind is not None and bind.dialect.name == "postgresql"
    query = ordered_before_query(workspace_id, customer_ids, moment, postgres=postgres)
    return {str(customer_id) for customer_id in (await session.execute(query)).scalars()}


def ordered_before_query(
    workspace_id: str, customer_ids: Sequence[str], moment: datetime, *, postgres: bool
) -> Select[str]:
    """Return the statement of `ordered_before`: the ids arrive as one parameter (a JSON
    array on SQLite, an array on PostgreSQL), however many there are."""
    if postgres:
        ids = sa.literal(list(customer_ids), ARRAY(sa.String()))
        given = func.unnest(ids).table_valued("value").render_derived()
    else:
        given = func.json_each(json.dumps(list(customer_ids))).table_valued("value")
    earlier = (
        select(Order.placed_at)
        .where(
            Order.workspace_id == workspace_id,
            Order.customer_id == given.c.value,
            Order.placed_at <= moment,
            counted_order(),
        )
        .exists()
    )
    return select(given.c.value).where(earlier)
