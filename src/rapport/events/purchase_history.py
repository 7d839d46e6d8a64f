"""Customers' purchase histories as lifetime models read them: per live profile (its merged
profiles' orders included), purchase days, the first and the last, and the value of the
repeat ones. Cancelled and fully refunded orders do not count; a partial refund lowers the
order's value. Days are UTC calendar days; several orders on one day are one purchase."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc
from rapport.customers.merges import merges
from rapport.events.enums import OrderStatus
from rapport.events.models import Order

COUNTED = (OrderStatus.completed, OrderStatus.updated, OrderStatus.refunded)


@dataclass(frozen=True)
class PurchaseHistory:
    """One live profile's purchases before a moment, in days."""

    customer_id: str
    frequency: int  # purchase days after the first
    recency_days: int  # from the first purchase day to the last
    age_days: int  # from the first purchase day to the day of the moment
    repeat_value: Decimal  # mean net value of the purchase days after the first (0 without)
    currency: str | None  # None when the orders are in several currencies


@dataclass(frozen=True)
class HistoryPage:
    """Some profiles' histories and where the next page starts (None: this was the last)."""

    histories: list[PurchaseHistory]
    next_after: str | None


def _counted(before: datetime) -> list[ColumnElement[bool]]:
    return [
        Order.status.in_(COUNTED),
        or_(Order.refunded <= 0, Order.refunded < Order.total),
        Order.placed_at < before,
        Order.customer_id.is_not(None),
    ]


class PurchaseHistoryRepository:
    """The statements behind purchase histories, scoped to one workspace."""

    def __init__(self, session: AsyncSession, workspace_id: str) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def buyers(self, before: datetime, after: str | None, limit: int) -> list[str]:
        """Return the next profiles (by id, as orders name them) with counted orders."""
        query = select(Order.customer_id).where(
            Order.workspace_id == self.workspace_id, *_counted(before)
        )
        if after is not None:
            query = query.where(Order.customer_id > after)
        query = query.distinct().order_by(Order.customer_id).limit(limit)
        return [str(row[0]) for row in await self.session.execute(query)]

    async def orders(
        self, customer_ids: list[str], before: datetime
    ) -> list[tuple[str, datetime, Decimal, str]]:
        """Return (profile, placed at, net value, currency) of these profiles' counted orders."""
        rows = await self.session.execute(
            select(
                Order.customer_id, Order.placed_at, Order.total - Order.refunded, Order.currency
            ).where(
                Order.workspace_id == self.workspace_id,
                Order.customer_id.in_(customer_ids),
                *_counted(before),
            )
        )
        return [(str(r[0]), as_utc(r[1]), Decimal(str(r[2])), str(r[3])) for r in rows]


class PurchaseHistories:
    async def page(
        self,
        session: AsyncSession,
        workspace_id: str,
        before: datetime,
        after: str | None = None,
        limit: int = 500,
    ) -> HistoryPage:
        """Return the histories of the live profiles of the next `limit` buyers after `after`;
        a profile whose merged profiles' ids fall on several pages comes on one of them."""
        repository = PurchaseHistoryRepository(session, workspace_id)
        buyers = await repository.buyers(before, after, limit)
        if not buyers:
            return HistoryPage([], None)
        groups = await merges.groups(session, workspace_id, buyers)
        members = [member for group in groups.values() for member in group]
        orders = await repository.orders(members, before)
        root_of = {member: root for root, group in groups.items() for member in group}
        by_root: dict[str, list[tuple[datetime, Decimal, str]]] = defaultdict(list)
        first_buyer: dict[str, str] = {}
        for member, placed_at, value, currency in orders:
            root = root_of[member]
            by_root[root].append((placed_at, value, currency))
            first_buyer[root] = min(first_buyer.get(root, member), member)
        on_page = set(buyers)
        histories = [
            _history(root, found, before.date())
            for root, found in sorted(by_root.items())
            if first_buyer[root] in on_page
        ]
        return HistoryPage(histories, buyers[-1] if len(buyers) == limit else None)


def _history(
    customer_id: str, orders: list[tuple[datetime, Decimal, str]], today: date
) -> PurchaseHistory:
    days: dict[date, Decimal] = defaultdict(Decimal)
    for placed_at, value, _ in orders:
        days[placed_at.date()] += value
    ordered = sorted(days)
    repeats = [days[day] for day in ordered[1:]]
    currencies = {currency for _, _, currency in orders}
    return PurchaseHistory(
        customer_id=customer_id,
        frequency=len(repeats),
        recency_days=(ordered[-1] - ordered[0]).days,
        age_days=(today - ordered[0]).days,
        repeat_value=sum(repeats, Decimal(0)) / len(repeats) if repeats else Decimal(0),
        currency=currencies.pop() if len(currencies) == 1 else None,
    )


purchase_histories = PurchaseHistories()
