"""Every SQL statement of the customers domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import aliased

from rapport.core.db import lock_key
from rapport.core.repository import TenantRepository
from rapport.core.statistics import grew
from rapport.customers.enums import WEAK_KINDS
from rapport.customers.models import ConsentRecord, Customer, Identifier, Merge, SearchTerm
from rapport.customers.schemas import CustomerFilters, CustomerSort

# The column each sort orders by (then by id); a cursor holds its value and the id.
SORT_COLUMNS: dict[CustomerSort, Any] = {
    CustomerSort.last_seen: Customer.last_seen_at,
    CustomerSort.orders: Customer.orders_count,
    CustomerSort.revenue: Customer.revenue,
}
ListKey = tuple[Any, str]


@dataclass(frozen=True)
class ListAddition:
    """What other domains' list extensions add to a customers list (customers/listing.py)."""

    # Each selects the ids of the profiles one extension filter keeps.
    kept: tuple[Select[Any], ...] = ()
    # (customer_id, value) rows the list is sorted by instead of a profile column.
    ranking: Subquery | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """Return the conditions the filters add."""
        return [Customer.id.in_(selected) for selected in self.kept]


class IdentifierRow(NamedTuple):
    """A new identifier, ready to insert (its value already sealed)."""

    id: str
    customer_id: str
    kind: str
    blind_index: str
    value: bytes
    last_seen_at: datetime


class CustomerRepository(TenantRepository[Customer]):
    model = Customer

    async def add(self, instance: Customer) -> Customer:
        """Add a profile (counted for PostgreSQL's statistics: core.statistics)."""
        added = await super().add(instance)
        grew(self.session, Customer.__tablename__, 1)
        return added

    async def lock_workspace(self) -> None:
        """Serialise identity resolution within a workspace (on SQLite, by taking the one
        writer before the reads that resolution's writes depend on)."""
        await lock_key(self.session, f"identity:{self.workspace_id}")

    async def group_ids(self, customer_id: str) -> list[str]:
        """Return a profile and every profile merged into it, directly or not."""
        group, frontier = [customer_id], [customer_id]
        while frontier:
            rows = await self.session.execute(
                select(Customer.id).where(
                    Customer.workspace_id == self.workspace_id,
                    Customer.merged_into_id.in_(frontier),
                )
            )
            frontier = [str(row[0]) for row in rows]
            group.extend(frontier)
        return group

    async def recent(self, limit: int) -> Sequence[Customer]:
        """Return live profiles, most recently seen first."""
        return await self.all(
            self.base_query()
            .where(Customer.merged_into_id.is_(None))
            .order_by(Customer.last_seen_at.desc().nulls_last(), Customer.id.desc())
            .limit(limit)
        )

    async def listed(
        self,
        filters: CustomerFilters,
        sort: CustomerSort,
        after: ListKey | None,
        limit: int,
        addition: ListAddition | None = None,
    ) -> Sequence[Customer]:
        """Return live profiles matching the filters, sorted (then by id), after a cursor."""
        addition = addition or ListAddition()
        query = self.base_query().where(*self._matching(filters), *addition.conditions())
        if addition.ranking is not None:
            ranking = addition.ranking
            query = query.outerjoin(ranking, ranking.c.customer_id == Customer.id)
            column = ranking.c.value
        else:
            column = SORT_COLUMNS[sort]
        if after is not None:
            query = query.where(_after(column, *after))
        order = column.desc().nulls_last() if column.nullable else column.desc()
        return await self.all(query.order_by(order, Customer.id.desc()).limit(limit))

    async def count_listed(
        self, filters: CustomerFilters, addition: ListAddition | None = None
    ) -> int:
        """Count the live profiles matching the filters."""
        conditions = (addition or ListAddition()).conditions()
        return await self.count(self.base_query().where(*self._matching(filters), *conditions))

    async def ranked_value(self, ranking: Subquery, customer_id: str) -> Any:
        """Return a profile's value in a list extension's ranking (None: it has none)."""
        row = await self.session.execute(
            select(ranking.c.value).where(ranking.c.customer_id == customer_id)
        )
        return row.scalar_one_or_none()

    def _matching(self, filters: CustomerFilters) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [Customer.merged_into_id.is_(None)]
        if filters.has_orders:
            conditions.append(Customer.orders_count > 0)
        if filters.seen_since is not None:
            conditions.append(Customer.last_seen_at >= filters.seen_since)
        if filters.consent is not None:
            conditions.append(Customer.id.in_(self._consenting(filters.consent)))
        return conditions

    def _consenting(self, purpose: str) -> Select[tuple[str]]:
        """Select the live profiles whose latest record of `purpose`, over the profiles merged
        into them too, grants it (walking up from the records, never over the workspace)."""
        scoped = (ConsentRecord.workspace_id == self.workspace_id) & (
            ConsentRecord.purpose == purpose
        )
        member = ConsentRecord.customer_id
        up = (
            select(member.label("member"), member.label("profile"))
            .where(scoped)
            .distinct()
            .cte("consent_up", recursive=True)
        )
        parent = aliased(Customer)
        up = up.union_all(
            select(up.c.member, parent.merged_into_id)
            .join(parent, parent.id == up.c.profile)
            .where(parent.workspace_id == self.workspace_id, parent.merged_into_id.is_not(None))
        )
        rank = func.row_number().over(
            partition_by=up.c.profile,
            order_by=(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc()),
        )
        ranked = (
            select(up.c.profile.label("root"), ConsentRecord.granted, rank.label("rank"))
            .join(Customer, Customer.id == up.c.profile)
            .join(ConsentRecord, ConsentRecord.customer_id == up.c.member)
            .where(scoped, Customer.workspace_id == self.workspace_id)
            .where(Customer.merged_into_id.is_(None))
            .subquery()
        )
        return select(ranked.c.root).where(ranked.c.rank == 1, ranked.c.granted == true())

    async def by_ids(self, customer_ids: list[str]) -> Sequence[Customer]:
        """Return some profiles, locked: what is written to them next depends on what is read."""
        return await self.all(
            select(Customer)
            .where(Customer.id.in_(customer_ids), self.in_workspace())
            .with_for_update()
        )

    async def merged_into(self, customer_ids: list[str]) -> list[tuple[str, str]]:
        """Return (profile, the profile it joined) for the profiles merged into these."""
        rows = await self.session.execute(
            select(Customer.id, Customer.merged_into_id).where(
                Customer.merged_into_id.in_(customer_ids), self.in_workspace()
            )
        )
        return [(str(row[0]), str(row[1])) for row in rows]

    async def joined(self, customer_ids: list[str]) -> dict[str, str]:
        """Return, for those of these profiles that were merged, the profile each joined."""
        rows = await self.session.execute(
            select(Customer.id, Customer.merged_into_id).where(
                Customer.id.in_(customer_ids),
                Customer.merged_into_id.is_not(None),
                self.in_workspace(),
            )
        )
        return {str(row[0]): str(row[1]) for row in rows}


# The owners of some identifiers, by (workspace, kind, blind index): the unique index.
OWNERS_SQLITE = (
    "SELECT kind, blind_index, customer_id, shared FROM customer_identifiers "
    "WHERE workspace_id = ? AND kind IN ({kinds}) AND blind_index IN ({indexes})"
)
OWNERS_POSTGRESQL = (
    "SELECT kind, blind_index, customer_id, shared FROM customer_identifiers "
    "WHERE workspace_id = $1 AND kind = ANY($2::varchar[]) AND blind_index = ANY($3::varchar[])"
)


class IdentifierRepository(TenantRepository[Identifier]):
    model = Identifier

    async def add(self, instance: Identifier) -> Identifier:
        """Add an identifier (counted for PostgreSQL's statistics: core.statistics)."""
        added = await super().add(instance)
        grew(self.session, Identifier.__tablename__, 1)
        return added

    async def insert_new(self, identifiers: list[IdentifierRow]) -> None:
        """Insert new identifiers, in one statement."""
        if identifiers:
            await self.session.execute(
                insert(Identifier),
                [row._asdict() | {"workspace_id": self.workspace_id} for row in identifiers],
            )
            grew(self.session, Identifier.__tablename__, len(identifiers))

    async def owners(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, bool]]:
        """Return the profile and shared flag of the stored identifiers matching (kind, blind
        index) pairs, without loading the rows."""
        if not keys:
            return {}
        # One driver-level statement (resolution looks a chunk's identifiers up here, inside
        # its lock): the same superset as `_matching`, checked against the pairs below.
        kinds = sorted({kind for kind, _ in keys})
        indexes = sorted({index for _, index in keys})
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql":
            rows = await connection.exec_driver_sql(
                OWNERS_POSTGRESQL, (self.workspace_id, kinds, indexes)
            )
        else:
            statement = OWNERS_SQLITE.format(
                kinds=", ".join("?" * len(kinds)), indexes=", ".join("?" * len(indexes))
            )
            rows = await connection.exec_driver_sql(
                statement, (self.workspace_id, *kinds, *indexes)
            )
        wanted = set(keys)
        return {
            (kind, index): (customer_id, bool(shared))
            for kind, index, customer_id, shared in cast(list[tuple[Any, ...]], rows.fetchall())
            if (kind, index) in wanted
        }

    async def find(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Identifier]:
        """Return the stored identifiers matching (kind, blind index) pairs."""
        if not keys:
            return {}
        rows = await self.all(self.base_query().where(*_matching(keys)))
        wanted = set(keys)
        return {
            (row.kind, row.blind_index): row
            for row in rows
            if (row.kind, row.blind_index) in wanted
        }

    async def of(self, customer_ids: list[str]) -> Sequence[Identifier]:
        """Return the identifiers of some profiles."""
        return await self.all(
            self.base_query()
            .where(Identifier.customer_id.in_(customer_ids))
            .order_by(Identifier.kind)
        )

    async def strong_of(self, customer_ids: list[str]) -> Sequence[Identifier]:
        """Return the identifiers of some profiles that name a person (not a browser)."""
        weak = [str(kind) for kind in WEAK_KINDS]
        return await self.all(
            self.base_query()
            .where(Identifier.customer_id.in_(customer_ids), Identifier.kind.not_in(weak))
            .order_by(Identifier.kind, Identifier.id)
        )

    async def strong_count(self, customer_id: str) -> int:
        """Count a profile's identifiers that name a person (not a browser or device)."""
        weak = [str(kind) for kind in WEAK_KINDS]
        return await self.count(
            self.base_query().where(
                Identifier.customer_id == customer_id, Identifier.kind.not_in(weak)
            )
        )

    async def count_kind(self, customer_id: str, kind: str) -> int:
        """Count a profile's identifiers of one kind."""
        return await self.count(
            self.base_query().where(Identifier.customer_id == customer_id, Identifier.kind == kind)
        )

    async def move(self, identifier_ids: list[str], from_id: str, to_id: str) -> None:
        """Move identifiers between profiles (merge and undo)."""
        await self.session.execute(
            update(Identifier)
            .where(
                Identifier.workspace_id == self.workspace_id,
                Identifier.id.in_(identifier_ids),
                Identifier.customer_id == from_id,
            )
            .values(customer_id=to_id)
        )

    async def ids_of(self, customer_id: str) -> list[str]:
        """Return the ids of a profile's identifiers."""
        rows = await self.session.execute(
            select(Identifier.id).where(
                Identifier.workspace_id == self.workspace_id, Identifier.customer_id == customer_id
            )
        )
        return [str(row[0]) for row in rows]


def _after(column: Any, value: Any, customer_id: str) -> ColumnElement[bool]:
    """Select the profiles after (value, id) in a descending keyset order, nulls last."""
    if value is None:
        return and_(column.is_(None), Customer.id < customer_id)
    later = or_(column < value, and_(column == value, Customer.id < customer_id))
    return or_(later, column.is_(None)) if column.nullable else later


def _matching(keys: list[tuple[str, str]]) -> tuple[ColumnElement[bool], ...]:
    """Narrow identifiers to some (kind, blind index) pairs (a superset: check the pairs).
    Both columns are named so the (workspace, kind, blind index) index serves the lookup,
    whatever the size of the workspace."""
    return (
        Identifier.kind.in_(sorted({kind for kind, _ in keys})),
        Identifier.blind_index.in_(sorted({index for _, index in keys})),
    )


class SearchTermRepository(TenantRepository[SearchTerm]):
    model = SearchTerm

    async def replace(self, customer_id: str, indexes: set[str]) -> None:
        """Replace a profile's name search terms."""
        await self.session.execute(
            delete(SearchTerm).where(
                SearchTerm.workspace_id == self.workspace_id, SearchTerm.customer_id == customer_id
            )
        )
        for index in sorted(indexes):
            self.session.add(
                SearchTerm(
                    workspace_id=self.workspace_id, customer_id=customer_id, blind_index=index
                )
            )

    async def customers_named(self, index: str) -> list[str]:
        """Return the profiles with a name matching a blind index."""
        rows = await self.session.execute(
            select(SearchTerm.customer_id)
            .where(SearchTerm.workspace_id == self.workspace_id, SearchTerm.blind_index == index)
            .distinct()
        )
        return [str(row[0]) for row in rows]


class MergeRepository(TenantRepository[Merge]):
    model = Merge

    async def for_customer(self, customer_id: str) -> Sequence[Merge]:
        """Return the merges a profile took part in, newest first."""
        return await self.all(
            self.base_query()
            .where((Merge.winner_id == customer_id) | (Merge.loser_id == customer_id))
            .order_by(Merge.created_at.desc(), Merge.id.desc())
        )


class ConsentRepository(TenantRepository[ConsentRecord]):
    model = ConsentRecord

    async def history(self, customer_ids: list[str]) -> Sequence[ConsentRecord]:
        """Return every consent record of a profile group, newest first."""
        return await self.all(
            self.base_query()
            .where(ConsentRecord.customer_id.in_(customer_ids))
            .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        )

    async def latest(self, customer_ids: list[str], purpose: str) -> ConsentRecord | None:
        """Return the latest record of one purpose for a profile group."""
        return await self.one_or_none(
            self.base_query()
            .where(ConsentRecord.customer_id.in_(customer_ids), ConsentRecord.purpose == purpose)
            .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
            .limit(1)
        )
