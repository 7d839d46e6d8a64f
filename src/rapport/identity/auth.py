"""Who may call: API keys, staff sessions (with CSRF), scopes as typed dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.config import Settings
from rapport.core.csrf import CSRF_HEADER, SAFE_METHODS, csrf_valid
from rapport.core.deps import SessionDep
from rapport.errors import CsrfFailed, Forbidden
from rapport.identity.enums import ROLE_SCOPES, ActorType, Scope
from rapport.identity.errors import MissingScope, NotSignedIn
from rapport.identity.keys import api_keys
from rapport.identity.models import StaffSession, StaffUser
from rapport.identity.repository import MembershipRepository, WorkspaceRepository
from rapport.identity.schemas import Principal
from rapport.identity.sessions import sign_ins

SECURE_SESSION_COOKIE = "__Host-rapport_session"
PLAIN_SESSION_COOKIE = "rapport_session"


def session_cookie_name(settings: Settings) -> str:
    """Name the session cookie: `__Host-` whenever it can carry Secure."""
    return SECURE_SESSION_COOKIE if settings.secure_cookies else PLAIN_SESSION_COOKIE


def client_ip(request: Request) -> str | None:
    """Return the client's address as the server saw it."""
    return request.client.host if request.client else None


async def staff_session_from_cookie(
    request: Request, session: SessionDep
) -> tuple[StaffSession, StaffUser] | None:
    """Return the live staff session behind the request's cookie, if any."""
    token = request.cookies.get(session_cookie_name(request.app.state.settings))
    if not token:
        return None
    try:
        return await sign_ins.resolve(session, token)
    except NotSignedIn:
        return None


async def staff_principal(
    session: SessionDep, staff_session: StaffSession, user: StaffUser, ip_address: str | None
) -> Principal:
    """Return the principal of a signed-in staff member in their current workspace."""
    if not staff_session.mfa_passed:
        raise NotSignedIn("Finish signing in with your one-time code.")
    if staff_session.workspace_id is None:
        raise Forbidden("You are not a member of any workspace.")
    workspace = await WorkspaceRepository(session).get(staff_session.workspace_id)
    membership = await MembershipRepository(session, staff_session.workspace_id).for_staff(user.id)
    if workspace is None or membership is None:
        raise Forbidden("You are no longer a member of this workspace.")
    if workspace.mfa_required and not user.mfa_enabled:
        raise Forbidden("This workspace requires MFA. Turn it on in your settings.")
    return Principal(
        workspace_id=workspace.id,
        actor_type=ActorType.staff,
        actor_id=user.id,
        scopes=ROLE_SCOPES[membership.role],
        role=membership.role,
        ip_address=ip_address,
    )


async def current_principal(request: Request, session: SessionDep) -> Principal:
    """Authenticate the caller by API key (Bearer) or staff session cookie (+ CSRF).

    What authenticating wrote (a key's or session's last-use time) commits at once, so
    the endpoint starts a fresh transaction and holds SQLite's writer only for its own
    writes."""
    principal = await _authenticate(request, session)
    await session.commit()
    return principal


async def _authenticate(request: Request, session: AsyncSession) -> Principal:
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return await api_keys.authenticate(session, credentials.strip(), client_ip(request))
    resolved = await staff_session_from_cookie(request, session)
    if resolved is None:
        raise NotSignedIn()
    staff_session, user = resolved
    if request.method not in SAFE_METHODS and not csrf_valid(
        staff_session.token_hash, request.headers.get(CSRF_HEADER)
    ):
        raise CsrfFailed("Missing or invalid CSRF token.")
    return await staff_principal(session, staff_session, user, client_ip(request))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def authorize(*scopes: Scope) -> Callable[..., Awaitable[Principal]]:
    """Return a dependency that admits only principals holding every one of `scopes`."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        missing = [str(scope) for scope in scopes if not principal.can(scope)]
        if missing:
            raise MissingScope(f"This needs the scope(s): {', '.join(missing)}.")
        return principal

    return dependency


WorkspaceRead = Annotated[Principal, Depends(authorize(Scope.workspace_read))]
WorkspaceWrite = Annotated[Principal, Depends(authorize(Scope.workspace_write))]
StaffRead = Annotated[Principal, Depends(authorize(Scope.staff_read))]
StaffWrite = Annotated[Principal, Depends(authorize(Scope.staff_write))]
KeysRead = Annotated[Principal, Depends(authorize(Scope.keys_read))]
KeysWrite = Annotated[Principal, Depends(authorize(Scope.keys_write))]
SourcesRead = Annotated[Principal, Depends(authorize(Scope.sources_read))]
SourcesWrite = Annotated[Principal, Depends(authorize(Scope.sources_write))]
AuditRead = Annotated[Principal, Depends(authorize(Scope.audit_read))]
