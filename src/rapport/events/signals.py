"""Read who a Segment call is about: identifiers, traits and consent preferences, and whether
processing may resolve it by a lookup key alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rapport.customers.schemas import PLAIN_CALLS, IdentitySignal, Observed

TRAIT_IDENTIFIERS = (("email", "email"), ("phone", "phone"))
MAX_EXTERNAL_IDS = 10


def signal_of(
    message: dict[str, Any],
    *,
    at: datetime,
    channel: str,
    source: str,
    trusted: bool,
    verified: bool = True,
) -> IdentitySignal:
    """Build the identity signal of one stored call (`verified` false: nobody vouched for
    its identity although its source requires it, so it is only a claim)."""
    traits = _traits(message)
    signal = IdentitySignal(
        identifiers=_identifiers(message, traits),
        at=at,
        channel=channel,
        source=source,
        trusted=trusted,
        traits=traits,
        consent=_consent(message),
        reason=str(message.get("type")),
        verified=verified,
    )
    if message.get("type") == "alias":
        previous = message.get("previousId")
        # previousId is kept as the profile's anonymous id even when no event has used it
        # yet, so an anonymous call processed after the alias still finds the profile.
        signal.identifiers = [
            Observed("user_id", str(message.get("userId"))),
            Observed("anonymous_id", str(previous)),
        ]
        signal.lookup_only = [Observed("user_id", str(previous))]
    return signal


def lookup_key_of(message: dict[str, Any], *, at: datetime, channel: str) -> str | None:
    """Return the key processing may resolve a call by without reading who it is about
    (`IdentitySignal.lookup_key`): set for a page, screen or track call whose whole
    identity is one anonymous id and that carries no traits or consent. Computed when the
    call is stored; None for any other."""
    if message.get("userId") is not None or message.get("type") not in PLAIN_CALLS:
        return None  # never keyed: saves building the signal
    try:
        signal = signal_of(message, at=at, channel=channel, source="ingestion", trusted=False)
        return signal.lookup_key()
    except Exception:  # a key never costs a call its place: without one it is read whole
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _traits(message: dict[str, Any]) -> dict[str, Any]:
    context_traits = _dict(_dict(message.get("context")).get("traits"))
    own = _dict(message.get("traits")) if message.get("type") == "identify" else {}
    return {**context_traits, **own}


def _identifiers(message: dict[str, Any], traits: dict[str, Any]) -> list[Observed]:
    found: list[Observed] = []
    for kind, key in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
        if message.get(key) is not None:
            found.append(Observed(kind, str(message[key])))
    for kind, trait in TRAIT_IDENTIFIERS:
        if isinstance(traits.get(trait), (str, int)):
            found.append(Observed(kind, str(traits[trait])))
    context = _dict(message.get("context"))
    device_id = _dict(context.get("device")).get("id")
    if isinstance(device_id, (str, int)):
        found.append(Observed("device_id", str(device_id)))
    return found + _external_ids(context)


def _external_ids(context: dict[str, Any]) -> list[Observed]:
    external = context.get("externalIds")
    if not isinstance(external, list):
        return []
    found = []
    for item in external[:MAX_EXTERNAL_IDS]:
        item = _dict(item)
        kind = "".join(
            c for c in str(item.get("type", "")).strip().lower() if c.isalnum() or c in "_-."
        )[:50]
        if kind and isinstance(item.get("id"), (str, int)):
            found.append(Observed(f"external:{kind}", str(item["id"])))
    return found


def _consent(message: dict[str, Any]) -> dict[str, bool]:
    consent = _dict(_dict(message.get("context")).get("consent"))
    preferences = _dict(consent.get("categoryPreferences"))
    return {str(name): value for name, value in preferences.items() if isinstance(value, bool)}
