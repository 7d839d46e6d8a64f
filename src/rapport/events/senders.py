"""Who sends calls: write keys and secret keys authenticated, write keys remembered briefly."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.events.errors import InvalidWriteKey
from rapport.identity.enums import Scope
from rapport.identity.errors import NotSignedIn
from rapport.identity.keys import API_KEY_PREFIX, api_keys, sources

SOURCE_CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class Sender:
    """Who sent calls: a source by its public write key, or a trusted server by secret key."""

    workspace_id: str
    source_id: str | None
    trusted: bool


# Write keys authenticated in this process: when each entry lapses, and who it names.
_source_cache: dict[str, tuple[float, Sender]] = {}


def basic_username(authorization: str) -> str | None:
    """Return the user name of a Basic Authorization header (Segment puts the key there)."""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except ValueError:
        return None
    return decoded.partition(":")[0] or None


def cached_sender(key: str | None) -> Sender | None:
    """Return the sender of a write key authenticated here in the last SOURCE_CACHE_SECONDS."""
    cached = _source_cache.get(key or "")
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    return None


def known_here(key: str | None) -> bool:
    """Tell whether a write key was valid here before (its cache entry may have lapsed)."""
    return (key or "") in _source_cache


async def authenticate(session: AsyncSession, key: str | None, ip_address: str | None) -> Sender:
    """Resolve a write key (remembered briefly) or a secret key with events:write."""
    if not key:
        raise InvalidWriteKey()
    if key.startswith(API_KEY_PREFIX):
        try:
            principal = await api_keys.authenticate(session, key, ip_address)
        except NotSignedIn as error:
            raise InvalidWriteKey("Unknown, expired or revoked secret key.") from error
        if not principal.can(Scope.events_write):
            raise InvalidWriteKey("This secret key lacks the events:write scope.")
        return Sender(principal.workspace_id, None, trusted=True)
    source = await sources.by_write_key(session, key)
    if source is None:
        raise InvalidWriteKey("Unknown write key, or its source is disabled.")
    sender = Sender(source.workspace_id, source.id, trusted=False)
    _source_cache[key] = (time.monotonic() + SOURCE_CACHE_SECONDS, sender)
    return sender
