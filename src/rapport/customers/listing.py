"""The customers list: filtered, sorted, keyset-paged profiles with what staff scan for."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc
from rapport.core.pagination import decode_cursor, encode_cursor
from rapport.customers.models import Customer, Identifier
from rapport.customers.pii import unseal
from rapport.customers.repository import CustomerRepository, IdentifierRepository, ListKey
from rapport.customers.schemas import (
    CustomerFilters,
    CustomerListItem,
    CustomerListPage,
    CustomerSort,
)
from rapport.customers.service import customers
from rapport.customers.traits import display_name, read_traits

PAGE_SIZE = 50
# The identifier that names a profile best when it has no name trait, and how it is shown.
NAMING_KINDS = ("email", "user_id", "phone")


def name_from(traits: dict[str, dict[str, Any]], identifiers: list[tuple[str, str]]) -> str | None:
    """Return what to call a profile: its name, else its email, customer number or phone,
    else an external id; None for an anonymous visitor."""
    named = display_name(traits)
    if named:
        return named
    found = dict(reversed(identifiers))  # the first of each kind wins
    for kind in NAMING_KINDS:
        if kind in found:
            return f"Customer {found[kind]}" if kind == "user_id" else found[kind]
    external = next((pair for pair in identifiers if pair[0].startswith("external:")), None)
    return f"{external[0].removeprefix('external:')} {external[1]}" if external else None


def email_from(traits: dict[str, dict[str, Any]], identifiers: list[tuple[str, str]]) -> str | None:
    """Return a profile's email trait, else its first email identifier."""
    trait = traits.get("email", {}).get("value")
    if isinstance(trait, str) and trait.strip():
        return trait.strip()
    return next((value for kind, value in identifiers if kind == "email"), None)


class CustomerListing:
    async def page(
        self,
        session: AsyncSession,
        workspace_id: str,
        filters: CustomerFilters,
        sort: CustomerSort,
        cursor: str | None,
        limit: int = PAGE_SIZE,
    ) -> CustomerListPage:
        """Return one page of the live profiles matching the filters, with their count."""
        repository = CustomerRepository(session, workspace_id)
        after = None if cursor is None else decode_cursor(_kind(sort), cursor, _parser(sort))
        rows = list(await repository.listed(filters, sort, after, limit + 1))
        total = await repository.count_listed(filters)
        items = await self._items(session, workspace_id, rows[:limit])
        next_cursor = _cursor(sort, rows[limit - 1]) if len(rows) > limit else None
        return CustomerListPage(items=items, total=total, next_cursor=next_cursor)

    async def found(
        self, session: AsyncSession, workspace_id: str, customer_ids: list[str]
    ) -> list[CustomerListItem]:
        """Return list items for some profiles (merged ones shown as the profile they joined)."""
        live = [await customers.live(session, workspace_id, i) for i in customer_ids[:PAGE_SIZE]]
        return await self._items(session, workspace_id, list(dict.fromkeys(live)))

    async def _items(
        self, session: AsyncSession, workspace_id: str, rows: list[Customer]
    ) -> list[CustomerListItem]:
        found = await IdentifierRepository(session, workspace_id).strong_of([r.id for r in rows])
        identifiers: dict[str, list[tuple[str, str]]] = {row.id: [] for row in rows}
        for identifier in found:
            identifiers[identifier.customer_id].append((identifier.kind, _value(identifier)))
        return [_item(row, identifiers[row.id]) for row in rows]


def _value(identifier: Identifier) -> str:
    return unseal(identifier.value, "customer_identifiers", "value", identifier.id)


def _item(customer: Customer, identifiers: list[tuple[str, str]]) -> CustomerListItem:
    traits = read_traits(customer)
    return CustomerListItem(
        id=customer.id,
        display_name=name_from(traits, identifiers),
        email=email_from(traits, identifiers),
        orders_count=customer.orders_count,
        revenue=Decimal(customer.revenue or 0).quantize(Decimal("0.01")),
        last_seen_at=customer.last_seen_at,
    )


def _kind(sort: CustomerSort) -> str:
    # A cursor of one order is refused by another (its values mean something else there).
    return f"customers.list.{sort}"


def _cursor(sort: CustomerSort, last: Customer) -> str:
    seen = last.last_seen_at
    value: str | int | None = {
        CustomerSort.last_seen: as_utc(seen).isoformat() if seen else None,
        CustomerSort.orders: last.orders_count,
        CustomerSort.revenue: str(Decimal(last.revenue or 0).quantize(Decimal("0.01"))),
    }[sort]
    return encode_cursor(_kind(sort), [last.id] if value is None else [value, last.id])


def _parser(sort: CustomerSort) -> Any:
    def parse(values: list[Any]) -> ListKey:
        *value, customer_id = values
        if not isinstance(customer_id, str) or len(value) > 1:
            raise TypeError("a customers cursor holds a value and a profile id")
        if not value:
            if sort is not CustomerSort.last_seen:
                raise TypeError("only last seen may be empty")
            return None, customer_id
        return _read_value(sort, value[0]), customer_id

    return parse


def _read_value(sort: CustomerSort, value: Any) -> Any:
    if sort is CustomerSort.orders:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("an orders cursor holds a count")
        return value
    if not isinstance(value, str):
        raise TypeError("a cursor value is text")
    if sort is CustomerSort.last_seen:
        return as_utc(datetime.fromisoformat(value))
    try:
        amount = Decimal(value)
    except InvalidOperation as error:
        raise ValueError("a revenue cursor holds an amount") from error
    if not amount.is_finite():
        raise ValueError("a revenue cursor holds a finite amount")
    return amount


listing = CustomerListing()
