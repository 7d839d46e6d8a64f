"""Unverified claims: what a call nobody vouched for says about who someone is.

When a source requires signed identities, a call from its public write key without a valid
signature is resolved by its browser and device identifiers alone; its other identifiers
(user id, email, phone, external ids) and its traits never reach a profile's identifiers or
traits. An identify call's are kept on the profile it resolved to, as claims shown unverified."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rapport.customers.enums import WEAK_KINDS
from rapport.customers.models import Customer
from rapport.customers.pii import seal_json, unseal_json
from rapport.customers.schemas import ClaimedIdentifierRead, ClaimsRead, IdentitySignal, TraitRead

MAX_CLAIMED_IDENTIFIERS = 20
MAX_CLAIMED_TRAITS = 50
CLAIMING_CALLS = frozenset({"identify"})


@dataclass(frozen=True)
class Claim:
    """What an unverified call said: the identifiers and traits kept aside."""

    identifiers: list[tuple[str, str]]
    traits: dict[str, Any]

    def __bool__(self) -> bool:
        return bool(self.identifiers or self.traits)


def believable(signal: IdentitySignal) -> tuple[IdentitySignal, Claim]:
    """Split an unverified signal into what may resolve it (browser and device identifiers)
    and what it claims; a verified signal is returned whole, claiming nothing."""
    if signal.verified:
        return signal, Claim([], {})
    weak = [item for item in signal.identifiers if _is_weak(item.kind)]
    claimed = [(item.kind, item.value) for item in signal.identifiers if not _is_weak(item.kind)]
    kept = replace(
        signal,
        identifiers=weak,
        lookup_only=[item for item in signal.lookup_only if _is_weak(item.kind)],
        traits={},
        verified=True,
    )
    # Only identify calls are kept as claims: other calls repeat the same userId on every
    # page view, and recording it would send each of them down the slow path.
    if signal.reason not in CLAIMING_CALLS:
        return kept, Claim([], {})
    return kept, Claim(claimed, dict(signal.traits))


def record_claim(customer: Customer, claim: Claim, source: str, at: datetime) -> None:
    """Keep a claim on a profile (newest first, bounded), beside its verified data."""
    claims = read_claims(customer)
    stamp = at.isoformat(timespec="microseconds")
    identifiers = [
        {"kind": kind, "value": value, "source": source, "at": stamp}
        for kind, value in claim.identifiers
    ]
    claimed = {(entry["kind"], entry["value"]) for entry in identifiers}
    older = [
        entry
        for entry in claims.get("identifiers", [])
        if (entry["kind"], entry["value"]) not in claimed
    ]
    traits: dict[str, Any] = claims.get("traits", {})
    for name, value in claim.traits.items():
        known = traits.get(name)
        if (known is None and len(traits) >= MAX_CLAIMED_TRAITS) or (
            known is not None and known["at"] > stamp
        ):
            continue
        traits[name] = {"value": value, "source": source, "at": stamp}
    document = {"identifiers": (identifiers + older)[:MAX_CLAIMED_IDENTIFIERS], "traits": traits}
    customer.claims = seal_json(document, "customers", "claims", customer.id)


def read_claims(customer: Customer) -> dict[str, Any]:
    """Return a profile's unverified claims as stored."""
    return unseal_json(customer.claims, "customers", "claims", customer.id)


def claims_read(profiles: list[Customer]) -> ClaimsRead:
    """Return the claims of a profile and the profiles merged into it, for display."""
    identifiers: list[ClaimedIdentifierRead] = []
    traits: dict[str, TraitRead] = {}
    for profile in profiles:
        claims = read_claims(profile)
        identifiers.extend(
            ClaimedIdentifierRead(**entry) for entry in claims.get("identifiers", [])
        )
        for name, trait in claims.get("traits", {}).items():
            if name not in traits or traits[name].at < datetime.fromisoformat(trait["at"]):
                traits[name] = TraitRead(**trait)
    identifiers.sort(key=lambda entry: entry.at, reverse=True)
    return ClaimsRead(identifiers=identifiers, traits=traits)


def _is_weak(kind: str) -> bool:
    return kind.split(":", 1)[0] in WEAK_KINDS
