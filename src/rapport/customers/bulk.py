"""Write traits and order-based traits to many profiles at once (bulk imports, chunked work)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.customers.activity_repository import ActivityRow
from rapport.customers.models import Customer
from rapport.customers.pii import unseal_json
from rapport.customers.repository import CustomerRepository, SearchTermRepository
from rapport.customers.traits import (
    NAME_TRAITS,
    apply_traits,
    merged_traits,
    name_indexes,
    read_traits,
)

CENT = Decimal("0.01")
CUSTOMERS = cast(Table, Customer.__table__)
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
        """Write the traits newer than what each profile holds (last write wins). Profiles
        the session holds are changed there; the others are read (locked) and written with
        one statement each way, without loading them."""
        loaded, unloaded = self._split(sorted(traits))
        for customer in await self._profiles(loaded):
            seen = traits[customer.id]
            changed = apply_traits(customer, seen.values, seen.source, seen.at)
            if changed and NAME_KEYS & seen.values.keys():
                await self._names(customer.id, read_traits(customer))
        if not unloaded:
            return
        stored = await self.session.execute(
            select(Customer.id, Customer.traits)
            .where(Customer.id.in_(unloaded), self._repository.in_workspace())
            .order_by(Customer.id)
            .with_for_update()
        )
        written = []
        for customer_id, sealed in stored:
            seen = traits[customer_id]
            merged = merged_traits(customer_id, sealed, seen.values, seen.source, seen.at)
            if merged is None:
                continue
            written.append({"profile_id": customer_id, "traits": merged})
            if NAME_KEYS & seen.values.keys():
                await self._names(
                    customer_id, unseal_json(merged, "customers", "traits", customer_id)
                )
        if written:
            await self.session.execute(
                update(CUSTOMERS)
                .where(CUSTOMERS.c.id == bindparam("profile_id"))
                .values(traits=bindparam("traits")),
                written,
            )

    async def set_computed(self, totals: dict[str, OrderTotals]) -> None:
        """Store the order-based computed traits of profiles: those the session holds there,
        the others with one UPDATE (an executemany) that loads none of them."""
        loaded, unloaded = self._split(sorted(totals))
        for customer in await self._profiles(loaded):
            total = totals[customer.id]
            customer.orders_count = total.orders_count
            customer.revenue = Decimal(total.revenue).quantize(CENT)
            customer.last_order_at = total.last_order_at
        if not unloaded:
            return
        await self.session.execute(
            update(CUSTOMERS)
            .where(CUSTOMERS.c.id == bindparam("profile_id"))
            .where(CUSTOMERS.c.workspace_id.concat("") == self.workspace_id)
            .values(
                orders_count=bindparam("orders_count"),
                revenue=bindparam("revenue"),
                last_order_at=bindparam("last_order_at"),
            ),
            [
                {
                    "profile_id": customer_id,
                    "orders_count": totals[customer_id].orders_count,
                    "revenue": Decimal(totals[customer_id].revenue).quantize(CENT),
                    "last_order_at": totals[customer_id].last_order_at,
                }
                for customer_id in unloaded
            ],
        )

    async def set_activity(self, activity: dict[str, ActivityRow]) -> None:
        """Store the activity of profiles (when first and last seen, on which channels)."""
        for customer in await self._profiles(sorted(activity)):
            row = activity[customer.id]
            customer.first_seen_at, customer.last_seen_at = row.first_seen_at, row.last_seen_at
            customer.channels = list(row.channels)

    def _split(self, customer_ids: list[str]) -> tuple[list[str], list[str]]:
        """Split profiles into those this batch or the session holds (changed as objects, so
        a flush never writes back an older value) and the others (written with SQL)."""
        loaded: list[str] = []
        unloaded: list[str] = []
        for customer_id in customer_ids:
            key = self.session.identity_key(Customer, customer_id)
            held = customer_id in self._loaded or key in self.session.identity_map
            (loaded if held else unloaded).append(customer_id)
        return loaded, unloaded

    async def _names(self, customer_id: str, traits: dict[str, dict[str, Any]]) -> None:
        await SearchTermRepository(self.session, self.workspace_id).replace(
            customer_id, name_indexes(traits)
        )

    async def _profiles(self, customer_ids: list[str]) -> list[Customer]:
        missing = [customer_id for customer_id in customer_ids if customer_id not in self._loaded]
        if missing:
            found = await self._repository.by_ids(missing)
            self._loaded.update((customer.id, customer) for customer in found)
        return [self._loaded[i] for i in customer_ids if i in self._loaded]
