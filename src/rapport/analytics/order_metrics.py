"""Retention, churn and repeat purchase over orders (the events domain's report query)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics.definitions import rate, retention_rate
from rapport.events.reports import CustomerActivity, customer_activity, daily_customer_activity

# A customer is active while their last counted order is less than this many days old;
# `rapport metrics show --inactivity-days` and `?inactivity_days=` choose another.
DEFAULT_INACTIVITY_DAYS = 90
Figures = dict[str, float | int | None]


async def order_figures(
    session: AsyncSession,
    workspace_id: str,
    start: datetime,
    end: datetime,
    inactivity_days: int,
) -> Figures:
    """Return retention, churn and repeat purchase of [start, end) with their counts."""
    counted = await customer_activity(
        session, workspace_id, start=start, end=end, inactivity=timedelta(days=inactivity_days)
    )
    return _figures(counted)


async def daily_order_figures(
    session: AsyncSession,
    workspace_id: str,
    bounds: Sequence[datetime],
    inactivity_days: int,
) -> list[Figures]:
    """Return `order_figures` of each bucket [bounds[i], bounds[i + 1]), from one read."""
    counted = await daily_customer_activity(
        session, workspace_id, bounds=bounds, inactivity=timedelta(days=inactivity_days)
    )
    return [_figures(activity) for activity in counted]


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
