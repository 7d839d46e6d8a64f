"""The customers service: what every other domain calls to know and update a customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc
from rapport.core.ids import new_id
from rapport.core.outbox import publish
from rapport.customers.bulk import OrderTotals as OrderTotals  # for other domains
from rapport.customers.bulk import ProfileBatch
from rapport.customers.bulk import SeenTraits as SeenTraits  # for other domains
from rapport.customers.claims import believable, claims_read, record_claim
from rapport.customers.consent import consent
from rapport.customers.enums import ConsentPurpose
from rapport.customers.errors import CustomerNotFound
from rapport.customers.events import CUSTOMER_IDENTIFIED
from rapport.customers.graph import Key, Link, Shortcut, graph, is_weak, prepare, shortcut
from rapport.customers.models import Customer, Identifier
from rapport.customers.pii import blind_index, name_index, normalise, unseal
from rapport.customers.repository import (
    ActivityRow,
    CustomerRepository,
    IdentifierRepository,
    IdentifierRow,
    SearchTermRepository,
)
from rapport.customers.schemas import (
    ClaimsRead,
    CustomerRead,
    CustomerSummary,
    IdentifierRead,
    IdentitySignal,
    Observed,
    TraitRead,
)
from rapport.customers.traits import apply_traits, display_name, name_indexes, read_traits

SEARCH_KINDS = ("email", "phone", "user_id")
CENT = Decimal("0.01")
PLAIN_CALLS = frozenset({"track", "page", "screen"})


@dataclass(frozen=True)
class PlainTouch:
    """A touchpoint that says nothing but who and when (a track, page or screen call without
    traits or consent), with its prepared identifiers."""

    signal: IdentitySignal
    observed: list[tuple[Observed, Key]]


class Quick(NamedTuple):
    """The outcome of a quick resolution: `resolved` is false when the graph must be walked."""

    resolved: bool
    customer_id: str | None = None


@dataclass
class _Profile:
    """What a quick resolution keeps of a profile: its activity, and what is left to write."""

    id: str
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    channels: list[str]
    merged: bool = False
    new: bool = False
    changed: bool = False


class ObservationBatch:
    """Resolve the touchpoints of one chunk of calls with a few queries in all.

    Plain touchpoints are resolved from identifiers looked up once per chunk: a profile they
    all point at is touched in memory, unknown ones get a new profile kept in memory; each
    profile is written once, by `flush`. Anything that may change the graph goes through
    `observe` instead: `flush` before it, `forget` after it (the graph may have moved)."""

    def __init__(self, session: AsyncSession, workspace_id: str) -> None:
        self.session, self.workspace_id = session, workspace_id
        self._keys: set[Key] = set()
        self._links: dict[Key, Link] = {}
        self._profiles: dict[str, _Profile] = {}
        self._new_identifiers: list[IdentifierRow] = []
        self._fresh = False

    def plain(self, signal: IdentitySignal) -> PlainTouch | None:
        """Prepare a touchpoint that may skip the graph walk (None when it may not)."""
        signal, claim = believable(signal)
        if claim:
            return None
        if signal.reason not in PLAIN_CALLS or signal.traits or signal.consent:
            return None
        if signal.lookup_only:
            return None
        touch = PlainTouch(signal, prepare(signal.identifiers))
        self._keys.update(key for _, key in touch.observed)
        return touch

    async def resolve(self, touch: PlainTouch) -> Quick:
        """Resolve a plain touchpoint without walking the graph, when its identifiers allow."""
        if not self._fresh:
            await self._load()
        answer = shortcut(touch.observed, self._links)
        if answer is Shortcut.nobody:
            return Quick(resolved=True)
        if answer is Shortcut.new:
            profile = self._create(touch)
        elif isinstance(answer, str) and answer in self._profiles:
            profile = self._profiles[answer]
        else:
            return Quick(resolved=False)
        if profile.merged:
            return Quick(resolved=False)
        profile.changed |= _touch(profile, touch.signal.at, touch.signal.channel)
        return Quick(resolved=True, customer_id=profile.id)

    async def flush(self) -> None:
        """Write the new profiles, their identifiers and the touched profiles' activity."""
        customers = CustomerRepository(self.session, self.workspace_id)
        new = [profile for profile in self._profiles.values() if profile.new]
        await customers.insert_new([_activity(profile) for profile in new])
        await IdentifierRepository(self.session, self.workspace_id).insert_new(
            self._new_identifiers
        )
        changed = [p for p in self._profiles.values() if p.changed and not p.new]
        await customers.write_activity([_activity(profile) for profile in changed])
        for profile in self._profiles.values():
            profile.new = profile.changed = False
        self._new_identifiers = []

    def forget(self) -> None:
        """Look the identifiers up again before the next quick resolution."""
        self._fresh = False

    async def _load(self) -> None:
        await self.flush()  # what is kept in memory must not be lost by looking up again
        owners = await IdentifierRepository(self.session, self.workspace_id).owners(
            sorted(self._keys)
        )
        self._links = {key: Link(*owner) for key, owner in owners.items()}
        customer_ids = sorted({link.customer_id for link in self._links.values()})
        activity = await CustomerRepository(self.session, self.workspace_id).activity(customer_ids)
        self._profiles = {row.id: _Profile(**row._asdict()) for row in activity}
        self._fresh = True

    def _create(self, touch: PlainTouch) -> _Profile:
        profile = _Profile(new_id(), None, None, [], new=True)
        identifiers = graph.new_identifiers(profile.id, touch.signal, touch.observed)
        self._profiles[profile.id] = profile
        self._new_identifiers.extend(identifiers)
        for identifier in identifiers:
            self._links[(identifier.kind, identifier.blind_index)] = Link(profile.id, False)
        known = any(not is_weak(identifier.kind) for identifier in identifiers)
        _announce(self.session, self.workspace_id, profile.id, known)
        return profile


class CustomerService:
    async def observe(
        self, session: AsyncSession, workspace_id: str, signal: IdentitySignal
    ) -> str | None:
        """Resolve a touchpoint to a profile and record what it says; return the profile id."""
        signal, claim = believable(signal)
        await CustomerRepository(session, workspace_id).lock_workspace()
        resolution = await graph.resolve(session, workspace_id, signal)
        customer = resolution.customer
        if customer is None:
            return None
        _touch(customer, signal.at, signal.channel)
        if claim:
            record_claim(customer, claim, signal.source, signal.at)
        if signal.traits and apply_traits(customer, signal.traits, signal.source, signal.at):
            indexes = name_indexes(read_traits(customer))
            await SearchTermRepository(session, workspace_id).replace(customer.id, indexes)
        preferences = await self._believable_consent(session, workspace_id, customer.id, signal)
        if preferences:
            await consent.record_categories(
                session,
                workspace_id,
                customer.id,
                preferences,
                channel=signal.channel,
                actor=f"source:{signal.source}",
            )
        _announce(session, workspace_id, customer.id, resolution.became_known)
        return customer.id

    async def batch(self, session: AsyncSession, workspace_id: str) -> ObservationBatch:
        """Start resolving a chunk of touchpoints (the workspace's graph stays locked)."""
        await CustomerRepository(session, workspace_id).lock_workspace()
        return ObservationBatch(session, workspace_id)

    def profiles(self, session: AsyncSession, workspace_id: str) -> ProfileBatch:
        """Start updating many profiles' traits and order-based traits at once."""
        return ProfileBatch(session, workspace_id)

    async def _believable_consent(
        self, session: AsyncSession, workspace_id: str, customer_id: str, signal: IdentitySignal
    ) -> dict[str, bool]:
        """Keep what the sender may say: the public write key can grant consent only for an
        anonymous visitor (anyone can call it with any userId); withdrawals are always kept."""
        if not signal.consent or signal.trusted:
            return signal.consent
        if await IdentifierRepository(session, workspace_id).strong_count(customer_id) == 0:
            return signal.consent
        return {category: granted for category, granted in signal.consent.items() if not granted}

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

    async def set_activity(
        self,
        session: AsyncSession,
        workspace_id: str,
        customer_id: str,
        *,
        first_seen_at: datetime | None,
        last_seen_at: datetime | None,
        channels: list[str],
    ) -> None:
        """Store the activity-based computed traits of a profile (after merge or undo)."""
        customer = await self.live(session, workspace_id, customer_id)
        customer.first_seen_at, customer.last_seen_at = first_seen_at, last_seen_at
        customer.channels = channels

    async def may_use(
        self, session: AsyncSession, workspace_id: str, customer_id: str, purpose: ConsentPurpose
    ) -> bool:
        """Tell whether this customer's data may be used for `purpose`; the one consent check."""
        return await consent.may_use(session, workspace_id, customer_id, purpose)


def _announce(session: AsyncSession, workspace_id: str, customer_id: str, known: bool) -> None:
    """Publish that a profile became known, when it just did."""
    if known:
        publish(session, CUSTOMER_IDENTIFIED, workspace_id=workspace_id, customer_id=customer_id)


class _Active(Protocol):
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    channels: list[str]


def _touch(customer: _Active, at: datetime, channel: str) -> bool:
    """Record a touchpoint's time and channel on a profile; tell whether anything changed."""
    at, changed = as_utc(at), False
    if customer.first_seen_at is None or as_utc(customer.first_seen_at) > at:
        customer.first_seen_at, changed = at, True
    if customer.last_seen_at is None or as_utc(customer.last_seen_at) < at:
        customer.last_seen_at, changed = at, True
    if channel not in (customer.channels or []):
        customer.channels, changed = sorted({*(customer.channels or []), channel}), True
    return changed


def _activity(profile: _Profile) -> ActivityRow:
    """Return the activity columns of a profile kept by a quick resolution."""
    return ActivityRow(
        profile.id, profile.first_seen_at, profile.last_seen_at, profile.channels, False
    )


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
