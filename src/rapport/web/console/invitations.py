"""The invitation link: see who invites you where, then accept, decline or create an account.

The page a visitor who is not signed in sees is the same whether or not the invited email has
an account: it offers both signing in and choosing a password, so whoever holds the link (the
admin who passed it on, say) cannot tell from it whether the email is known to Rapport.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Database
from rapport.core.deps import DatabaseDep, SessionDep
from rapport.errors import RapportError
from rapport.identity.audit import Actor
from rapport.identity.auth import client_ip, staff_session_from_cookie
from rapport.identity.enums import ActorType
from rapport.identity.invitations import INVITATION_PATH, invitation_email_index, invitations
from rapport.web.console.context import SIGN_IN_PATH, Visit, Visitor, mfa_passed
from rapport.web.console.routing import (
    ConsoleRedirect,
    FormText,
    console_router,
    on_error,
    see_other,
    with_next,
)
from rapport.web.console.security import pre_session_csrf, session_csrf_token, set_nonce_cookie
from rapport.web.console.templating import bare_page

router = console_router()
# The link is a credential: pages that carry it are never cached.
PRIVATE = {"Cache-Control": "no-store"}


def _path(token: str) -> str:
    return f"{INVITATION_PATH}{quote(token, safe='')}"


async def _render(
    request: Request,
    session: AsyncSession,
    token: str,
    visit: Visit | None,
    error: RapportError | None = None,
) -> Response:
    """Draw the invitation: accept/decline when signed in, else sign in or create an account."""
    shown = await invitations.open_link(session, token)
    values: dict[str, object] = {"invitation": shown, "path": _path(token), "error": error}
    nonce = None
    if visit is None:
        values["csrf_token"], nonce = pre_session_csrf(request)
        values["sign_in_link"] = with_next(SIGN_IN_PATH, _path(token))
    else:
        _, user = mfa_passed(request, visit)
        values.update(csrf_token=session_csrf_token(request), user=user)
        values["for_me"] = invitation_email_index(user.email) == shown.view.invitation.email_index
    status = error.status_code if error else 200 if values.get("for_me", True) else 403
    response = bare_page(
        request, "auth/invitation.html", values, status_code=status, headers=PRIVATE
    )
    if nonce is not None:
        set_nonce_cookie(response, request.app.state.settings, nonce)
    return response


async def _form_failed(request: Request, error: RapportError) -> Response:
    database: Database = request.app.state.database
    token = str(request.path_params.get("token", ""))
    async with database.session() as session:
        visit = await staff_session_from_cookie(request, session)
        return await _render(request, session, token, visit, error)


@router.get("/invitations/{token}", response_class=HTMLResponse)
async def show_invitation(
    request: Request, session: SessionDep, visit: Visitor, token: str
) -> Response:
    """Show an invitation to join a workspace."""
    return await _render(request, session, token, visit)


@router.post("/invitations/{token}/account")
@on_error(_form_failed)
async def create_account(
    request: Request,
    database: DatabaseDep,
    token: str,
    display_name: FormText = "",
    password: FormText = "",
) -> Response:
    """Choose a name and password for the invited email, then sign in to accept."""
    await invitations.create_account(
        database,
        token,
        display_name=display_name,
        password=password,
        ip_address=client_ip(request),
    )
    next_path = quote(_path(token), safe="/")
    return see_other(request, f"{SIGN_IN_PATH}?notice=account-ready&next={next_path}")


@router.post("/invitations/{token}/accept")
@on_error(_form_failed)
async def accept_invitation(
    request: Request, session: SessionDep, visit: Visitor, token: str
) -> Response:
    """Join the workspace with the invited role, as the signed-in invited person."""
    if visit is None:
        raise ConsoleRedirect(with_next(SIGN_IN_PATH, _path(token)))
    staff_session, user = mfa_passed(request, visit)
    workspace = await invitations.accept(session, token, user, client_ip(request))
    staff_session.workspace_id = workspace.id
    return see_other(request, "/console?notice=invitation-accepted")


@router.post("/invitations/{token}/decline", response_class=HTMLResponse)
@on_error(_form_failed)
async def decline_invitation(
    request: Request, session: SessionDep, visit: Visitor, token: str
) -> Response:
    """Turn the invitation down; its link stops working."""
    actor = Actor(ActorType.anonymous, None, client_ip(request))
    if visit is not None:
        actor = Actor(ActorType.staff, visit[1].id, client_ip(request))
    await invitations.decline(session, token, actor)
    return bare_page(request, "auth/invitation_declined.html", {}, headers=PRIVATE)
