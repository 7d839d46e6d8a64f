"""Customers schemas: the identity signal other domains send, and API shapes."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from rapport.core.schemas import ReadModel
from rapport.customers.enums import ConsentPurpose, IdentifierKind
from rapport.customers.pii import blind_index, normalise

# Calls that may say nothing but who and when.
PLAIN_CALLS = frozenset({"track", "page", "screen"})


@dataclass(frozen=True)
class Observed:
    """One identifier seen on a touchpoint: its kind (`external:<type>` for external ids)."""

    kind: str
    value: str


@dataclass
class IdentitySignal:
    """What a touchpoint tells about who the customer is and what they said about themselves."""

    identifiers: list[Observed]
    at: datetime
    channel: str
    source: str
    trusted: bool = False
    lookup_only: list[Observed] = field(default_factory=list)
    traits: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, bool] = field(default_factory=dict)
    reason: str = "event"
    # False when the source requires signed identities and this call's was not signed: only
    # its browser and device identifiers resolve it, the rest is kept as unverified claims.
    verified: bool = True

    def says_who_only(self) -> bool:
        """Tell whether the touchpoint says nothing but who and when (a track, page or screen
        call without traits or consent): a plain one may be resolved without walking the graph,
        its identifiers permitting."""
        return (
            self.reason in PLAIN_CALLS
            and not self.traits
            and not self.consent
            and not self.lookup_only
        )

    def lookup_key(self) -> str | None:
        """Return the key the touchpoint may be resolved by later without its identifier's
        value (as a `KeyedTouch`): set when it says who only and its whole identity is one
        anonymous id (never a claim that needs vouching for). Pure and light (no database),
        so ingestion computes it while it prepares calls. It is kept with the call: a release
        that changes how an anonymous id is read (blocked values, `normalise`, the fields
        `signal_of` reads identifiers from) must clear the keys of unprocessed calls in its
        migration (`UPDATE events SET lookup_key = NULL WHERE NOT processed`)."""
        if not self.says_who_only() or len(self.identifiers) != 1:
            return None
        [item] = self.identifiers
        if item.kind != IdentifierKind.anonymous_id:
            return None
        # What the identity graph's `prepare` makes of one anonymous id.
        value = normalise(item.kind, item.value)
        return None if value is None else blind_index(item.kind, value)  # None: blocked


@dataclass(frozen=True)
class KeyedTouch:
    """A touchpoint told by the lookup key of its one identifier (`IdentitySignal.lookup_key`),
    not by the identifier itself: a stored call whose whole identity is one anonymous id
    need not be opened to be resolved. `reveal` opens it and returns its whole signal; it is
    called only when the key alone does not do (a visitor seen for the first time, whose
    identifier is then stored, or a profile the quick path cannot resolve)."""

    key: str
    at: datetime
    channel: str
    reveal: Callable[[], IdentitySignal]


class TraitRead(BaseModel):
    value: Any = Field(description="The latest value (last write wins, by event time).")
    source: str = Field(description="Where the value came from (source id, import, staff).")
    at: datetime = Field(description="When the value was written at its source.")


class IdentifierRead(BaseModel):
    kind: str = Field(
        description="user_id, email, phone, anonymous_id, device_id, external:<type>."
    )
    value: str = Field(description="The identifier (decrypted for authorised staff).")
    shared: bool = Field(description="Seen with several known people; no longer followed.")


class ClaimedIdentifierRead(BaseModel):
    kind: str = Field(description="user_id, email, phone or external:<type>.")
    value: str = Field(description="The identifier an unverified call claimed.")
    source: str = Field(description="The source that sent the call.")
    at: datetime = Field(description="When the call was made.")


class ClaimsRead(BaseModel):
    identifiers: list[ClaimedIdentifierRead] = Field(
        description="Identifiers claimed by unsigned identify calls, newest first; never used "
        "to find or merge profiles."
    )
    traits: dict[str, TraitRead] = Field(
        description="Traits claimed by unsigned identify calls; not part of `traits`."
    )


class CustomerRead(BaseModel):
    id: str = Field(description="Profile id.")
    merged_into_id: str | None = Field(description="Set when this profile joined another one.")
    traits: dict[str, TraitRead] = Field(description="Traits with their source and time.")
    identifiers: list[IdentifierRead] = Field(description="Identifiers of the profile.")
    first_seen_at: datetime | None = Field(description="Time of the first touchpoint.")
    last_seen_at: datetime | None = Field(description="Time of the latest touchpoint.")
    channels: list[str] = Field(description="Channels the customer used.")
    orders_count: int = Field(description="Orders placed (completed, updated or refunded).")
    revenue: Decimal = Field(description="Net revenue of those orders (after refunds).")
    average_order_value: Decimal = Field(description="revenue / orders_count, 0 without orders.")
    last_order_at: datetime | None = Field(description="When the latest order was placed.")
    created_at: datetime = Field(description="When the profile was created.")
    claims: ClaimsRead = Field(
        description="Unverified claims: what unsigned calls said when the source requires "
        "verified identities (see Identity verification)."
    )


class CustomerSummary(ReadModel):
    id: str = Field(description="Profile id.")
    display_name: str | None = Field(default=None, description="Name or email, if known.")
    last_seen_at: datetime | None = Field(description="Time of the latest touchpoint.")
    orders_count: int = Field(description="Orders placed.")


class CustomerSort(enum.StrEnum):
    """How the customers list is ordered (each newest or largest first)."""

    last_seen = "last_seen"
    orders = "orders"
    revenue = "revenue"
    expected_value = "expected_value"  # ranked by a list extension (customers/listing.py)


@dataclass(frozen=True)
class CustomerFilters:
    """Which live profiles a customers list shows (every condition must hold)."""

    has_orders: bool = False
    seen_since: datetime | None = None
    consent: str | None = None  # a purpose whose latest record grants it
    # (list extension, value) pairs: filters other domains offer (customers/listing.py).
    extensions: tuple[tuple[str, str], ...] = ()


class CustomerListItem(BaseModel):
    id: str = Field(description="Profile id.")
    display_name: str | None = Field(description="Name, email or customer number, if known.")
    email: str | None = Field(description="Email trait or identifier, if known.")
    orders_count: int = Field(description="Orders placed.")
    revenue: Decimal = Field(description="Net revenue of those orders.")
    last_seen_at: datetime | None = Field(description="Time of the latest touchpoint.")


class CustomerListPage(BaseModel):
    items: list[CustomerListItem] = Field(description="The profiles of this page.")
    total: int = Field(description="How many profiles match the filters, on every page.")
    next_cursor: str | None = Field(description="Cursor of the next page; null on the last.")


class ConsentChange(BaseModel):
    purpose: ConsentPurpose = Field(description="What the data may be used for.")
    granted: bool = Field(description="True grants, false withdraws.")
    notice_version: str | None = Field(
        default=None, max_length=64, description="Version of the privacy notice shown."
    )
    channel: str = Field(
        default="api", min_length=1, max_length=32, description="Where consent was given."
    )


class ConsentRecordRead(ReadModel):
    purpose: str = Field(description="Purpose or Segment consent category.")
    granted: bool = Field(description="Granted (true) or withdrawn (false).")
    notice_version: str | None = Field(description="Version of the notice shown.")
    channel: str = Field(description="Where the change was made.")
    actor: str = Field(description="Who recorded the change.")
    recorded_at: datetime = Field(description="When the change was made.")


class ConsentRead(BaseModel):
    purposes: dict[str, bool] = Field(description="Current state of every purpose.")
    history: list[ConsentRecordRead] = Field(description="Every change, newest first.")


class MergeRead(ReadModel):
    id: str = Field(description="Merge id (pass it to unmerge).")
    winner_id: str = Field(description="The profile that remained.")
    loser_id: str = Field(description="The profile that joined it.")
    reason: str = Field(description="Why the profiles were merged.")
    actor: str = Field(description="Who or what merged them.")
    created_at: datetime = Field(description="When they were merged.")
    undone_at: datetime | None = Field(description="When the merge was undone, if it was.")


class MergeCreate(BaseModel):
    winner_id: str = Field(min_length=1, max_length=32, description="Profile that remains.")
    loser_id: str = Field(min_length=1, max_length=32, description="Profile that joins it.")


NO_NUL = r"^[^\x00]*$"
ID_PATTERN = r"^[0-9a-f]{32}$"
