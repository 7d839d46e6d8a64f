"""The customers service: what every other domain calls to know and update a customer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.customers.bulk import OrderTotals as OrderTotals  # for other domains
from rapport.customers.bulk import ProfileBatch
from rapport.customers.bulk import SeenTraits as SeenTraits  # for other domains
from rapport.customers.claims import claims_read
from rapport.customers.consent import consent
from rapport.customers.enums import ConsentPurpose
from rapport.customers.errors import CustomerNotFound
from rapport.customers.models import Customer, Identifier
from rapport.customers.pii import blind_index, name_index, normalise, unseal
from rapport.customers.recompute import GroupActivity as GroupActivity  # for other domains
from rapport.customers.recompute import ProfileFacts, recompute
from rapport.customers.repository import (
    CustomerRepository,
    IdentifierRepository,
    SearchTermRepository,
)
from rapport.customers.resolution import ObservationBatch, Resolved, Touch, observe
from rapport.customers.schemas import (
    ClaimsRead,
    CustomerRead,
    CustomerSummary,
    IdentifierRead,
    IdentitySignal,
    TraitRead,
)
from rapport.customers.traits import display_name, read_traits

SEARCH_KINDS = ("email", "phone", "user_id")
CENT = Decimal("0.01")


class CustomerService:
    async def resolve(
        self,
        session: AsyncSession,
        workspace_id: str,
        signals: Sequence[Touch],
        *,
        most_walks: int | None = None,
    ) -> list[Resolved]:
        """Resolve touchpoints in order and record what they say: the one entry point of
        identity resolution for many calls. Plain touchpoints are resolved together with a
        few queries; one that may change the graph is walked in a savepoint of its own, so
        if it fails it undoes only itself and comes back with its error.

        `most_walks`: stop before the touchpoint that would walk the graph once more than
        that (each walk takes milliseconds under the workspace's lock): the outcomes are
        then those of the first touchpoints only, and the caller resolves the rest later.

        A touchpoint may come as a `KeyedTouch`, told by the lookup key its signal gave when
        its call was stored (`IdentitySignal.lookup_key`): resolving it needs no identifier's
        value unless the key is new (then the call is revealed)."""
        batch = ObservationBatch(session, workspace_id)
        touches = await batch.prepare(signals)
        # The workspace's graph stays locked from the lookups to the writes.
        await CustomerRepository(session, workspace_id).lock_workspace()
        return await batch.run(signals, touches, most_walks=most_walks)

    async def observe(
        self, session: AsyncSession, workspace_id: str, signal: IdentitySignal
    ) -> str | None:
        """Resolve one touchpoint to a profile and record what it says; return the profile id
        (the one-touchpoint case of `resolve`, raising instead of returning its error)."""
        return await observe(session, workspace_id, signal)

    def register_facts(self, facts: ProfileFacts) -> None:
        """Take what the domain that stores touchpoints and orders knows about profile groups
        (its activity and order totals); every recompute reads them."""
        recompute.register(facts)

    async def recompute(
        self, session: AsyncSession, workspace_id: str, customer_ids: list[str]
    ) -> None:
        """Recompute the order-based traits of the live profiles these profiles belong to
        (the one writer of computed traits; merges and undos call it themselves)."""
        await recompute.profiles(session, workspace_id, customer_ids)

    def profiles(self, session: AsyncSession, workspace_id: str) -> ProfileBatch:
        """Start updating many profiles' traits and order-based traits at once."""
        return ProfileBatch(session, workspace_id)

    async def get(self, session: AsyncSession, workspace_id: str, customer_id: str) -> CustomerRead:
        """Return the 360 profile (a merged profile's id shows the profile it joined)."""
        customer = await self.live(session, workspace_id, customer_id)
        repository = CustomerRepository(session, workspace_id)
        group = await repository.group_ids(customer.id)
        identifiers = await IdentifierRepository(session, workspace_id).of(group)
        profiles = [await repository.get(member) for member in group]
        claims = claims_read([profile for profile in profiles if profile is not None])
        return _read(customer, [_identifier_read(row) for row in identifiers], claims)

    async def live(self, session: AsyncSession, workspace_id: str, customer_id: str) -> Customer:
        """Return a profile, following merges to the profile that remains."""
        repository = CustomerRepository(session, workspace_id)
        customer = await repository.get(customer_id)
        for _ in range(64):
            if customer is None or customer.merged_into_id is None:
                break
            customer = await repository.get(customer.merged_into_id)
        if customer is None:
            raise CustomerNotFound("No such customer profile in this workspace.")
        return customer

    async def group_ids(
        self, session: AsyncSession, workspace_id: str, customer_id: str
    ) -> list[str]:
        """Return the ids whose history belongs to this profile (itself and merged ones)."""
        customer = await self.live(session, workspace_id, customer_id)
        return await CustomerRepository(session, workspace_id).group_ids(customer.id)

    async def identified_by(
        self, session: AsyncSession, workspace_id: str, kind: str, value: str
    ) -> str | None:
        """Return the live profile holding exactly this identifier (a shop's user id, an
        email), if any: a lookup by blind index, never creating a profile."""
        normalised = normalise(kind, value)
        if normalised is None:
            return None
        key = (kind, blind_index(kind, normalised))
        found = (await IdentifierRepository(session, workspace_id).find([key])).get(key)
        if found is None:
            return None
        try:
            return (await self.live(session, workspace_id, found.customer_id)).id
        except CustomerNotFound:
            return None

    async def search(self, session: AsyncSession, workspace_id: str, query: str) -> list[str]:
        """Find profiles by exact email, phone, user id or name (blind indexes, no plaintext)."""
        found: list[str] = []
        identifiers = IdentifierRepository(session, workspace_id)
        for kind in SEARCH_KINDS:
            value = normalise(kind, query)
            if value is not None:
                rows = await identifiers.find([(kind, blind_index(kind, value))])
                found.extend(row.customer_id for row in rows.values())
        found.extend(
            await SearchTermRepository(session, workspace_id).customers_named(name_index(query))
        )
        return list(dict.fromkeys(found))

    async def summaries(
        self, session: AsyncSession, workspace_id: str, ids: list[str] | None, limit: int = 50
    ) -> list[CustomerSummary]:
        """Return short views of some profiles (or the most recently seen ones)."""
        repository = CustomerRepository(session, workspace_id)
        if ids is None:
            customers = list(await repository.recent(limit))
        else:
            customers = [
                await self.live(session, workspace_id, customer_id) for customer_id in ids[:limit]
            ]
        return [_summary(customer) for customer in dict.fromkeys(customers)]

    async def set_computed(
        self,
        session: AsyncSession,
        workspace_id: str,
        customer_id: str,
        *,
        orders_count: int,
        revenue: Decimal,
        last_order_at: datetime | None,
    ) -> None:
        """Store the order-based computed traits of a profile."""
        customer = await self.live(session, workspace_id, customer_id)
        customer.orders_count, customer.revenue = orders_count, Decimal(revenue).quantize(CENT)
        customer.last_order_at = last_order_at

    async def may_use(
        self, session: AsyncSession, workspace_id: str, customer_id: str, purpose: ConsentPurpose
    ) -> bool:
        """Tell whether this customer's data may be used for `purpose`; the one consent check."""
        return await consent.may_use(session, workspace_id, customer_id, purpose)


def _identifier_read(row: Identifier) -> IdentifierRead:
    value = unseal(row.value, "customer_identifiers", "value", row.id)
    return IdentifierRead(kind=row.kind, value=value, shared=row.shared)


def _read(
    customer: Customer, identifiers: list[IdentifierRead], claims: ClaimsRead
) -> CustomerRead:
    traits = {name: TraitRead(**trait) for name, trait in read_traits(customer).items()}
    revenue = Decimal(customer.revenue or 0).quantize(CENT)
    average = (
        (revenue / customer.orders_count).quantize(Decimal("0.01"))
        if customer.orders_count
        else Decimal(0)
    )
    return CustomerRead(
        id=customer.id,
        merged_into_id=customer.merged_into_id,
        traits=traits,
        identifiers=identifiers,
        first_seen_at=customer.first_seen_at,
        last_seen_at=customer.last_seen_at,
        channels=list(customer.channels or []),
        orders_count=customer.orders_count,
        revenue=revenue,
        average_order_value=average,
        last_order_at=customer.last_order_at,
        created_at=customer.created_at,
        claims=claims,
    )


def _summary(customer: Customer) -> CustomerSummary:
    return CustomerSummary(
        id=customer.id,
        display_name=display_name(read_traits(customer)),
        last_seen_at=customer.last_seen_at,
        orders_count=customer.orders_count,
    )


customers = CustomerService()
