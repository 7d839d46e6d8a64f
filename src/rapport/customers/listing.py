"""The customers list: filtered, sorted, keyset-paged profiles with what staff scan for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, Subquery
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc
from rapport.core.pagination import decode_cursor, encode_cursor
from rapport.customers.models import Customer, Identifier
from rapport.customers.pii import unseal
from rapport.customers.repository import (
    CustomerRepository,
    IdentifierRepository,
    ListAddition,
    ListKey,
)
from rapport.customers.schemas import (
    CustomerFilters,
    CustomerListItem,
    CustomerListPage,
    CustomerSort,
)
from rapport.customers.service import customers
from rapport.customers.traits import display_name, read_traits
from rapport.errors import BadRequest

PAGE_SIZE = 50
# The identifier that names a profile best when it has no name trait, and how it is shown.
NAMING_KINDS = ("email", "user_id", "phone")
# List extensions: what domains above customers add to the list as SQL over their own tables
# keyed by profile id, registered from their tasks.py, so customers never imports them.
# A filter maps (workspace_id, value) to the ids it keeps (None: a value it does not know);
# a ranking maps workspace_id to (customer_id, value) rows that a sort orders by.
ListFilter = Callable[[str, str], Select[Any] | None]
ListRanking = Callable[[str], Subquery]


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
    def __init__(self) -> None:
        self._filters: dict[str, ListFilter] = {}
        self._rankings: dict[CustomerSort, ListRanking] = {}

    def add_filter(self, name: str, keep: ListFilter) -> None:
        """Offer a filter named `name` (CustomerFilters.extensions) from another domain."""
        self._filters[name] = keep

    def add_ranking(self, sort: CustomerSort, ranking: ListRanking) -> None:
        """Let another domain's values order the list for `sort`."""
        self._rankings[sort] = ranking

    def _addition(
        self, workspace_id: str, filters: CustomerFilters, sort: CustomerSort
    ) -> ListAddition:
        kept = []
        for name, value in filters.extensions:
            keep = self._filters.get(name)
            selected = keep(workspace_id, value) if keep is not None else None
            if selected is None:
                raise BadRequest(f"The customers list has no filter {name} = {value}.")
            kept.append(selected)
        ranking = self._rankings.get(sort)
        if sort not in SORTED_BY_PROFILE and ranking is None:
            raise BadRequest(f"The customers list cannot be sorted by {sort} here.")
        return ListAddition(tuple(kept), ranking(workspace_id) if ranking is not None else None)

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
        addition = self._addition(workspace_id, filters, sort)
        after = None if cursor is None else decode_cursor(_kind(sort), cursor, _parser(sort))
        rows = list(await repository.listed(filters, sort, after, limit + 1, addition))
        total = await repository.count_listed(filters, addition)
        items = await self._items(session, workspace_id, rows[:limit])
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            ranked = addition.ranking
            value = None if ranked is None else await repository.ranked_value(ranked, last.id)
            next_cursor = _cursor(sort, last, value)
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


def _cursor(sort: CustomerSort, last: Customer, ranked: Any = None) -> str:
    seen = last.last_seen_at
    value: str | int | None = {
        CustomerSort.last_seen: as_utc(seen).isoformat() if seen else None,
        CustomerSort.orders: last.orders_count,
        CustomerSort.revenue: str(Decimal(last.revenue or 0).quantize(Decimal("0.01"))),
    }.get(sort, None if ranked is None else str(ranked))
    return encode_cursor(_kind(sort), [last.id] if value is None else [value, last.id])


def _parser(sort: CustomerSort) -> Any:
    def parse(values: list[Any]) -> ListKey:
        *value, customer_id = values
        if not isinstance(customer_id, str) or len(value) > 1:
            raise TypeError("a customers cursor holds a value and a profile id")
        if not value:
            if sort in (CustomerSort.orders, CustomerSort.revenue):
                raise TypeError("only last seen and ranked values may be empty")
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
        raise ValueError("a revenue or ranked cursor holds an amount") from error
    if not amount.is_finite():
        raise ValueError("a revenue cursor holds a finite amount")
    return amount


SORTED_BY_PROFILE = (CustomerSort.last_seen, CustomerSort.orders, CustomerSort.revenue)
listing = CustomerListing()
