"""The audit log: append-only, each record hashed with the previous one's hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.identity.enums import ActorType
from rapport.identity.models import AuditEvent
from rapport.identity.repository import AuditRepository
from rapport.identity.schemas import Principal

GENESIS_HASH = "0" * 64
VERIFY_CHUNK = 1000


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


def event_digest(event: AuditEvent) -> str:
    """Return the hash of a record: its previous hash and its canonical content."""
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
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{event.prev_hash}|{canonical}".encode()).hexdigest()


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
        seq, previous = await repository.advance_head()
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
        )
        event.hash = event_digest(event)
        await repository.add(event)
        await repository.set_head_hash(event.hash)
        return event

    async def list_for_workspace(
        self, session: AsyncSession, principal: Principal, *, before_seq: int | None, limit: int
    ) -> Sequence[AuditEvent]:
        """Return the workspace's audit records, newest first."""
        return await AuditRepository(session).page(
            principal.workspace_id, before_seq=before_seq, limit=limit
        )

    async def verify(self, session: AsyncSession) -> ChainReport:
        """Walk the whole chain; report the first record whose link or content is broken."""
        repository = AuditRepository(session)
        previous, expected_seq, checked = GENESIS_HASH, 1, 0
        while chunk := await repository.in_order(expected_seq - 1, VERIFY_CHUNK):
            for event in chunk:
                intact = (
                    event.seq == expected_seq
                    and event.prev_hash == previous
                    and event.hash == event_digest(event)
                )
                if not intact:
                    return ChainReport(checked, expected_seq)
                previous, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
        head_seq, head_hash = await repository.head()
        if head_seq != checked or head_hash != previous:
            return ChainReport(checked, checked + 1)  # records were cut off the end
        return ChainReport(checked, None)


audit = AuditService()
