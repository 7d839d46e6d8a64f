"""Every SQL statement of the identity domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import lock_key
from rapport.core.repository import Repository, TenantRepository
from rapport.core.retention import delete_oldest
from rapport.identity.enums import ActorType, Role
from rapport.identity.models import (
    ApiKey,
    AuditChainHead,
    AuditCheckpoint,
    AuditEvent,
    Invitation,
    Membership,
    RecoveryCode,
    SignInFailure,
    Source,
    StaffSession,
    StaffUser,
    Workspace,
)


class WorkspaceRepository(Repository[Workspace]):
    model = Workspace

    async def get_by_slug(self, slug: str) -> Workspace | None:
        """Return the workspace with this slug."""
        return await self.one_or_none(select(Workspace).where(Workspace.slug == slug))

    async def list_all(self) -> Sequence[Workspace]:
        """Return every workspace by slug."""
        return await self.all(select(Workspace).order_by(Workspace.slug))

    async def list_for_staff(self, staff_id: str) -> Sequence[tuple[Workspace, Membership]]:
        """Return the workspaces a staff user belongs to, with their membership."""
        rows = await self.session.execute(
            select(Workspace, Membership)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Membership.staff_id == staff_id)
            .order_by(Workspace.name)
        )
        return [(row[0], row[1]) for row in rows]


class StaffRepository(Repository[StaffUser]):
    model = StaffUser

    async def password_hash_of(self, staff_id: str) -> str | None:
        """Return a staff member's stored password hash."""
        statement = select(StaffUser.password_hash).where(StaffUser.id == staff_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def set_password_hash(self, staff_id: str, password_hash: str) -> None:
        """Store a new password hash for a staff member."""
        await self.session.execute(
            update(StaffUser).where(StaffUser.id == staff_id).values(password_hash=password_hash)
        )

    async def get_by_email(self, email: str) -> StaffUser | None:
        """Return the staff user with this (normalised) email."""
        return await self.one_or_none(select(StaffUser).where(StaffUser.email == email))

    async def advance_totp_counter(self, staff_id: str, counter: int) -> bool:
        """Record `counter` as the last TOTP step used, unless it or a later one already was."""
        # One conditional UPDATE: of two requests racing with the same code, one wins.
        result = await self.session.execute(
            update(StaffUser)
            .where(StaffUser.id == staff_id, StaffUser.totp_last_counter < counter)
            .values(totp_last_counter=counter)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class MembershipRepository(TenantRepository[Membership]):
    model = Membership

    async def for_staff(self, staff_id: str) -> Membership | None:
        """Return the staff user's membership in this workspace."""
        return await self.one_or_none(self.base_query().where(Membership.staff_id == staff_id))

    async def members_among(self, staff_ids: list[str]) -> set[str]:
        """Return which of these staff users are members of the workspace."""
        rows = await self.session.execute(
            select(Membership.staff_id).where(
                Membership.workspace_id == self.workspace_id, Membership.staff_id.in_(staff_ids)
            )
        )
        return {str(row[0]) for row in rows}

    async def list_with_staff(self) -> Sequence[tuple[Membership, StaffUser]]:
        """Return every member of the workspace with their account."""
        rows = await self.session.execute(
            select(Membership, StaffUser)
            .join(StaffUser, StaffUser.id == Membership.staff_id)
            .where(Membership.workspace_id == self.workspace_id)
            .order_by(StaffUser.display_name)
        )
        return [(row[0], row[1]) for row in rows]

    async def count_owners(self) -> int:
        """Count the owners of the workspace, locking their rows until the transaction ends
        (two owners demoting each other at once must not leave none)."""
        owners = self.base_query().where(Membership.role == "owner").with_for_update()
        return len(await self.all(owners))


def _still_open() -> tuple[ColumnElement[bool], ...]:
    return (
        Invitation.accepted_at.is_(None),
        Invitation.declined_at.is_(None),
        Invitation.revoked_at.is_(None),
    )


class InvitationRepository(TenantRepository[Invitation]):
    model = Invitation

    async def list_open(self) -> Sequence[Invitation]:
        """Return the workspace's invitations nobody accepted, declined or revoked, newest first
        (expired ones included, so an admin sees them and can invite again)."""
        return await self.all(
            self.base_query().where(*_still_open()).order_by(Invitation.created_at.desc())
        )

    async def open_for_email(self, email_index: str) -> Sequence[Invitation]:
        """Return the workspace's open invitations for one email (by its blind index)."""
        return await self.all(
            self.base_query().where(Invitation.email_index == email_index, *_still_open())
        )


class InvitationLookup(Repository[Invitation]):
    """Unscoped access used only through an invitation link's token."""

    model = Invitation

    async def get_by_token_hash(self, token_hash: str) -> Invitation | None:
        """Return the invitation whose link token hashes to `token_hash`."""
        return await self.one_or_none(select(Invitation).where(Invitation.token_hash == token_hash))

    async def close(
        self, invitation_id: str, now: datetime, *, unexpired: bool = True, **values: object
    ) -> bool:
        """Set `values` (accepted/declined/revoked) on an invitation that is still open (and,
        unless `unexpired` is False, unexpired); return whether it was (of two racing
        requests, one wins)."""
        statement = update(Invitation).where(Invitation.id == invitation_id, *_still_open())
        if unexpired:
            statement = statement.where(Invitation.expires_at > now)
        result = await self.session.execute(
            statement.values(**values).execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class SessionRepository(Repository[StaffSession]):
    model = StaffSession

    async def get_by_token_hash(self, token_hash: str) -> StaffSession | None:
        """Return the session whose token hashes to `token_hash`."""
        return await self.one_or_none(
            select(StaffSession).where(StaffSession.token_hash == token_hash)
        )

    async def any_seen_in(self, workspace_id: str, since: datetime, now: datetime) -> bool:
        """Tell whether a live session in a workspace was used since `since`."""
        query = select(StaffSession.id).where(
            StaffSession.workspace_id == workspace_id,
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > now,
            StaffSession.last_seen_at >= since,
        )
        return (await self.session.execute(query.limit(1))).first() is not None

    async def staff_seen_in(self, workspace_id: str, since: datetime, now: datetime) -> set[str]:
        """Return the staff members with a live session in a workspace used since `since`."""
        query = select(StaffSession.staff_id).where(
            StaffSession.workspace_id == workspace_id,
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > now,
            StaffSession.last_seen_at >= since,
        )
        return {str(row[0]) for row in await self.session.execute(query.distinct())}

    async def revoke_all_for_staff(
        self, staff_id: str, now: datetime, *, except_session_id: str | None = None
    ) -> None:
        """Revoke every live session of a staff user, optionally but one."""
        statement = update(StaffSession).where(
            StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None)
        )
        if except_session_id is not None:
            statement = statement.where(StaffSession.id != except_session_id)
        await self.session.execute(statement.values(revoked_at=now))


class RecoveryCodeRepository(Repository[RecoveryCode]):
    model = RecoveryCode

    async def replace_for_staff(self, staff_id: str, code_hashes: list[str]) -> None:
        """Replace a staff user's recovery codes."""
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff_id))
        self.session.add_all(RecoveryCode(staff_id=staff_id, code_hash=h) for h in code_hashes)
        await self.session.flush()

    async def use(self, staff_id: str, code_hash: str, now: datetime) -> bool:
        """Mark an unused code as used; return whether one was."""
        result = await self.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.staff_id == staff_id,
                RecoveryCode.code_hash == code_hash,
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def count_unused(self, staff_id: str) -> int:
        """Count the recovery codes a staff user has left."""
        return await self.count(
            select(RecoveryCode).where(
                RecoveryCode.staff_id == staff_id, RecoveryCode.used_at.is_(None)
            )
        )


class SignInFailureRepository(Repository[SignInFailure]):
    model = SignInFailure

    async def count_since(self, key: str, since: datetime) -> int:
        """Count the failures recorded under `key` since `since`."""
        statement = select(func.count()).where(
            SignInFailure.key == key, SignInFailure.created_at >= since
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def lock_keys(self, keys: list[str]) -> None:
        """Make counting and recording under `keys` one step at a time until commit (an
        advisory lock per key on PostgreSQL, the writer on SQLite)."""
        for key in sorted(set(keys)):  # one order everywhere: no deadlock
            await lock_key(self.session, f"sign-in:{key}")

    async def forget(self, failure_ids: list[str]) -> None:
        """Delete some failures by id."""
        await self.session.execute(delete(SignInFailure).where(SignInFailure.id.in_(failure_ids)))

    async def clear(self, key: str) -> None:
        """Forget the failures recorded under `key`."""
        await self.session.execute(delete(SignInFailure).where(SignInFailure.key == key))


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey

    async def list_all(self) -> Sequence[ApiKey]:
        """Return the workspace's keys, newest first."""
        return await self.all(self.base_query().order_by(ApiKey.created_at.desc()))

    async def live_for_staff(self, staff_id: str) -> Sequence[ApiKey]:
        """Return the unrevoked keys carrying a staff member's authority, oldest first,
        locked until the transaction ends (they are about to be narrowed or revoked)."""
        statement = self.base_query().where(
            ApiKey.staff_id == staff_id, ApiKey.revoked_at.is_(None)
        )
        return await self.all(statement.order_by(ApiKey.created_at).with_for_update())


@dataclass(frozen=True)
class KeyWithAuthority:
    """A key with its staff member's current role in its workspace (None: not a member) and
    whether their account is active; both mean nothing for keys the system made."""

    key: ApiKey
    role: Role | None
    staff_active: bool


class ApiKeyLookup(Repository[ApiKey]):
    """Unscoped lookup used only to authenticate a presented key."""

    model = ApiKey

    async def get_by_hash(self, key_hash: str) -> KeyWithAuthority | None:
        """Return the key whose hash is `key_hash` with its staff member's role and account
        state, in the one statement authentication costs."""
        statement = (
            select(ApiKey, Membership.role, StaffUser.is_active)
            .outerjoin(
                Membership,
                (Membership.workspace_id == ApiKey.workspace_id)
                & (Membership.staff_id == ApiKey.staff_id),
            )
            .outerjoin(StaffUser, StaffUser.id == ApiKey.staff_id)
            .where(ApiKey.key_hash == key_hash)
        )
        row = (await self.session.execute(statement)).first()
        if row is None:
            return None
        return KeyWithAuthority(row[0], row[1], bool(row[2]))


class SourceRepository(TenantRepository[Source]):
    model = Source

    async def list_all(self) -> Sequence[Source]:
        """Return the workspace's sources, oldest first."""
        return await self.all(self.base_query().order_by(Source.created_at))


class SourceLookup(Repository[Source]):
    """Unscoped lookup used only to authenticate a write key."""

    model = Source

    async def get_by_write_key(self, write_key: str) -> Source | None:
        """Return the source that owns `write_key`."""
        return await self.one_or_none(select(Source).where(Source.write_key == write_key))


@dataclass(frozen=True)
class AuditFilter:
    """Which audit records to list: by actor (a staff id or an actor type), action, time."""

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """Return the WHERE conditions this filter adds."""
        found: list[ColumnElement[bool]] = []
        if self.actor in set(ActorType):
            found.append(AuditEvent.actor_type == ActorType(self.actor))
        elif self.actor:
            found.append(AuditEvent.actor_id == self.actor)
        if self.action:
            found.append(AuditEvent.action == self.action)
        if self.since is not None:
            found.append(AuditEvent.created_at >= self.since)
        if self.until is not None:
            found.append(AuditEvent.created_at < self.until)
        return found


class AuditRepository(Repository[AuditEvent]):
    model = AuditEvent

    async def advance_head(self) -> tuple[int, str, bool]:
        """Lock the chain head and return (next seq, previous hash, whether a legacy
        boundary still waits for its seal)."""
        result = await self.session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == 1)
            .values(seq=AuditChainHead.seq + 1)
            .returning(
                AuditChainHead.seq,
                AuditChainHead.hash,
                AuditChainHead.legacy_until_seq,
                AuditChainHead.legacy_until_mac,
            )
        )
        seq, previous, legacy_until_seq, sealed = result.one()
        return int(seq), str(previous), legacy_until_seq > 0 and sealed is None

    async def head(self) -> tuple[int, str]:
        """Return the chain head's seq and hash without locking it."""
        row = (
            await self.session.execute(
                select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == 1)
            )
        ).one()
        return int(row[0]), str(row[1])

    async def legacy_boundary(self) -> tuple[int, str | None]:
        """Return the last seq that may carry an unkeyed (version 0) hash, and its MAC."""
        statement = select(AuditChainHead.legacy_until_seq, AuditChainHead.legacy_until_mac)
        seq, mac = (await self.session.execute(statement.where(AuditChainHead.id == 1))).one()
        return int(seq), mac

    async def seal_legacy_boundary(self, mac: str) -> None:
        """Store the legacy boundary's MAC, unless one is stored already."""
        await self.session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == 1, AuditChainHead.legacy_until_mac.is_(None))
            .values(legacy_until_mac=mac)
        )

    async def set_head_hash(self, digest: str) -> None:
        """Record the hash of the newest event on the chain head."""
        await self.session.execute(
            update(AuditChainHead).where(AuditChainHead.id == 1).values(hash=digest)
        )

    async def page(
        self,
        workspace_id: str | None,
        *,
        before_seq: int | None,
        limit: int,
        only: AuditFilter | None = None,
    ) -> Sequence[AuditEvent]:
        """Return audit events newest first, optionally for one workspace and filtered."""
        statement = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
        if only is not None:
            statement = statement.where(*only.conditions())
        if workspace_id is not None:
            statement = statement.where(AuditEvent.workspace_id == workspace_id)
        if before_seq is not None:
            statement = statement.where(AuditEvent.seq < before_seq)
        return await self.all(statement)

    async def actions(self, workspace_id: str) -> list[str]:
        """Return the actions recorded in a workspace, alphabetically."""
        statement = (
            select(AuditEvent.action)
            .where(AuditEvent.workspace_id == workspace_id)
            .distinct()
            .order_by(AuditEvent.action)
        )
        return [str(action) for action in (await self.session.execute(statement)).scalars()]

    async def in_order(
        self, after_seq: int, limit: int, *, through_seq: int | None = None
    ) -> Sequence[AuditEvent]:
        """Return a slice of the chain in order (up to `through_seq`), for verification."""
        statement = select(AuditEvent).where(AuditEvent.seq > after_seq)
        if through_seq is not None:
            statement = statement.where(AuditEvent.seq <= through_seq)
        return await self.all(statement.order_by(AuditEvent.seq).limit(limit))


class AuditCheckpointRepository(Repository[AuditCheckpoint]):
    model = AuditCheckpoint

    async def latest(self) -> AuditCheckpoint | None:
        """Return the checkpoint of the furthest point of the chain."""
        return await self.one_or_none(
            select(AuditCheckpoint)
            .order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.id.desc())
            .limit(1)
        )

    async def in_order(self) -> Sequence[AuditCheckpoint]:
        """Return every stored checkpoint, oldest first."""
        return await self.all(select(AuditCheckpoint).order_by(AuditCheckpoint.id))


async def prune_sign_in_failures(
    session: AsyncSession, before: datetime, limit: int, after: str | None
) -> str | None:
    """Delete a chunk of the failed sign-ins recorded before `before` (no window counts them
    any more); return where the next chunk starts."""
    return await delete_oldest(session, SignInFailure, before, limit, after)
