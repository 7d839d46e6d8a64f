"""Staff invitations: invite by email, the invited person accepts or declines with a link.

An existing account never joins a workspace without its owner: an invitation stays pending
until someone signed in as the invited email accepts it. For an email with no account yet the
link is a bearer credential: whoever holds it may create that account (as with the one-time
password it replaces), so pass it on privately. Inviting answers the same whether or not the
email already has a Rapport account, so invitations cannot be used to probe accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.crypto import hash_token, keyring, new_token
from rapport.core.db import Database
from rapport.core.ids import new_id
from rapport.errors import UnprocessableContent
from rapport.identity.audit import Actor, audit
from rapport.identity.enums import ActorType, InvitationStatus, Role
from rapport.identity.errors import (
    AlreadyMember,
    InvitationForAnotherAccount,
    InvitationNotFound,
    InvitationUnavailable,
)
from rapport.identity.events import InvitedPerson, announce_invitation
from rapport.identity.models import Invitation, Membership, StaffUser, Workspace
from rapport.identity.passwords import (
    STAFF_MIN_LENGTH,
    check_policy,
    hash_password,
    in_hashing_thread,
)
from rapport.identity.repository import (
    InvitationLookup,
    InvitationRepository,
    MembershipRepository,
    StaffRepository,
    WorkspaceRepository,
)
from rapport.identity.schemas import InvitationCreate, Principal
from rapport.identity.service import check_can_grant, normalise_email

INVITATION_LIFETIME = timedelta(days=7)
INVITATION_PATH = "/console/invitations/"
MAX_NAME_LENGTH = 200
_EMAIL_INDEX_KIND = "staff-invitation-email"
INVALID_LINK = "This invitation link is not valid. Check that you copied all of it."
_UNAVAILABLE = {
    InvitationStatus.accepted: "This invitation was already accepted. Sign in to continue.",
    InvitationStatus.declined: "This invitation was declined. Ask for a new one.",
    InvitationStatus.revoked: "This invitation was withdrawn. Ask for a new one.",
    InvitationStatus.expired: "This invitation has expired. Ask for a new one.",
}


def invitation_email_index(email: str) -> str:
    """Return the blind index an invitation's email is found by."""
    return keyring().blind_index(normalise_email(email), _EMAIL_INDEX_KIND)


def invitation_link(base_url: str, token: str) -> str:
    """Return the absolute link the invited person opens."""
    return f"{base_url.rstrip('/')}{INVITATION_PATH}{token}"


def _aad(invitation_id: str) -> str:
    return f"staff_invitations.email:{invitation_id}"


def status_of(invitation: Invitation, now: datetime) -> InvitationStatus:
    """Tell where an invitation stands."""
    if invitation.accepted_at is not None:
        return InvitationStatus.accepted
    if invitation.declined_at is not None:
        return InvitationStatus.declined
    if invitation.revoked_at is not None:
        return InvitationStatus.revoked
    if invitation.expires_at <= now:
        return InvitationStatus.expired
    return InvitationStatus.pending


@dataclass(frozen=True)
class InvitationView:
    """An invitation with its email opened and its status worked out."""

    invitation: Invitation
    email: str
    status: InvitationStatus

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationView:
        """Open an invitation's sealed email."""
        email = keyring().decrypt(invitation.email, _aad(invitation.id))
        return cls(invitation, email, status_of(invitation, utcnow()))


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation and its link's token (returned once; only its hash is stored)."""

    view: InvitationView
    token: str


@dataclass(frozen=True)
class InvitationPage:
    """What the invitation link shows: who invites whom, where, with which role."""

    view: InvitationView
    workspace: Workspace
    inviter_name: str | None


class InvitationService:
    async def invite(
        self, session: AsyncSession, principal: Principal, body: InvitationCreate
    ) -> IssuedInvitation:
        """Invite someone to the caller's workspace (never above the caller's own role).
        The answer is the same whether or not the email has an account; only a current
        member of this workspace is refused."""
        check_can_grant(principal, body.role)
        repository = InvitationRepository(session, principal.workspace_id)
        for earlier in await repository.open_for_email(invitation_email_index(body.email)):
            check_can_grant(principal, earlier.role)  # inviting again withdraws it
        return await self.issue(
            session,
            workspace_id=principal.workspace_id,
            email=body.email,
            role=body.role,
            actor=Actor.of(principal),
        )

    async def issue(
        self, session: AsyncSession, *, workspace_id: str, email: str, role: Role, actor: Actor
    ) -> IssuedInvitation:
        """Create a pending invitation; earlier open ones for the same email are revoked.
        Refuses only a current member of this workspace (whom the inviter can see anyway)."""
        email = normalise_email(email)
        user = await StaffRepository(session).get_by_email(email)
        members = MembershipRepository(session, workspace_id)
        if user is not None and await members.for_staff(user.id) is not None:
            # Role changes go through change_role and its owner rules, never through an invite.
            raise AlreadyMember(f"{email} is already a member; change their role instead.")
        repository = InvitationRepository(session, workspace_id)
        for earlier in await repository.open_for_email(invitation_email_index(email)):
            await self._revoke(session, earlier, actor, reason="superseded")
        token, invitation_id, now = new_token(), new_id(), utcnow()
        invitation = await repository.add(
            Invitation(
                id=invitation_id,
                created_at=now,
                email_index=invitation_email_index(email),
                email=keyring().encrypt(email, _aad(invitation_id)),
                role=role,
                token_hash=hash_token(token),
                invited_by_type=actor.type,
                invited_by_id=actor.id,
                expires_at=now + INVITATION_LIFETIME,
            )
        )
        await self._audit(session, "staff.invited", actor, invitation, role=str(role))
        invited = InvitedPerson(email=email, link_path=f"{INVITATION_PATH}{token}")
        announce_invitation(session, workspace_id, invitation.id, invited)
        return IssuedInvitation(InvitationView(invitation, email, InvitationStatus.pending), token)

    async def list_open(self, session: AsyncSession, principal: Principal) -> list[InvitationView]:
        """Return the caller's workspace's pending (and expired, unanswered) invitations."""
        rows = await InvitationRepository(session, principal.workspace_id).list_open()
        return [InvitationView.of(row) for row in rows]

    async def revoke(
        self, session: AsyncSession, principal: Principal, invitation_id: str
    ) -> InvitationView:
        """Withdraw an invitation nobody answered yet; its link stops working at once."""
        invitation = await InvitationRepository(session, principal.workspace_id).get(invitation_id)
        if invitation is None:
            raise InvitationNotFound("No such invitation in this workspace.")
        check_can_grant(principal, invitation.role)
        status = status_of(invitation, utcnow())
        if status not in (InvitationStatus.pending, InvitationStatus.expired):
            raise InvitationUnavailable(f"This invitation was already {status}.")
        await self._revoke(session, invitation, Actor.of(principal))
        return InvitationView.of(invitation)

    async def open_link(self, session: AsyncSession, token: str) -> InvitationPage:
        """Return what a still-usable invitation link shows, or refuse a spent or unknown one."""
        invitation = await self._usable(session, token)
        workspace = await WorkspaceRepository(session).get(invitation.workspace_id)
        if workspace is None:
            raise InvitationNotFound(INVALID_LINK)
        inviter = None
        if invitation.invited_by_type == ActorType.staff and invitation.invited_by_id:
            inviter = await StaffRepository(session).get(invitation.invited_by_id)
        name = inviter.display_name if inviter is not None else None
        return InvitationPage(InvitationView.of(invitation), workspace, name)

    async def create_account(
        self,
        database: Database,
        token: str,
        *,
        display_name: str,
        password: str,
        ip_address: str | None,
    ) -> None:
        """Create the invited email's account with the chosen password, unless it already has
        one. Both cases answer alike (and take as long), so the link cannot reveal whether the
        email had an account; an existing account is never changed. The password is hashed
        between two units of work, holding no connection and no writer."""
        async with database.session() as session:
            invitation = await self._usable(session, token)
        email = keyring().decrypt(invitation.email, _aad(invitation.id))
        display_name = " ".join(display_name.split())
        if not 1 <= len(display_name) <= MAX_NAME_LENGTH:
            raise UnprocessableContent(f"Enter your name (1 to {MAX_NAME_LENGTH} characters).")
        check_policy(password, min_length=STAFF_MIN_LENGTH, context=(email, display_name))
        password_hash = await in_hashing_thread(hash_password, password)
        async with database.session() as session:
            await self._usable(session, token)  # still open after the hash
            await self._add_account(
                session, invitation, (email, display_name, password_hash), ip_address
            )

    async def _add_account(
        self,
        session: AsyncSession,
        invitation: Invitation,
        account: tuple[str, str, str],
        ip_address: str | None,
    ) -> None:
        email, display_name, password_hash = account
        accounts = StaffRepository(session)
        if await accounts.get_by_email(email) is not None:
            return
        user = StaffUser(email=email, display_name=display_name, password_hash=password_hash)
        try:
            async with session.begin_nested():
                await accounts.add(user)
        except IntegrityError:
            return  # the same form sent twice at once: the other request made the account
        # No workspace on this record: the inviter's audit log must not tell them either.
        await audit.record(
            session,
            "staff.account_created",
            Actor(ActorType.anonymous, None, ip_address),
            target_type="staff",
            target_id=user.id,
            details={"invitation_id": invitation.id},
        )

    async def accept(
        self, session: AsyncSession, token: str, user: StaffUser, ip_address: str | None
    ) -> Workspace:
        """Make the signed-in person a member with the invited role, if the invitation was sent
        to their email; the link is spent."""
        invitation = await self._usable(session, token)
        if invitation_email_index(user.email) != invitation.email_index:
            raise InvitationForAnotherAccount(
                "This invitation was sent to another email address. Sign out, then open the "
                "link again and sign in as the invited person."
            )
        members = MembershipRepository(session, invitation.workspace_id)
        if await members.for_staff(user.id) is not None:
            raise AlreadyMember("You are already a member of this workspace.")
        await self._close(session, invitation, accepted_at=utcnow(), accepted_by=user.id)
        await members.add(Membership(staff_id=user.id, role=invitation.role))
        actor = Actor(ActorType.staff, user.id, ip_address)
        await self._audit(
            session,
            "staff.invitation_accepted",
            actor,
            invitation,
            role=str(invitation.role),
            staff_id=user.id,
        )
        workspace = await WorkspaceRepository(session).get(invitation.workspace_id)
        if workspace is None:  # deleted while the invitation was being answered
            raise InvitationNotFound(INVALID_LINK)
        return workspace

    async def decline(self, session: AsyncSession, token: str, actor: Actor) -> None:
        """Turn an invitation down; its link is spent."""
        invitation = await self._usable(session, token)
        await self._close(session, invitation, declined_at=utcnow())
        await self._audit(session, "staff.invitation_declined", actor, invitation)

    async def _usable(self, session: AsyncSession, token: str) -> Invitation:
        invitation = await InvitationLookup(session).get_by_token_hash(hash_token(token))
        if invitation is None:
            raise InvitationNotFound(INVALID_LINK)
        status = status_of(invitation, utcnow())
        if status != InvitationStatus.pending:
            raise InvitationUnavailable(_UNAVAILABLE[status])
        return invitation

    async def _close(
        self,
        session: AsyncSession,
        invitation: Invitation,
        *,
        unexpired: bool = True,
        **values: object,
    ) -> None:
        # A conditional UPDATE: of two requests spending the same link at once, one wins.
        now = utcnow()
        if not await InvitationLookup(session).close(
            invitation.id, now, unexpired=unexpired, **values
        ):
            raise InvitationUnavailable("This invitation was just answered or withdrawn.")
        await session.refresh(invitation)

    async def _revoke(
        self, session: AsyncSession, invitation: Invitation, actor: Actor, reason: str = ""
    ) -> None:
        # Conditional like accepting, so a revoke racing an acceptance cannot mark a used link
        # revoked; an expired link may still be revoked (to tidy the list).
        await self._close(session, invitation, unexpired=False, revoked_at=utcnow())
        details = {"reason": reason} if reason else {}
        await self._audit(session, "staff.invitation_revoked", actor, invitation, **details)

    async def _audit(
        self,
        session: AsyncSession,
        action: str,
        actor: Actor,
        invitation: Invitation,
        **details: str,
    ) -> None:
        # Ids only: the invited email never goes into the audit log.
        await audit.record(
            session,
            action,
            actor,
            workspace_id=invitation.workspace_id,
            target_type="invitation",
            target_id=invitation.id,
            details=dict(details),
        )


invitations = InvitationService()
