"""MFA enrolment: scan a QR code, confirm one code, keep the recovery codes."""

from __future__ import annotations

import segno
from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from rapport.core.deps import SessionDep
from rapport.errors import RapportError
from rapport.identity.mfa import mfa
from rapport.web.console.context import ENROL_PATH, Visitor, mfa_passed
from rapport.web.console.routing import ConsoleRedirect, FormText, console_router, on_error
from rapport.web.console.security import session_csrf_token
from rapport.web.console.templating import bare_page

router = console_router()
DONE_PATH = "/console/settings/profile"
NO_STORE = {"Cache-Control": "no-store"}


def qr_data_uri(text: str) -> str:
    """Return `text` as a QR code in an SVG data URI (allowed by the CSP's img-src)."""
    return str(segno.make(text, error="m").svg_data_uri(scale=5, border=2))


def _setup_page(
    request: Request, otpauth_uri: str, error: RapportError | None = None
) -> HTMLResponse:
    return bare_page(
        request,
        "auth/mfa_setup.html",
        {
            "csrf_token": session_csrf_token(request),
            "otpauth_uri": otpauth_uri,
            "qr_code": qr_data_uri(otpauth_uri),
            "error": error,
        },
        status_code=error.status_code if error else 200,
        headers=NO_STORE,
    )


async def _confirm_failed(request: Request, error: RapportError) -> Response:
    uri = str((await request.form()).get("otpauth_uri", ""))
    if not uri.startswith("otpauth://"):
        raise ConsoleRedirect(ENROL_PATH)
    return _setup_page(request, uri, error)


@router.get("/mfa/setup", response_class=HTMLResponse)
async def show_enrolment(request: Request, visit: Visitor) -> Response:
    """Explain two-step verification and offer to set it up."""
    _, user = mfa_passed(request, visit)
    if user.mfa_enabled:
        raise ConsoleRedirect(DONE_PATH)
    return bare_page(request, "auth/mfa_intro.html", {"csrf_token": session_csrf_token(request)})


@router.post("/mfa/setup", response_class=HTMLResponse)
async def start_enrolment(request: Request, visit: Visitor) -> Response:
    """Create a new TOTP secret and show it as a QR code."""
    _, user = mfa_passed(request, visit)
    return _setup_page(request, mfa.begin_enrollment(user))


@router.post("/mfa/setup/confirm", response_class=HTMLResponse)
@on_error(_confirm_failed)
async def confirm_enrolment(
    request: Request, session: SessionDep, visit: Visitor, code: FormText = ""
) -> Response:
    """Turn MFA on with a first code and show the recovery codes, once."""
    staff_session, user = mfa_passed(request, visit)
    codes = await mfa.confirm_enrollment(
        session, user, code, workspace_id=staff_session.workspace_id
    )
    return bare_page(
        request,
        "auth/recovery_codes.html",
        {"codes": codes, "continue_to": "/console"},
        headers=NO_STORE,
    )
