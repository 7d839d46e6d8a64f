"""Write traits and order-based traits to many profiles at once (bulk imports, chunked work)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.customers.activity_repository import ActivityRow
from rapport.customers.models import Customer
from rapport.customers.repository import CustomerRepository, SearchTermRepository
from rapport.customers.traits import NAME_TRAITS, apply_traits, name_indexes, read_traits

CENT = Decimal("0.01")
NAME_KEYS = frozenset({"name", *(spelling for pair in NAME_TRAITS for spelling in pair)})


@dataclass(frozen=True)
class SeenTraits:
    """Traits a source said about a profile, and when."""

    values: dict[str, Any]
    source: str
    at: datetime


@dataclass(frozen=True)
class OrderTotals:
    """A profile's order-based computed traits."""

    orders_count: int
    revenue: Decimal
    last_order_at: datetime | None


class ProfileBatch:
    """Update many live profiles with a few statements: each profile is read once (locked)
    and written back by the session's flush."""

    def __init__(self, session: AsyncSession, workspace_id: str) -> None:
        self.session, self.workspace_id = session, workspace_id
        self._repository = CustomerRepository(session, workspace_id)
        self._loaded: dict[str, Customer] = {}

    async def groups(self, customer_ids: list[str]) -> dict[str, list[str]]:
        """Return, for each profile, the ids whose history belongs to it (itself and the
        profiles merged into it, directly or not): one query per level of merges."""
        root = {customer_id: customer_id for customer_id in customer_ids}
        frontier = list(root)
        while frontier:
            joined = await self._repository.merged_into(frontier)
            root.update((member, root[winner]) for member, winner in joined)
            frontier = [member for member, _ in joined]
        groups: dict[str, list[str]] = {customer_id: [] for customer_id in customer_ids}
        for member, owner in root.items():
            groups[owner].append(member)
        return groups

    async def record_traits(self, traits: dict[str, SeenTraits]) -> None:
        """Write the traits newer than what each profile holds (last write wins)."""
        for customer in await self._profiles(sorted(traits)):
            seen = traits[customer.id]
            changed = apply_traits(customer, seen.values, seen.source, seen.at)
            if changed and NAME_KEYS & seen.values.keys():
                indexes = name_indexes(read_traits(customer))
                await SearchTermRepository(self.session, self.workspace_id).replace(
                    customer.id, indexes
                )

    async def set_computed(self, totals: dict[str, OrderTotals]) -> None:
        """Store the order-based computed traits of profiles."""
        for customer in await self._profiles(sorted(totals)):
            total = totals[customer.id]
            customer.orders_count = total.orders_count
            customer.revenue = Decimal(total.revenue).quantize(CENT)
            customer.last_order_at = total.last_order_at

    async def set_activity(self, activity: dict[str, ActivityRow]) -> None:
        """Store the activity of profiles (when first and last seen, on which channels)."""
        for customer in await self._profiles(sorted(activity)):
            row = activity[customer.id]
            customer.first_seen_at, customer.last_seen_at = row.first_seen_at, row.last_seen_at
            customer.channels = list(row.channels)

    async def _profiles(self, customer_ids: list[str]) -> list[Customer]:
        missing = [customer_id for customer_id in customer_ids if customer_id not in self._loaded]
        if missing:
            found = await self._repository.by_ids(missing)
            self._loaded.update((customer.id, customer) for customer in found)
        return [self._loaded[i] for i in customer_ids if i in self._loaded]
