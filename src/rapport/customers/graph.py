"""The identity graph: identifiers -> one profile, with limits, priorities and safe merges."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.ids import new_id
from rapport.customers.enums import LIMITS, PRIORITY, WEAK_KINDS, IdentifierKind, MergeReason
from rapport.customers.merges import merges
from rapport.customers.models import Customer, Identifier
from rapport.customers.pii import blind_index, normalise, seal
from rapport.customers.repository import CustomerRepository, IdentifierRepository, IdentifierRow
from rapport.customers.schemas import IdentitySignal, Observed

Key = tuple[str, str]


@functools.lru_cache(maxsize=1024)
def base_kind(kind: str) -> IdentifierKind:
    """Return the kind whose rules apply (`external:loyalty` follows `external`)."""
    return IdentifierKind(kind.split(":", 1)[0])


def is_weak(kind: str) -> bool:
    """Tell whether an identifier describes a browser or device rather than a person."""
    return base_kind(kind) in WEAK_KINDS


@dataclass(frozen=True)
class Link:
    """Where a stored identifier points: its profile, and whether it is a shared device."""

    customer_id: str
    shared: bool


class Shortcut(enum.Enum):
    """What a signal's identifiers alone say, when no walk of the graph is needed."""

    walk = "walk"  # something may change the graph: walk it
    nobody = "nobody"  # only shared devices (or nothing usable): nobody can be told apart
    new = "new"  # every identifier is unknown: a new profile holds them all


@dataclass
class Resolution:
    """The outcome of resolving one signal."""

    customer: Customer | None = None
    created: bool = False
    became_known: bool = False
    added: list[str] = field(default_factory=list)


@dataclass
class _Context:
    session: AsyncSession
    workspace_id: str
    signal: IdentitySignal
    observed: list[tuple[Observed, Key]]
    found: dict[Key, Identifier]
    target_id: str | None = None

    @property
    def customers(self) -> CustomerRepository:
        return CustomerRepository(self.session, self.workspace_id)

    @property
    def identifiers(self) -> IdentifierRepository:
        return IdentifierRepository(self.session, self.workspace_id)


class IdentityGraph:
    async def resolve(
        self, session: AsyncSession, workspace_id: str, signal: IdentitySignal
    ) -> Resolution:
        """Find or create the profile a signal belongs to, merging only when that is safe."""
        observed = prepare(signal.identifiers)
        lookups = observed + prepare(signal.lookup_only)
        if not observed and not lookups:
            return Resolution()
        found = await IdentifierRepository(session, workspace_id).find([key for _, key in lookups])
        context = _Context(session, workspace_id, signal, observed, found)
        await self._follow_strong(context, lookups)
        await self._follow_weak(context, lookups)
        if context.target_id is None and all(key in found for _, key in observed):
            return Resolution()  # only shared devices: nobody can be told apart
        return await self._attach(context)

    async def _follow_strong(self, context: _Context, lookups: list[tuple[Observed, Key]]) -> None:
        hits = [
            context.found[key]
            for item, key in lookups
            if not is_weak(item.kind) and key in context.found
        ]
        if not hits:
            return
        context.target_id = hits[0].customer_id
        for hit in hits[1:]:
            if hit.customer_id != context.target_id and context.signal.trusted:
                await self._merge(context, hit.customer_id, _trusted_reason(context.signal))
        if not await self._new_strong_fit(context, PRIORITY[base_kind(hits[0].kind)]):
            context.target_id = None

    async def _follow_weak(self, context: _Context, lookups: list[tuple[Observed, Key]]) -> None:
        for item, key in lookups:
            hit = context.found.get(key)
            if hit is None or not is_weak(item.kind) or hit.shared:
                continue
            owner = hit.customer_id
            if owner == context.target_id:
                continue
            known = await context.identifiers.strong_count(owner) > 0
            if not known and context.target_id is None:
                context.target_id = owner
            elif not known and context.target_id is not None:
                await self._merge(context, owner, MergeReason.anonymous_identified)
            elif context.target_id is None and not self._new_strong(context):
                context.target_id = owner
            else:
                hit.shared = True  # a browser or device used by several known people

    async def _merge(self, context: _Context, loser_id: str, reason: MergeReason) -> None:
        assert context.target_id is not None
        await merges.merge(
            context.session,
            context.workspace_id,
            winner_id=context.target_id,
            loser_id=loser_id,
            reason=reason,
            actor=f"source:{context.signal.source}",
        )
        for identifier in context.found.values():
            if identifier.customer_id == loser_id:
                identifier.customer_id = context.target_id

    def _new_strong(self, context: _Context) -> list[tuple[Observed, Key]]:
        return [
            (item, key)
            for item, key in context.observed
            if not is_weak(item.kind) and key not in context.found
        ]

    async def _new_strong_fit(self, context: _Context, matched_priority: int) -> bool:
        """Tell whether higher-priority new identifiers fit the matched profile's limits."""
        assert context.target_id is not None
        for item, _ in self._new_strong(context):
            kind = base_kind(item.kind)
            if PRIORITY[kind] >= matched_priority:
                continue
            if await context.identifiers.count_kind(context.target_id, item.kind) >= LIMITS[kind]:
                return False
        return True

    async def _attach(self, context: _Context) -> Resolution:
        resolution = Resolution(created=context.target_id is None)
        found = (
            None if context.target_id is None else await context.customers.get(context.target_id)
        )
        customer = found or await context.customers.add(Customer(id=new_id(), channels=[]))
        was_known = (
            not resolution.created and await context.identifiers.strong_count(customer.id) > 0
        )
        unknown = [(item, key) for item, key in context.observed if key not in context.found]
        # A profile created just now holds only what this call adds: count, don't query.
        for item, key in within_limits(unknown) if resolution.created else unknown:
            if resolution.created or await self._fits(context, customer.id, item.kind):
                await self._add(context, customer.id, item, key)
                resolution.added.append(item.kind)
        resolution.customer = customer
        resolution.became_known = not was_known and any(not is_weak(k) for k in resolution.added)
        return resolution

    async def _fits(self, context: _Context, customer_id: str, kind: str) -> bool:
        return await context.identifiers.count_kind(customer_id, kind) < LIMITS[base_kind(kind)]

    async def _add(self, context: _Context, customer_id: str, item: Observed, key: Key) -> None:
        row = new_identifier(customer_id, item, key, context.signal.at)
        context.found[key] = await context.identifiers.add(Identifier(**row._asdict()))

    def new_identifiers(
        self, customer_id: str, at: datetime, observed: list[tuple[Observed, Key]]
    ) -> list[IdentifierRow]:
        """Return the identifier rows of a new profile holding a touchpoint's unknown
        identifiers, first seen `at`."""
        return [new_identifier(customer_id, item, key, at) for item, key in within_limits(observed)]


def new_identifier(customer_id: str, item: Observed, key: Key, at: datetime) -> IdentifierRow:
    """Return a profile's new identifier row, its value sealed to the row."""
    identifier_id = new_id()
    value = seal(item.value, "customer_identifiers", "value", identifier_id)
    return IdentifierRow(identifier_id, customer_id, item.kind, key[1], value, at)


def within_limits(observed: list[tuple[Observed, Key]]) -> list[tuple[Observed, Key]]:
    """Keep the identifiers one new profile may hold (per-kind limits, in priority order)."""
    kept: list[tuple[Observed, Key]] = []
    counts: dict[str, int] = {}
    for item, key in observed:
        if counts.get(item.kind, 0) < LIMITS[base_kind(item.kind)]:
            counts[item.kind] = counts.get(item.kind, 0) + 1
            kept.append((item, key))
    return kept


def shortcut(observed: list[tuple[Observed, Key]], links: dict[Key, Link]) -> str | Shortcut:
    """Tell what a plain touchpoint resolves to without walking the graph: the one profile
    its identifiers point at, nobody, a new profile, or `walk` when the graph may change
    (some identifiers known and some not, or known ones pointing at different profiles)."""
    known = [(item, links[key]) for item, key in observed if key in links]
    if not known:
        return Shortcut.new if observed else Shortcut.nobody
    if len(known) < len(observed):
        return Shortcut.walk
    # Shared devices are not followed; strong identifiers are never shared.
    owners = {link.customer_id for item, link in known if not (link.shared and is_weak(item.kind))}
    if not owners:
        return Shortcut.nobody
    return owners.pop() if len(owners) == 1 else Shortcut.walk


def prepare(items: list[Observed]) -> list[tuple[Observed, Key]]:
    """Normalise, drop blocked values and duplicates, and order by priority."""
    prepared: dict[Key, Observed] = {}
    for item in items:
        try:
            kind = base_kind(item.kind)
        except ValueError:
            continue
        value = normalise(str(kind), item.value)
        if value is not None:
            key = (item.kind, blind_index(item.kind, value))
            prepared.setdefault(key, Observed(item.kind, value))
    ordered = sorted(prepared.items(), key=lambda pair: PRIORITY[base_kind(pair[0][0])])
    return [(observed, key) for key, observed in ordered]


def _trusted_reason(signal: IdentitySignal) -> MergeReason:
    if signal.reason == "alias":
        return MergeReason.authenticated_alias
    return MergeReason.authenticated_identify


graph = IdentityGraph()
