"""Identity resolution: touchpoints -> profiles, many at a time (plain touchpoints resolved
together, the rest walking the graph one savepoint each), recording what they say."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc
from rapport.core.db import unbounded_statements
from rapport.core.ids import new_id
from rapport.core.outbox import publish
from rapport.customers.activity_repository import ActivityRepository, ActivityRow
from rapport.customers.claims import believable, record_claim
from rapport.customers.consent import consent
from rapport.customers.enums import IdentifierKind
from rapport.customers.events import CUSTOMER_IDENTIFIED
from rapport.customers.graph import Key, Link, Shortcut, graph, is_weak, prepare, shortcut
from rapport.customers.repository import (
    CustomerRepository,
    IdentifierRepository,
    IdentifierRow,
    SearchTermRepository,
)
from rapport.customers.schemas import IdentitySignal, KeyedTouch, Observed
from rapport.customers.traits import apply_traits, name_indexes, read_traits

# Touchpoints prepared between two turns of the event loop (a few hundred microseconds).
PREPARE_SLICE = 64


Touch = IdentitySignal | KeyedTouch
"""A touchpoint as resolution takes it: its whole signal, or the lookup key of one told by
its anonymous id alone."""


@dataclass(frozen=True)
class PlainTouch:
    """A touchpoint that says nothing but who and when (a track, page or screen call without
    traits or consent), with its prepared identifiers. One prepared from a `KeyedTouch` knows
    its key, not the value (`reveal` reads the call's whole signal)."""

    at: datetime
    channel: str
    observed: list[tuple[Observed, Key]]
    reveal: Callable[[], IdentitySignal] | None = None


class Resolved(NamedTuple):
    """What resolving one touchpoint came to: its profile (None: nobody can be told apart),
    or the error that stopped it (its writes undone)."""

    customer_id: str | None = None
    error: Exception | None = None


class Quick(NamedTuple):
    """The outcome of a quick resolution: `resolved` is false when the graph must be walked;
    `error`: the touchpoint's call could not be read when it had to be."""

    resolved: bool
    customer_id: str | None = None
    error: Exception | None = None


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
        if claim or not signal.says_who_only():
            return None
        touch = PlainTouch(signal.at, signal.channel, prepare(signal.identifiers))
        self._keys.update(key for _, key in touch.observed)
        return touch

    def keyed(self, touch: KeyedTouch) -> PlainTouch:
        """Prepare a touchpoint told by its anonymous id's lookup key."""
        key = (str(IdentifierKind.anonymous_id), touch.key)
        self._keys.add(key)
        # The value is unknown: only a new profile needs it, and `resolve` reveals it then.
        observed = [(Observed(key[0], ""), key)]
        return PlainTouch(touch.at, touch.channel, observed, touch.reveal)

    async def resolve(self, touch: PlainTouch) -> Quick:
        """Resolve a plain touchpoint without walking the graph, when its identifiers allow."""
        if not self._fresh:
            await self._load()
        answer = shortcut(touch.observed, self._links)
        if answer is Shortcut.new and touch.reveal is not None:
            # A visitor seen for the first time: its identifier is stored, so read the call.
            # Keys that differ from the stored one (the blind index's key changed in between)
            # were not looked up: the graph is walked for it instead.
            try:
                opened = self.plain(touch.reveal())
            except Exception as error:  # the call cannot be read: its own failure
                return Quick(resolved=True, error=error)
            if opened is None or _keys(opened) != _keys(touch):
                return Quick(resolved=False)
            touch = opened
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
        profile.changed |= _touch(profile, touch.at, touch.channel)
        return Quick(resolved=True, customer_id=profile.id)

    async def flush(self) -> None:
        """Write the new profiles, their identifiers and the touched profiles' activity."""
        customers = ActivityRepository(self.session, self.workspace_id)
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

    async def prepare(self, signals: Sequence[Touch]) -> list[PlainTouch | None]:
        """Prepare every touchpoint that may skip the graph walk (pure work: done before the
        workspace is locked, so the lock is held for the lookups and writes alone), a slice
        at a time, letting the event loop run in between."""
        touches: list[PlainTouch | None] = []
        for start in range(0, len(signals), PREPARE_SLICE):
            if start:
                await asyncio.sleep(0)
            touches.extend(
                self.keyed(signal)
                if isinstance(signal, KeyedTouch)
                else self._plain_or_none(signal)
                for signal in signals[start : start + PREPARE_SLICE]
            )
        return touches

    async def run(
        self,
        signals: Sequence[Touch],
        touches: Sequence[PlainTouch | None],
        *,
        most_walks: int | None = None,
    ) -> list[Resolved]:
        """Resolve touchpoints in order (every plain one's identifiers looked up at once) and
        write what they add up to; `touches` come from `prepare`. With `most_walks`, stop
        before the first touchpoint that may walk the graph once there have been that many
        such (always resolving at least one): the outcomes are those of a prefix. A plain
        touchpoint may walk too (its identifiers point at different profiles, a stored key
        does not match its call): each walk counts, and once one has, every touchpoint after
        it counts as one that may walk."""
        resolved: list[Resolved] = []
        walks, surprised = 0, False
        for signal, touch in zip(signals, touches, strict=True):
            may_walk = touch is None or surprised
            if may_walk and most_walks is not None and walks >= most_walks and resolved:
                break
            outcome, walked = await self.settle(signal, touch)
            resolved.append(outcome)
            if walked:
                walks += 1
                surprised = surprised or touch is not None
        await self.flush()
        return resolved

    def _plain_or_none(self, signal: IdentitySignal) -> PlainTouch | None:
        try:
            return self.plain(signal)
        except Exception:  # walked instead: the walk, in its savepoint, reports the error
            return None

    async def settle(self, signal: Touch, touch: PlainTouch | None) -> tuple[Resolved, bool]:
        """Resolve one touchpoint quickly when it is plain, else walk the graph for it in a
        savepoint (what the batch holds is written first, so a failure keeps it). Tell
        whether it walked."""
        if touch is not None:
            quick = await self.resolve(touch)
            if quick.error is not None:
                return Resolved(error=quick.error), False
            if quick.resolved:
                return Resolved(quick.customer_id), False
        await self.flush()
        try:
            whole = signal.reveal() if isinstance(signal, KeyedTouch) else signal
            # A walk is a dozen statements or more, and a merge moves a whole profile.
            with unbounded_statements():
                async with self.session.begin_nested():
                    return Resolved(await observe(self.session, self.workspace_id, whole)), True
        except Exception as error:  # one touchpoint's failure is its own, given back
            return Resolved(error=error), True
        finally:
            self.forget()

    async def _load(self) -> None:
        await self.flush()  # what is kept in memory must not be lost by looking up again
        owners = await IdentifierRepository(self.session, self.workspace_id).owners(
            sorted(self._keys)
        )
        self._links = {key: Link(*owner) for key, owner in owners.items()}
        customer_ids = sorted({link.customer_id for link in self._links.values()})
        activity = await ActivityRepository(self.session, self.workspace_id).activity(customer_ids)
        self._profiles = {
            row.id: _Profile(row.id, row.first_seen_at, row.last_seen_at, row.channels, row.merged)
            for row in activity
        }
        self._fresh = True

    def _create(self, touch: PlainTouch) -> _Profile:
        profile = _Profile(new_id(), None, None, [], new=True)
        identifiers = graph.new_identifiers(profile.id, touch.at, touch.observed)
        self._profiles[profile.id] = profile
        self._new_identifiers.extend(identifiers)
        for identifier in identifiers:
            self._links[(identifier.kind, identifier.blind_index)] = Link(profile.id, False)
        known = any(not is_weak(identifier.kind) for identifier in identifiers)
        _announce(self.session, self.workspace_id, profile.id, known)
        return profile


async def observe(session: AsyncSession, workspace_id: str, signal: IdentitySignal) -> str | None:
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
    preferences = await _believable_consent(session, workspace_id, customer.id, signal)
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


async def _believable_consent(
    session: AsyncSession, workspace_id: str, customer_id: str, signal: IdentitySignal
) -> dict[str, bool]:
    """Keep what the sender may say: the public write key can grant consent only for an
    anonymous visitor (anyone can call it with any userId); withdrawals are always kept."""
    if not signal.consent or signal.trusted:
        return signal.consent
    if await IdentifierRepository(session, workspace_id).strong_count(customer_id) == 0:
        return signal.consent
    return {category: granted for category, granted in signal.consent.items() if not granted}


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


def _keys(touch: PlainTouch) -> list[Key]:
    return [key for _, key in touch.observed]


def _activity(profile: _Profile) -> ActivityRow:
    """Return the activity columns of a profile kept by a quick resolution."""
    return ActivityRow(
        profile.id, profile.first_seen_at, profile.last_seen_at, profile.channels, False
    )
