"""Identity verification: a per-source secret a shop's server signs its customers' user ids
with (hex HMAC-SHA256), so the public write key alone cannot speak for a known customer."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.crypto import keyring, new_token
from rapport.identity.audit import Actor, audit
from rapport.identity.keys import sources
from rapport.identity.models import Source
from rapport.identity.repository import SourceRepository

IDENTITY_SECRET_BYTES = 32
# Where Segment's clients carry a signature unchanged: the call's context, or its
# integration options (`integrations: {"Rapport": {"userHash": ...}}`).
INTEGRATION_NAME = "Rapport"
SIGNATURE_FIELD = "userHash"


def user_hash(secret: str, user_id: str) -> str:
    """Return the signature of a user id: hex HMAC-SHA256 keyed with the source's secret."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def is_signed(secret: str, user_id: str, signature: str) -> bool:
    """Tell, in constant time, whether a signature is the user id's."""
    expected = user_hash(secret, user_id).encode()
    return hmac.compare_digest(expected, signature.strip().lower().encode())


def signature_of(message: dict[str, Any]) -> str | None:
    """Return the signature a Segment call carries (`context.userHash`, else
    `integrations.Rapport.userHash`)."""
    for holder in (
        message.get("context"),
        _dict(message.get("integrations")).get(INTEGRATION_NAME),
    ):
        value = _dict(holder).get(SIGNATURE_FIELD)
        if isinstance(value, str) and value:
            return value
    return None


@dataclass(frozen=True)
class Policy:
    """What a source asks of the identities it sends: whether they must be signed, and the
    secret they are signed with."""

    required: bool
    secret: str | None

    def vouches_for(self, message: dict[str, Any]) -> bool:
        """Tell whether a call's userId carries a valid signature of this source."""
        user_id, signature = message.get("userId"), signature_of(message)
        if self.secret is None or user_id is None or signature is None:
            return False
        return is_signed(self.secret, str(user_id), signature)


@dataclass(frozen=True)
class SourceVerification:
    """A source with its verification setting and secret (None until one is made)."""

    source: Source
    required: bool
    secret: str | None


class IdentityVerificationService:
    async def policies(
        self, session: AsyncSession, workspace_id: str, source_ids: Iterable[str]
    ) -> dict[str, Policy]:
        """Return the verification policy of each of some sources of a workspace."""
        repository = SourceRepository(session, workspace_id)
        found: dict[str, Policy] = {}
        for source_id in sorted(set(source_ids)):
            source = await repository.get(source_id)
            if source is not None:
                found[source_id] = Policy(source.identity_verification_required, _opened(source))
        return found

    async def overview(self, session: AsyncSession, workspace_id: str) -> list[SourceVerification]:
        """Return every source of a workspace with its setting and secret (for admins)."""
        rows = await SourceRepository(session, workspace_id).list_all()
        return [
            SourceVerification(row, row.identity_verification_required, _opened(row))
            for row in rows
        ]

    async def secret(
        self, session: AsyncSession, *, workspace_id: str, source_id: str, actor: Actor
    ) -> str:
        """Return a source's identity secret, making one the first time it is asked for."""
        source = await sources.get(session, workspace_id, source_id)
        current = _opened(source)
        if current is not None:
            return current
        return await self._replace(session, source, actor, first=True)

    async def rotate(
        self, session: AsyncSession, *, workspace_id: str, source_id: str, actor: Actor
    ) -> str:
        """Replace a source's identity secret with a new random one (signatures made with the
        old one stop vouching at once); return the new secret."""
        source = await sources.get(session, workspace_id, source_id)
        return await self._replace(session, source, actor, first=source.identity_secret is None)

    async def set_required(
        self,
        session: AsyncSession,
        *,
        workspace_id: str,
        source_id: str,
        required: bool,
        actor: Actor,
    ) -> None:
        """Turn on or off the rule that unsigned identities from this source are only claims."""
        source = await sources.get(session, workspace_id, source_id)
        if source.identity_verification_required == required:
            return
        source.identity_verification_required = required
        await audit.record(
            session,
            "source.identity_verification_changed",
            actor,
            workspace_id=workspace_id,
            target_type="source",
            target_id=source.id,
            details={"required": required},
        )

    async def verifies(
        self,
        session: AsyncSession,
        workspace_id: str,
        source_id: str,
        user_id: str,
        signature: str | None,
    ) -> bool:
        """Tell whether a signature vouches for a user id on a source (for the chat widget,
        which carries the same `userHash` as the source's identify calls)."""
        source = await sources.get(session, workspace_id, source_id)
        secret = _opened(source)
        if secret is None or signature is None:
            return False
        return is_signed(secret, user_id, signature)

    async def _replace(
        self, session: AsyncSession, source: Source, actor: Actor, first: bool
    ) -> str:
        secret = new_token(nbytes=IDENTITY_SECRET_BYTES)
        source.identity_secret = keyring().encrypt(secret, _aad(source.id))
        source.identity_secret_set_at = utcnow()
        await audit.record(
            session,
            "source.identity_secret_changed",
            actor,
            workspace_id=source.workspace_id,
            target_type="source",
            target_id=source.id,
            details={"first": first},
        )
        return secret


def _aad(source_id: str) -> str:
    return f"sources.identity_secret:{source_id}"


def _opened(source: Source) -> str | None:
    if source.identity_secret is None:
        return None
    return keyring().decrypt(source.identity_secret, _aad(source.id))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


identity_verification = IdentityVerificationService()
