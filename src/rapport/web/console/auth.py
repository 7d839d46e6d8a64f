"""Signing in (password, then the MFA step) and signing out."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from rapport.core.deps import DatabaseDep, SessionDep, SettingsDep
from rapport.errors import RapportError
from rapport.identity.auth import client_ip
from rapport.identity.mfa import mfa
from rapport.identity.sessions import sign_ins
from rapport.web.console.context import MFA_PATH, SIGN_IN_PATH, Visitor, signed_in
from rapport.web.console.routing import (
    ConsoleRedirect,
    FormText,
    console_router,
    on_error,
    safe_next,
    see_other,
    with_next,
)
from rapport.web.console.security import (
    clear_session_cookie,
    pre_session_csrf,
    session_csrf_token,
    session_token,
    set_nonce_cookie,
    set_session_cookie,
)
from rapport.web.console.templating import bare_page

router = console_router()


def _sign_in_page(
    request: Request,
    *,
    email: str = "",
    next_path: str = "",
    error: RapportError | None = None,
) -> HTMLResponse:
    token, new_nonce = pre_session_csrf(request)
    response = bare_page(
        request,
        "auth/sign_in.html",
        {"csrf_token": token, "email": email, "next": next_path, "error": error},
        status_code=error.status_code if error else 200,
        headers=error.headers() if error else None,
    )
    if new_nonce is not None:
        set_nonce_cookie(response, request.app.state.settings, new_nonce)
    return response


async def _sign_in_failed(request: Request, error: RapportError) -> Response:
    form = await request.form()
    email, next_path = str(form.get("email", "")), str(form.get("next", ""))
    return _sign_in_page(request, email=email, next_path=next_path, error=error)


@router.get("/sign-in", response_class=HTMLResponse)
async def show_sign_in(request: Request, visit: Visitor, next: str = "") -> Response:
    """Show the sign-in form (or move on if already signed in)."""
    if visit is not None and visit[0].mfa_passed:
        return RedirectResponse(safe_next(next), status_code=303)
    return _sign_in_page(request, next_path=safe_next(next, default=""))


@router.post("/sign-in")
@on_error(_sign_in_failed)
async def sign_in(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    email: FormText = "",
    password: FormText = "",
    next: FormText = "",
) -> Response:
    """Check the password, open a session, and go on to the MFA step if it is on."""
    signed = await sign_ins.sign_in(
        database,
        email=email,
        password=password,
        ip_address=client_ip(request),
        replacing=session_token(request),
    )
    target = with_next(MFA_PATH, safe_next(next)) if signed.needs_mfa else safe_next(next)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, settings, signed.token)
    return response


def _mfa_page(request: Request, next_path: str, error: RapportError | None = None) -> Response:
    return bare_page(
        request,
        "auth/mfa.html",
        {"csrf_token": session_csrf_token(request), "next": next_path, "error": error},
        status_code=error.status_code if error else 200,
    )


async def _mfa_failed(request: Request, error: RapportError) -> Response:
    return _mfa_page(request, safe_next(str((await request.form()).get("next", ""))), error)


@router.get("/mfa", response_class=HTMLResponse)
async def show_mfa_step(request: Request, visit: Visitor, next: str = "") -> Response:
    """Ask for the one-time code of a sign-in that has MFA on."""
    staff_session, _ = signed_in(request, visit)
    if staff_session.mfa_passed:
        raise ConsoleRedirect(safe_next(next))
    return _mfa_page(request, safe_next(next))


@router.post("/mfa")
@on_error(_mfa_failed)
async def pass_mfa_step(
    request: Request, session: SessionDep, visit: Visitor, code: FormText = "", next: FormText = ""
) -> Response:
    """Finish signing in with a TOTP code or a recovery code."""
    staff_session, user = signed_in(request, visit)
    if not staff_session.mfa_passed:
        await mfa.pass_sign_in(session, user, staff_session, code)
    return see_other(request, safe_next(next))


@router.post("/sign-out")
async def sign_out(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """End the session on the server and forget the cookie."""
    token = session_token(request)
    if token:
        await sign_ins.sign_out(session, token)
    response = see_other(request, f"{SIGN_IN_PATH}?notice=signed-out")
    clear_session_cookie(response, settings)
    return response
