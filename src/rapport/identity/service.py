"""Workspaces and staff: who belongs where, with which role."""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.errors import UnprocessableContent
from rapport.identity.audit import Actor, audit
from rapport.identity.enums import ROLE_RANK, ROLE_SCOPES, Role, Scope
from rapport.identity.errors import (
    AlreadyMember,
    LastOwner,
    MissingScope,
    SlugTaken,
    StaffNotFound,
    WorkspaceNotFound,
)
from rapport.identity.keys import api_keys
from rapport.identity.models import Membership, StaffUser, Workspace
from rapport.identity.passwords import (
    STAFF_MIN_LENGTH,
    check_policy,
    hash_password,
    in_hashing_thread,
)
from rapport.identity.repository import (
    MembershipRepository,
    SessionRepository,
    StaffRepository,
    WorkspaceRepository,
)
from rapport.identity.schemas import Principal, StaffCreate, WorkspaceUpdate

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class StaffMember:
    """A staff user as seen from one workspace."""

    user: StaffUser
    role: Role


def normalise_email(email: str) -> str:
    """Return the form under which an email is stored and looked up."""
    return email.strip().lower()


def check_can_grant(principal: Principal, role: Role) -> None:
    """Refuse unless the principal may manage staff and give `role` (never above their own;
    only owners make owners)."""
    if not principal.can(Scope.staff_write):
        raise MissingScope("Managing staff needs the staff:write scope.")
    if principal.role is not None and ROLE_RANK[role] > ROLE_RANK[principal.role]:
        raise MissingScope(f"Your role cannot grant or change the {role} role.")
    if role == Role.owner and principal.role != Role.owner:
        raise MissingScope("Only an owner can grant or change the owner role.")


def generate_password() -> str:
    """Return a random password that meets the staff policy (shown once, to be changed)."""
    return secrets.token_urlsafe(18)


class WorkspaceService:
    async def create(
        self, session: AsyncSession, *, slug: str, name: str, actor: Actor
    ) -> Workspace:
        """Create a workspace with a unique slug."""
        if not SLUG_PATTERN.match(slug):
            raise UnprocessableContent(
                "Slug must be 1-63 lowercase letters, digits or hyphens, not starting "
                "or ending with a hyphen."
            )
        repository = WorkspaceRepository(session)
        if await repository.get_by_slug(slug) is not None:
            raise SlugTaken(f"A workspace with slug {slug!r} already exists.")
        workspace = await repository.add(Workspace(slug=slug, name=name.strip() or slug))
        await audit.record(
            session,
            "workspace.created",
            actor,
            workspace_id=workspace.id,
            target_type="workspace",
            target_id=workspace.id,
        )
        return workspace

    async def get_by_slug(self, session: AsyncSession, slug: str) -> Workspace:
        """Return the workspace with this slug or raise WorkspaceNotFound."""
        workspace = await WorkspaceRepository(session).get_by_slug(slug)
        if workspace is None:
            raise WorkspaceNotFound(f"No workspace with slug {slug!r}.")
        return workspace

    async def get(self, session: AsyncSession, principal: Principal) -> Workspace:
        """Return the caller's workspace."""
        workspace = await WorkspaceRepository(session).get(principal.workspace_id)
        if workspace is None:
            raise WorkspaceNotFound("Workspace no longer exists.")
        return workspace

    async def update(
        self, session: AsyncSession, principal: Principal, body: WorkspaceUpdate
    ) -> Workspace:
        """Rename the workspace or change its security settings."""
        workspace = await self.get(session, principal)
        changes = body.model_dump(exclude_none=True)
        for field, value in changes.items():
            setattr(workspace, field, value)
        await audit.record(
            session,
            "workspace.updated",
            Actor.of(principal),
            workspace_id=workspace.id,
            target_type="workspace",
            target_id=workspace.id,
            details={"changed": sorted(changes)},
        )
        return workspace

    async def list_all(self, session: AsyncSession) -> Sequence[Workspace]:
        """Return every workspace on this install (operators only: CLI)."""
        return await WorkspaceRepository(session).list_all()

    async def list_for_staff(
        self, session: AsyncSession, staff_id: str
    ) -> Sequence[tuple[Workspace, Membership]]:
        """Return every workspace the staff user belongs to."""
        return await WorkspaceRepository(session).list_for_staff(staff_id)


@dataclass(frozen=True)
class StaffPassword:
    """A new account's password, checked and hashed before the unit of work that adds the
    account opens: a hash takes most of a second, and nothing may hold SQLite's writer (or a
    pooled connection) meanwhile."""

    hash: str
    # Generated here, so shown to the operator once; None when the operator chose it.
    one_time: str | None = dataclasses.field(repr=False)


async def staff_password(email: str, chosen: str | None = None) -> StaffPassword:
    """Check and hash the password a new account would get (a generated one by default)."""
    password = chosen or generate_password()
    check_policy(password, min_length=STAFF_MIN_LENGTH, context=(normalise_email(email),))
    hashed = await in_hashing_thread(hash_password, password)
    return StaffPassword(hashed, None if chosen else password)


class StaffService:
    async def add(
        self,
        session: AsyncSession,
        *,
        workspace_id: str,
        body: StaffCreate,
        actor: Actor,
        password: StaffPassword,
    ) -> tuple[StaffMember, str | None]:
        """Add a person to a workspace at once, creating their account with `password` (made
        by `staff_password` before this unit of work) if new; returns the password to show
        once, if one was generated for a new account. Operators only (CLI, demo): staff and
        API keys invite, and the person accepts."""
        email = normalise_email(body.email)
        accounts = StaffRepository(session)
        user = await accounts.get_by_email(email)
        one_time_password = None
        if user is None:
            user = await accounts.add(
                StaffUser(email=email, display_name=body.display_name, password_hash=password.hash)
            )
            one_time_password = password.one_time
        memberships = MembershipRepository(session, workspace_id)
        if await memberships.for_staff(user.id) is not None:
            # Role changes go through change_role and its owner rules, never through an invite.
            raise AlreadyMember(f"{email} is already a member; change their role instead.")
        membership = await memberships.add(Membership(staff_id=user.id, role=body.role))
        await audit.record(
            session,
            "staff.added",
            actor,
            workspace_id=workspace_id,
            target_type="staff",
            target_id=user.id,
            details={"role": str(body.role)},
        )
        return StaffMember(user, membership.role), one_time_password

    async def someone_online(
        self, session: AsyncSession, workspace_id: str, within: timedelta
    ) -> bool:
        """Tell whether a staff member of the workspace used the console within `within`."""
        now = utcnow()
        return await SessionRepository(session).any_seen_in(workspace_id, now - within, now)

    async def online_ids(
        self, session: AsyncSession, workspace_id: str, within: timedelta
    ) -> set[str]:
        """Return the staff members of a workspace who used the console within `within`."""
        now = utcnow()
        return await SessionRepository(session).staff_seen_in(workspace_id, now - within, now)

    async def names(self, session: AsyncSession, workspace_id: str) -> dict[str, str]:
        """Return the display name of every member of a workspace, by staff id."""
        rows = await MembershipRepository(session, workspace_id).list_with_staff()
        return {user.id: user.display_name for _membership, user in rows}

    async def members_among(
        self, session: AsyncSession, workspace_id: str, staff_ids: list[str]
    ) -> set[str]:
        """Return which of these staff users are members of the workspace (one query)."""
        if not staff_ids:
            return set()
        return await MembershipRepository(session, workspace_id).members_among(staff_ids)

    async def role_in(self, session: AsyncSession, workspace_id: str, staff_id: str) -> Role | None:
        """Return a staff member's role in a workspace; None when they are not a member."""
        membership = await MembershipRepository(session, workspace_id).for_staff(staff_id)
        return None if membership is None else membership.role

    async def list(self, session: AsyncSession, principal: Principal) -> list[StaffMember]:
        """Return every member of the caller's workspace."""
        rows = await MembershipRepository(session, principal.workspace_id).list_with_staff()
        return [StaffMember(user, membership.role) for membership, user in rows]

    async def change_role(
        self, session: AsyncSession, principal: Principal, staff_id: str, role: Role
    ) -> StaffMember:
        """Change a member's role; only owners make or unmake owners; one owner must remain."""
        memberships = MembershipRepository(session, principal.workspace_id)
        membership = await memberships.for_staff(staff_id)
        user = await StaffRepository(session).get(staff_id)
        if membership is None or user is None:
            raise StaffNotFound("No such staff member in this workspace.")
        check_can_grant(principal, role)
        check_can_grant(principal, membership.role)
        demoting_owner = membership.role == Role.owner and role != Role.owner
        if demoting_owner and await memberships.count_owners() <= 1:
            raise LastOwner("A workspace must keep at least one owner.")
        previous, membership.role = membership.role, role
        await audit.record(
            session,
            "staff.role_changed",
            Actor.of(principal),
            workspace_id=principal.workspace_id,
            target_type="staff",
            target_id=staff_id,
            details={"from": str(previous), "to": str(role)},
        )
        await api_keys.limit_for_staff(
            session,
            workspace_id=principal.workspace_id,
            staff_id=staff_id,
            allowed=ROLE_SCOPES[role],
            actor=Actor.of(principal),
            reason="creator_role_changed",
        )
        return StaffMember(user, role)

    async def remove(self, session: AsyncSession, principal: Principal, staff_id: str) -> None:
        """Remove a member from the caller's workspace (their account stays; the API keys
        they made there are revoked)."""
        memberships = MembershipRepository(session, principal.workspace_id)
        membership = await memberships.for_staff(staff_id)
        if membership is None:
            raise StaffNotFound("No such staff member in this workspace.")
        check_can_grant(principal, membership.role)
        if membership.role == Role.owner and await memberships.count_owners() <= 1:
            raise LastOwner("A workspace must keep at least one owner.")
        await memberships.delete(membership)
        await audit.record(
            session,
            "staff.removed",
            Actor.of(principal),
            workspace_id=principal.workspace_id,
            target_type="staff",
            target_id=staff_id,
        )
        await api_keys.limit_for_staff(
            session,
            workspace_id=principal.workspace_id,
            staff_id=staff_id,
            allowed=frozenset(),
            actor=Actor.of(principal),
            reason="creator_removed",
        )


workspaces = WorkspaceService()
staff = StaffService()
