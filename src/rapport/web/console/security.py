"""Console cookies and CSRF: one check, shared by every console form."""

from __future__ import annotations

from fastapi import Request, Response
from starlette.datastructures import UploadFile

from rapport.config import Settings
from rapport.core.crypto import hash_token, new_token
from rapport.core.csrf import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, csrf_token, csrf_valid
from rapport.core.deps import get_settings_dep
from rapport.errors import CsrfFailed
from rapport.identity.auth import session_cookie_name

SECURE_NONCE_COOKIE = "__Host-rapport_csrf"
PLAIN_NONCE_COOKIE = "rapport_csrf"
CSRF_MESSAGE = (
    "This form has expired or did not come from Rapport. Go back, reload the page and try again."
)


def nonce_cookie_name(settings: Settings) -> str:
    """Name the pre-session CSRF cookie: `__Host-` whenever it can carry Secure."""
    return SECURE_NONCE_COOKIE if settings.secure_cookies else PLAIN_NONCE_COOKIE


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    """Hand the browser its session token: host-only, HttpOnly, Lax, for the absolute lifetime."""
    response.set_cookie(
        session_cookie_name(settings),
        token,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    """Tell the browser to forget its session token."""
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def session_token(request: Request) -> str | None:
    """Return the raw session token the browser sent, if any."""
    return request.cookies.get(session_cookie_name(get_settings_dep(request))) or None


def session_csrf_token(request: Request) -> str:
    """Return the CSRF token bound to the request's session cookie."""
    return csrf_token(hash_token(session_token(request) or ""))


def pre_session_csrf(request: Request) -> tuple[str, str | None]:
    """Return the sign-in form's CSRF token and, when the nonce is new, the nonce to set."""
    nonce = request.cookies.get(nonce_cookie_name(get_settings_dep(request)))
    if nonce:
        return csrf_token(nonce), None
    nonce = new_token(nbytes=24)
    return csrf_token(nonce), nonce


def set_nonce_cookie(response: Response, settings: Settings, nonce: str) -> None:
    """Store the pre-session CSRF nonce: host-only, HttpOnly, Lax, for the browser session."""
    response.set_cookie(
        nonce_cookie_name(settings),
        nonce,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def _seeds(request: Request) -> list[str]:
    token = session_token(request)
    nonce = request.cookies.get(nonce_cookie_name(get_settings_dep(request)))
    return [seed for seed in (hash_token(token) if token else None, nonce) if seed]


async def _presented_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    value = (await request.form()).get(CSRF_FIELD)
    return None if value is None or isinstance(value, UploadFile) else value


async def require_csrf(request: Request) -> None:
    """Refuse a state-changing console request whose CSRF token matches none of its cookies."""
    if request.method in SAFE_METHODS:
        return
    token = await _presented_token(request)
    if not any(csrf_valid(seed, token) for seed in _seeds(request)):
        raise CsrfFailed(CSRF_MESSAGE)
