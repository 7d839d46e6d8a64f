"""Secret API keys (scoped, stored hashed, shown once) and public per-source write keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.crypto import hash_token, keyring, new_token
from rapport.core.ids import new_id
from rapport.identity.audit import Actor, audit
from rapport.identity.enums import ROLE_SCOPES, ActorType, Scope
from rapport.identity.errors import (
    ApiKeyNotFound,
    InvalidWebhookSecret,
    MissingScope,
    NotSignedIn,
    SourceNotFound,
)
from rapport.identity.models import ApiKey, Source
from rapport.identity.repository import (
    ApiKeyLookup,
    ApiKeyRepository,
    SourceLookup,
    SourceRepository,
)
from rapport.identity.schemas import Principal

API_KEY_PREFIX = "rk_"
WRITE_KEY_PREFIX = "wk_"
PREFIX_SHOWN = 10
WEBHOOK_SECRET_BYTES = 32
WEBHOOK_SECRET_LENGTHS = (16, 200)


class ApiKeyService:
    async def create(
        self,
        session: AsyncSession,
        *,
        workspace_id: str,
        name: str,
        scopes: list[Scope],
        actor: Actor,
        granter: Principal | None = None,
    ) -> tuple[ApiKey, str]:
        """Create a key; return it with the secret, which is never stored or shown again."""
        if granter is not None and not set(scopes) <= granter.scopes:
            raise MissingScope("A key cannot grant scopes its creator does not hold.")
        secret = new_token(API_KEY_PREFIX, 32)
        repository = ApiKeyRepository(session, workspace_id)
        key = await repository.add(
            ApiKey(
                name=name,
                prefix=secret[:PREFIX_SHOWN],
                key_hash=hash_token(secret),
                scopes=sorted(str(s) for s in scopes),
                created_by=actor.id,
                staff_id=await _authority_of(repository, actor),
            )
        )
        await audit.record(
            session,
            "api_key.created",
            actor,
            workspace_id=workspace_id,
            target_type="api_key",
            target_id=key.id,
            details={"scopes": key.scopes},
        )
        return key, secret

    async def list(self, session: AsyncSession, principal: Principal) -> Sequence[ApiKey]:
        """Return the workspace's API keys (never their secrets)."""
        return await ApiKeyRepository(session, principal.workspace_id).list_all()

    async def revoke(self, session: AsyncSession, principal: Principal, key_id: str) -> ApiKey:
        """Revoke a key; it stops working at once."""
        key = await ApiKeyRepository(session, principal.workspace_id).get(key_id)
        if key is None:
            raise ApiKeyNotFound("No such API key in this workspace.")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            await audit.record(
                session,
                "api_key.revoked",
                Actor.of(principal),
                workspace_id=principal.workspace_id,
                target_type="api_key",
                target_id=key.id,
            )
        return key

    async def authenticate(
        self, session: AsyncSession, secret: str, ip_address: str | None
    ) -> Principal:
        """Return the principal behind a presented secret key: never more than the current
        role of the staff member it acts for allows, and nothing once they are gone."""
        found = await ApiKeyLookup(session).get_by_hash(hash_token(secret))
        if found is None or found.key.revoked_at is not None:
            raise NotSignedIn("API key is not valid or was revoked.")
        key, scopes = found.key, _known_scopes(found.key.scopes)
        if key.staff_id is not None:
            if found.role is None or not found.staff_active:
                raise NotSignedIn("API key is not valid or was revoked.")
            scopes &= ROLE_SCOPES[found.role]
        now = utcnow()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            key.last_used_at = now
        return Principal(
            workspace_id=key.workspace_id,
            actor_type=ActorType.api_key,
            actor_id=key.id,
            scopes=scopes,
            ip_address=ip_address,
        )

    async def limit_for_staff(
        self,
        session: AsyncSession,
        *,
        workspace_id: str,
        staff_id: str,
        allowed: frozenset[Scope],
        actor: Actor,
        reason: str,
    ) -> None:
        """Narrow a staff member's live keys in a workspace to `allowed` (revoking those left
        with nothing), auditing each key changed."""
        for key in await ApiKeyRepository(session, workspace_id).live_for_staff(staff_id):
            kept = sorted(scope for scope in key.scopes if scope in allowed)
            dropped = sorted(set(key.scopes) - set(kept))
            if kept and not dropped:
                continue
            if kept:  # a revoked key keeps the scopes it had, for the record
                key.scopes = kept
            else:
                key.revoked_at = utcnow()
            action = "api_key.narrowed" if kept else "api_key.revoked"
            await audit.record(
                session,
                action,
                actor,
                workspace_id=workspace_id,
                target_type="api_key",
                target_id=key.id,
                details={"reason": reason, "scopes": kept, "dropped": dropped},
            )


async def _authority_of(repository: ApiKeyRepository, actor: Actor) -> str | None:
    """Return the staff member a new key acts for: its staff creator, or the one its creating
    key acts for (so keys made by keys follow the same person); None for the system."""
    if actor.type == ActorType.staff:
        return actor.id
    if actor.type != ActorType.api_key:
        return None
    creator = await repository.get(actor.id)
    if creator is None:
        raise NotSignedIn("API key is not valid or was revoked.")
    return creator.staff_id


def _known_scopes(stored: list[str]) -> frozenset[Scope]:
    return frozenset(Scope(s) for s in stored if s in Scope._value2member_map_)


class SourceService:
    async def create(
        self, session: AsyncSession, *, workspace_id: str, name: str, actor: Actor
    ) -> Source:
        """Create an event source with a fresh public write key and webhook signing secret."""
        source_id = new_id()
        source = await SourceRepository(session, workspace_id).add(
            Source(
                id=source_id,
                name=name,
                write_key=new_token(WRITE_KEY_PREFIX, 24),
                webhook_secret=_seal_secret(_random_secret(), source_id),
                webhook_secret_set_at=utcnow(),
            )
        )
        await audit.record(
            session,
            "source.created",
            actor,
            workspace_id=workspace_id,
            target_type="source",
            target_id=source.id,
        )
        return source

    async def list(self, session: AsyncSession, principal: Principal) -> Sequence[Source]:
        """Return the workspace's sources."""
        return await SourceRepository(session, principal.workspace_id).list_all()

    async def by_write_key(self, session: AsyncSession, write_key: str) -> Source | None:
        """Return the enabled source that owns a write key."""
        source = await SourceLookup(session).get_by_write_key(write_key)
        return source if source is not None and source.enabled else None

    async def get(self, session: AsyncSession, workspace_id: str, source_id: str) -> Source:
        """Return one of the workspace's sources or raise SourceNotFound."""
        source = await SourceRepository(session, workspace_id).get(source_id)
        if source is None:
            raise SourceNotFound("No such event source in this workspace.")
        return source

    async def webhook_secret(
        self, session: AsyncSession, workspace_id: str, source_id: str
    ) -> str | None:
        """Return the secret the source's shop webhooks must be signed with, if one is set."""
        source = await self.get(session, workspace_id, source_id)
        if source.webhook_secret is None:
            return None
        return keyring().decrypt(source.webhook_secret, _secret_aad(source.id))

    async def set_webhook_secret(
        self,
        session: AsyncSession,
        *,
        workspace_id: str,
        source_id: str,
        actor: Actor,
        secret: str | None = None,
    ) -> str:
        """Replace a source's webhook signing secret with the one the shop shows (Shopify:
        "your webhooks will be signed with ...") or, when none is given, a new random one;
        the old secret stops working at once. Return the new secret."""
        source = await self.get(session, workspace_id, source_id)
        chosen = _random_secret() if secret is None else _checked_secret(secret)
        source.webhook_secret = _seal_secret(chosen, source.id)
        source.webhook_secret_set_at = utcnow()
        await audit.record(
            session,
            "source.webhook_secret_changed",
            actor,
            workspace_id=workspace_id,
            target_type="source",
            target_id=source.id,
            details={"generated": secret is None},
        )
        return chosen


def _secret_aad(source_id: str) -> str:
    return f"sources.webhook_secret:{source_id}"


def _seal_secret(secret: str, source_id: str) -> bytes:
    return keyring().encrypt(secret, _secret_aad(source_id))


def _random_secret() -> str:
    return new_token(nbytes=WEBHOOK_SECRET_BYTES)


def _checked_secret(secret: str) -> str:
    secret = secret.strip()
    shortest, longest = WEBHOOK_SECRET_LENGTHS
    printable = secret.isascii() and secret.isprintable() and " " not in secret
    if not shortest <= len(secret) <= longest or not printable:
        raise InvalidWebhookSecret(
            f"A webhook secret is {shortest}-{longest} printable characters without spaces."
        )
    return secret


api_keys = ApiKeyService()
sources = SourceService()
