"""What the events domain knows about profile groups, registered with the customers domain:
the activity of their touchpoints and the totals of their paid orders."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.customers.service import GroupActivity, OrderTotals
from rapport.events.order_repository import OrderRepository
from rapport.events.repository import EventRepository


class EventFacts:
    """The `ProfileFacts` of the customers domain, read from events and orders."""

    async def activity(
        self, session: AsyncSession, workspace_id: str, members: list[str]
    ) -> GroupActivity:
        """Return when a group's touchpoints began and ended, and their channels."""
        first, last, channels = await EventRepository(session, workspace_id).activity(members)
        return GroupActivity(first, last, channels)

    async def order_totals(
        self, session: AsyncSession, workspace_id: str, groups: dict[str, list[str]]
    ) -> dict[str, OrderTotals]:
        """Count each group's paid orders, sum their net revenue, find the last one."""
        members = [member for group in groups.values() for member in group]
        found = await OrderRepository(session, workspace_id).summaries(members)
        totals = {}
        for customer_id, group in groups.items():
            rows = [found[member] for member in group if member in found]
            totals[customer_id] = OrderTotals(
                orders_count=sum(row[0] for row in rows),
                revenue=sum((Decimal(str(row[1])) for row in rows), Decimal(0)),
                last_order_at=max((row[2] for row in rows if row[2] is not None), default=None),
            )
        return totals


facts = EventFacts()
