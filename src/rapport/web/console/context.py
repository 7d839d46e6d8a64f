"""Who is at the console: the visitor, the signed-in staff member, their workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.deps import SessionDep
from rapport.errors import Forbidden
from rapport.identity.auth import client_ip, staff_principal, staff_session_from_cookie
from rapport.identity.enums import Scope
from rapport.identity.errors import MissingScope
from rapport.identity.models import Membership, StaffSession, StaffUser, Workspace
from rapport.identity.schemas import Principal
from rapport.identity.service import workspaces
from rapport.identity.sessions import sign_ins
from rapport.web.console.routing import ConsoleRedirect, with_next
from rapport.web.console.security import session_csrf_token

Visit = tuple[StaffSession, StaffUser]
Visitor = Annotated[Visit | None, Depends(staff_session_from_cookie)]

SIGN_IN_PATH = "/console/sign-in"
MFA_PATH = "/console/mfa"
ENROL_PATH = "/console/mfa/setup"


@dataclass(frozen=True)
class ConsoleContext:
    """Everything a console page needs about the signed-in staff member."""

    request: Request
    staff_session: StaffSession
    user: StaffUser
    principal: Principal
    workspace: Workspace
    memberships: Sequence[tuple[Workspace, Membership]]
    csrf_token: str

    def can(self, scope: Scope) -> bool:
        """Tell whether the staff member holds `scope` in the current workspace."""
        return self.principal.can(scope)

    def require(self, scope: Scope) -> None:
        """Refuse the page unless the staff member holds `scope`."""
        if not self.can(scope):
            raise MissingScope(f"Your role in {self.workspace.name} cannot do this.")


def _here(request: Request) -> str | None:
    if request.method != "GET":
        return None
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


def signed_in(request: Request, visit: Visit | None) -> Visit:
    """Return the visit or send the visitor to the sign-in page."""
    if visit is None:
        raise ConsoleRedirect(with_next(SIGN_IN_PATH, _here(request)))
    return visit


def mfa_passed(request: Request, visit: Visit | None) -> Visit:
    """Return a visit that passed its MFA step, or send the visitor to finish it."""
    staff_session, user = signed_in(request, visit)
    if not staff_session.mfa_passed:
        raise ConsoleRedirect(with_next(MFA_PATH, _here(request)))
    return staff_session, user


async def _current_workspace(
    session: AsyncSession, visit: Visit, memberships: Sequence[tuple[Workspace, Membership]]
) -> Workspace:
    staff_session, _ = visit
    for workspace, _membership in memberships:
        if workspace.id == staff_session.workspace_id:
            return workspace
    if not memberships:
        raise Forbidden("You are not a member of any workspace. Ask an owner to add you.")
    return await sign_ins.switch_workspace(session, staff_session, memberships[0][0].slug)


async def load_context(
    request: Request, session: AsyncSession, visit: Visit | None
) -> ConsoleContext:
    """Build the console context, or redirect to sign-in, the MFA step or MFA enrolment."""
    staff_session, user = mfa_passed(request, visit)
    memberships = await workspaces.list_for_staff(session, user.id)
    workspace = await _current_workspace(session, (staff_session, user), memberships)
    if workspace.mfa_required and not user.mfa_enabled:
        raise ConsoleRedirect(ENROL_PATH)
    principal = await staff_principal(session, staff_session, user, client_ip(request))
    return ConsoleContext(
        request, staff_session, user, principal, workspace, memberships, session_csrf_token(request)
    )


async def console_context(request: Request, session: SessionDep, visit: Visitor) -> ConsoleContext:
    """Dependency: the signed-in staff member's console context.

    What resolving the visit wrote (the session's last-seen time) commits here, and the
    connection goes back to the pool: a page that then waits (on a password hash, say)
    holds none, and the page's own statements start a fresh transaction."""
    context = await load_context(request, session, visit)
    await session.commit()
    return context


async def fresh_context(request: Request, session: AsyncSession) -> ConsoleContext:
    """Rebuild the context in a new unit of work (to show a page after a failed form)."""
    return await load_context(request, session, await staff_session_from_cookie(request, session))


Console = Annotated[ConsoleContext, Depends(console_context)]


def console_requiring(*scopes: Scope) -> Any:
    """Return a dependency: the console context of a staff member holding every one of
    `scopes`. Being a dependency, it refuses (403) before the form is even checked."""

    async def dependency(ctx: Console) -> ConsoleContext:
        for scope in scopes:
            ctx.require(scope)
        return ctx

    return Depends(dependency)


CustomersWriteConsole = Annotated[ConsoleContext, console_requiring(Scope.customers_write)]
CustomersMergeConsole = Annotated[ConsoleContext, console_requiring(Scope.customers_merge)]
