"""Signing in and out: throttling, server-side sessions, the MFA step, password changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.config import Settings
from rapport.core.clock import utcnow
from rapport.core.crypto import hash_token, new_token
from rapport.core.db import Database
from rapport.errors import RapportError
from rapport.identity.audit import Actor, audit
from rapport.identity.enums import ActorType
from rapport.identity.errors import (
    InvalidCredentials,
    NotSignedIn,
    StaffNotFound,
    WorkspaceNotFound,
)
from rapport.identity.models import StaffSession, StaffUser, Workspace
from rapport.identity.passwords import (
    STAFF_MIN_LENGTH,
    check_policy,
    hash_password,
    in_hashing_thread,
    verify_password,
)
from rapport.identity.repository import (
    SessionRepository,
    StaffRepository,
    WorkspaceRepository,
)
from rapport.identity.service import generate_password, normalise_email
from rapport.identity.throttle import Limit, Throttle

TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SignedIn:
    """A new session: the raw token goes in the cookie and nowhere else."""

    token: str
    session: StaffSession
    user: StaffUser
    needs_mfa: bool


class SignInService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def configure(self, settings: Settings) -> None:
        """Apply the limits and timeouts of `settings`."""
        self.settings = settings

    async def sign_in(
        self,
        database: Database,
        *,
        email: str,
        password: str,
        ip_address: str | None,
        replacing: str | None = None,
    ) -> SignedIn:
        """Check credentials under throttling and open a session (MFA still pending if on),
        ending the `replacing` session token if one is given.

        Argon2 takes ~100 ms of CPU: it runs in a thread between two short units of work,
        so no request waits for the database writer or a pooled connection meanwhile."""
        email = normalise_email(email)
        limits = self._limits(email, ip_address)
        async with database.session() as session:
            attempt = await self._throttle().reserve(session, limits, ip_address)
            user = await StaffRepository(session).get_by_email(email)
        stored = user.password_hash if user else None
        ok, new_hash = await in_hashing_thread(verify_password, stored, password)
        async with database.session() as session:
            if user is None or not ok or not user.is_active:
                # The attempt stays counted (reserved above); the failure is audited and
                # committed before the refusal is raised.
                await self._audit_failure(session, ip_address, user)
                signed = None
            else:
                await self._throttle().release(session, attempt)
                await self._throttle().clear(session, limits[0])
                if new_hash is not None:
                    await StaffRepository(session).set_password_hash(user.id, new_hash)
                if replacing:
                    await self.sign_out(session, replacing)
                signed = await self._open(session, user, ip_address)
        if signed is None:
            raise InvalidCredentials()
        return signed

    async def _open(
        self, session: AsyncSession, user: StaffUser, ip_address: str | None
    ) -> SignedIn:
        now = utcnow()
        token = new_token()
        memberships = await WorkspaceRepository(session).list_for_staff(user.id)
        workspace_id = memberships[0][0].id if memberships else None
        row = await SessionRepository(session).add(
            StaffSession(
                token_hash=hash_token(token),
                staff_id=user.id,
                workspace_id=workspace_id,
                mfa_passed=not user.mfa_enabled,
                last_seen_at=now,
                expires_at=now + timedelta(hours=self.settings.session_absolute_hours),
                ip_address=ip_address,
            )
        )
        await audit.record(
            session,
            "staff.signed_in",
            Actor(ActorType.staff, user.id, ip_address),
            workspace_id=workspace_id,
            target_type="session",
            target_id=row.id,
            details={"mfa_pending": user.mfa_enabled},
        )
        return SignedIn(token, row, user, needs_mfa=user.mfa_enabled)

    def _limits(self, email: str, ip_address: str | None) -> list[Limit]:
        return [
            Limit("account", email, self.settings.sign_in_max_failures_per_account),
            Limit("ip", ip_address or "", self.settings.sign_in_max_failures_per_ip),
        ]

    def _throttle(self) -> Throttle:
        return Throttle(timedelta(minutes=self.settings.sign_in_window_minutes))

    async def _audit_failure(
        self,
        session: AsyncSession,
        ip_address: str | None,
        user: StaffUser | None,
        workspace_id: str | None = None,
    ) -> None:
        await audit.record(
            session,
            "staff.sign_in_failed",
            Actor(
                ActorType.staff if user else ActorType.anonymous,
                user.id if user else None,
                ip_address,
            ),
            workspace_id=workspace_id,
            details={"known_account": user is not None},
        )

    async def resolve(self, session: AsyncSession, token: str) -> tuple[StaffSession, StaffUser]:
        """Return the live session for a cookie token, enforcing idle and absolute timeouts."""
        sessions = SessionRepository(session)
        row = await sessions.get_by_token_hash(hash_token(token))
        now = utcnow()
        idle_limit = timedelta(minutes=self.settings.session_idle_minutes)
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise NotSignedIn("Your session has ended. Sign in again.")
        if now - row.last_seen_at > idle_limit:
            row.revoked_at = now
            raise NotSignedIn("Your session timed out. Sign in again.")
        user = await StaffRepository(session).get(row.staff_id)
        if user is None or not user.is_active:
            raise NotSignedIn("Your account is disabled.")
        if now - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = now
        return row, user

    async def sign_out(self, session: AsyncSession, token: str) -> None:
        """Revoke the session behind a cookie token."""
        row = await SessionRepository(session).get_by_token_hash(hash_token(token))
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = utcnow()
        await audit.record(
            session,
            "staff.signed_out",
            Actor(ActorType.staff, row.staff_id),
            workspace_id=row.workspace_id,
            target_type="session",
            target_id=row.id,
        )

    async def switch_workspace(
        self, session: AsyncSession, staff_session: StaffSession, slug: str
    ) -> Workspace:
        """Move a session to another workspace its staff user belongs to."""
        memberships = await WorkspaceRepository(session).list_for_staff(staff_session.staff_id)
        for workspace, _ in memberships:
            if workspace.slug == slug:
                staff_session.workspace_id = workspace.id
                return workspace
        raise WorkspaceNotFound("You are not a member of that workspace.")

    async def change_password(
        self,
        database: Database,
        user: StaffUser,
        *,
        current: str,
        new: str,
        keep_session_id: str | None,
        workspace_id: str | None = None,
    ) -> None:
        """Change a password after re-checking the current one (throttled and audited like a
        sign-in, so a borrowed session cannot guess it); end every other session.
        `workspace_id` is the workspace the staff member is acting in, for the audit log.
        Both hashes run with no unit of work open."""
        limits = self._limits(user.email, None)[:1]
        async with database.session() as session:
            attempt = await self._throttle().reserve(session, limits, None)
            stored = await StaffRepository(session).password_hash_of(user.id)
        ok, _ = await in_hashing_thread(verify_password, stored, current)
        new_hash = await self._hash_if_allowed(database, attempt, new, user) if ok else None
        if new_hash is None:
            async with database.session() as session:
                await self._audit_failure(session, None, user, workspace_id)
            raise InvalidCredentials()
        async with database.session() as session:
            await self._throttle().release(session, attempt)
            await StaffRepository(session).set_password_hash(user.id, new_hash)
            # Never un-revoke: a kept session that had already ended stays ended.
            await SessionRepository(session).revoke_all_for_staff(
                user.id, utcnow(), except_session_id=keep_session_id
            )
            await audit.record(
                session,
                "staff.password_changed",
                Actor(ActorType.staff, user.id),
                workspace_id=workspace_id,
                target_type="staff",
                target_id=user.id,
            )

    async def _hash_if_allowed(
        self, database: Database, attempt: list[str], new: str, user: StaffUser
    ) -> str:
        # A new password that breaks the rules is the person's mistake, not a guess: it is
        # refused without counting against them, so the reserved attempt is given back.
        try:
            check_policy(new, min_length=STAFF_MIN_LENGTH, context=(user.email, user.display_name))
        except RapportError:
            async with database.session() as session:
                await self._throttle().release(session, attempt)
            raise
        return await in_hashing_thread(hash_password, new)

    async def reset_password(self, database: Database, *, email: str, actor: Actor) -> str:
        """Give an account a new random password (returned once) and end its sessions."""
        password = generate_password()
        password_hash = await in_hashing_thread(hash_password, password)
        async with database.session() as session:
            user = await StaffRepository(session).get_by_email(normalise_email(email))
            if user is None:
                raise StaffNotFound(f"No staff account with email {email!r}.")
            await StaffRepository(session).set_password_hash(user.id, password_hash)
            await SessionRepository(session).revoke_all_for_staff(user.id, utcnow())
            await audit.record(
                session, "staff.password_reset", actor, target_type="staff", target_id=user.id
            )
        return password


sign_ins = SignInService(Settings())
