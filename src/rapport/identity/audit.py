"""The audit log: append-only, each record MACed with a ring key over the previous one's hash."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.crypto import keyring
from rapport.identity.enums import ActorType
from rapport.identity.models import AuditEvent
from rapport.identity.repository import AuditFilter, AuditRepository
from rapport.identity.schemas import Principal

GENESIS_HASH = "0" * 64
VERIFY_CHUNK = 1000
MAC_PURPOSE = "rapport.audit-mac.v1"
LEGACY_DIGEST = 0  # unkeyed SHA-256: records made before keyed MACs
KEYED_MAC = 1  # HMAC-SHA256 with the ring key named by mac_key_id


@dataclass(frozen=True)
class Actor:
    """Who did something, for the audit log."""

    type: ActorType
    id: str | None = None
    ip_address: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """Return the actor behind a principal."""
        return cls(principal.actor_type, principal.actor_id, principal.ip_address)


SYSTEM = Actor(ActorType.system, "cli")


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying the chain."""

    checked: int
    first_broken_seq: int | None
    reason: str | None = None


def _canonical(event: AuditEvent) -> str:
    content = {
        "seq": event.seq,
        "created_at": event.created_at.isoformat(timespec="microseconds"),
        "workspace_id": event.workspace_id,
        "actor_type": str(event.actor_type),
        "actor_id": event.actor_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip_address": event.ip_address,
        "details": event.details,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)


def event_digest(event: AuditEvent) -> str:
    """Return the unkeyed (version 0) hash of a record: its previous hash and its content."""
    return hashlib.sha256(f"{event.prev_hash}|{_canonical(event)}".encode()).hexdigest()


def event_mac(event: AuditEvent, key: bytes) -> str:
    """Return the keyed (version 1) MAC of a record: its key id, previous hash and content."""
    message = f"v{KEYED_MAC}|{event.mac_key_id}|{event.prev_hash}|{_canonical(event)}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Rules:
    """What an intact record must satisfy, beyond linking to the one before it."""

    legacy_until_seq: int
    keys: Mapping[str, bytes]
    anchors: Mapping[int, str] = field(default_factory=dict)

    def problem(self, event: AuditEvent, expected_seq: int, previous: str) -> str | None:
        """Return why `event` is not the intact record `expected_seq`, or None."""
        if event.seq != expected_seq:
            return "record missing"
        if event.prev_hash != previous:
            return "does not link to the record before it"
        key = self.keys.get(event.mac_key_id or "")
        if event.mac_version == LEGACY_DIGEST and event.seq <= self.legacy_until_seq:
            expected = event_digest(event)
        elif event.mac_version == KEYED_MAC and key is not None:
            expected = event_mac(event, key)
        elif event.mac_version == KEYED_MAC:
            return f"made with key {event.mac_key_id}, which is not in the key ring"
        else:
            return "not keyed, though the keyed chain had begun"
        if not hmac.compare_digest(event.hash, expected):
            return "content does not match its MAC"
        if self.anchors.get(event.seq, event.hash) != event.hash:
            return "differs from a signed checkpoint"
        return None


def boundary_mac(legacy_until_seq: int, key_id: str, key: bytes) -> str:
    """Return the sealed form ("key id:MAC") of the last seq that may be unkeyed."""
    message = f"rapport.audit.legacy-until|{legacy_until_seq}".encode()
    return f"{key_id}:{hmac.new(key, message, hashlib.sha256).hexdigest()}"


def trusted_boundary(legacy_until_seq: int, sealed: str | None, keys: Mapping[str, bytes]) -> int:
    """Return the legacy boundary if its MAC checks out under a ring key, else 0 (no record
    may then be unkeyed): whoever raises the boundary without the key gains nothing."""
    key_id, _, _ = (sealed or "").partition(":")
    key = keys.get(key_id)
    if legacy_until_seq == 0 or key is None or sealed is None:
        return 0
    expected = boundary_mac(legacy_until_seq, key_id, key)
    return legacy_until_seq if hmac.compare_digest(sealed, expected) else 0


def mac_keys() -> dict[str, bytes]:
    """Return the ring's audit MAC keys by key id (every key of the ring checks)."""
    return {key.key_id: key.secret for key in keyring().purpose_keys(MAC_PURPOSE)}


class AuditService:
    async def record(
        self,
        session: AsyncSession,
        action: str,
        actor: Actor,
        *,
        workspace_id: str | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Append one record to the chain, in the caller's transaction."""
        repository = AuditRepository(session)
        seq, previous, unsealed = await repository.advance_head()
        event = AuditEvent(
            seq=seq,
            created_at=utcnow(),
            workspace_id=workspace_id,
            actor_type=actor.type,
            actor_id=actor.id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            ip_address=actor.ip_address,
            details=details or {},
            prev_hash=previous,
            mac_version=KEYED_MAC,
        )
        key = keyring().purpose_keys(MAC_PURPOSE)[0]
        event.mac_key_id = key.key_id
        event.hash = event_mac(event, key.secret)
        await repository.add(event)
        await repository.set_head_hash(event.hash)
        if unsealed:
            await self.seal_legacy_boundary(session)
        return event

    async def seal_legacy_boundary(self, session: AsyncSession) -> None:
        """MAC the legacy boundary that migration 0005 fixed, once (`rapport db upgrade` and
        the first record this process appends both call this; a seal is never replaced)."""
        repository = AuditRepository(session)
        legacy_until_seq, sealed = await repository.legacy_boundary()
        if legacy_until_seq > 0 and sealed is None:
            key = keyring().purpose_keys(MAC_PURPOSE)[0]
            await repository.seal_legacy_boundary(
                boundary_mac(legacy_until_seq, key.key_id, key.secret)
            )

    async def list_for_workspace(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        before_seq: int | None,
        limit: int,
        only: AuditFilter | None = None,
    ) -> Sequence[AuditEvent]:
        """Return the workspace's audit records, newest first, filtered by `only`."""
        return await AuditRepository(session).page(
            principal.workspace_id, before_seq=before_seq, limit=limit, only=only
        )

    async def actions(self, session: AsyncSession, principal: Principal) -> list[str]:
        """Return the actions recorded in the workspace (for a filter's choices)."""
        return await AuditRepository(session).actions(principal.workspace_id)

    async def verify(
        self,
        session: AsyncSession,
        *,
        anchors: Mapping[int, str] | None = None,
        after: tuple[int, str] = (0, GENESIS_HASH),
    ) -> ChainReport:
        """Walk the chain after record `after` (seq, hash) up to the head; report the first
        record whose link, MAC or checkpointed hash is wrong."""
        repository = AuditRepository(session)
        head_seq, head_hash = await repository.head()
        keys = mac_keys()
        boundary = trusted_boundary(*await repository.legacy_boundary(), keys)
        rules = _Rules(boundary, keys, anchors or {})
        (seq, previous), checked = after, 0
        while chunk := await repository.in_order(seq, VERIFY_CHUNK, through_seq=head_seq):
            for event in chunk:
                problem = rules.problem(event, seq + 1, previous)
                if problem is not None:
                    return ChainReport(checked, seq + 1, problem)
                seq, previous, checked = event.seq, event.hash, checked + 1
        if seq != head_seq or previous != head_hash:
            return ChainReport(checked, seq + 1, "records were cut off the end")
        beyond = [anchor for anchor in rules.anchors if anchor > seq]
        if beyond:
            return ChainReport(checked, min(beyond), "a checkpointed record is missing")
        return ChainReport(checked, None)


audit = AuditService()
