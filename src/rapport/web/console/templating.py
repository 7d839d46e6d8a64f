"""Jinja2 templates for the console and the helpers that render them."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from rapport.core.clock import as_utc, known_zone
from rapport.errors import RapportError

if TYPE_CHECKING:
    from rapport.web.console.context import ConsoleContext

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)

# Messages shown after a redirect (`?notice=key`); only these texts can appear.
NOTICES = {
    "signed-out": "You are signed out.",
    "password-changed": "Your password was changed. Other sessions were signed out.",
    "mfa-disabled": "Two-step verification is off.",
    "role-changed": "Role updated.",
    "staff-removed": "Removed from the workspace.",
    "invitation-revoked": "Invitation withdrawn. Its link no longer works.",
    "invitation-accepted": "Welcome aboard: you joined the workspace.",
    "account-ready": (
        "Now sign in to accept the invitation: with the password you just chose if the email "
        "was new to Rapport, or with your existing password if you already had an account."
    ),
    "key-revoked": "API key revoked. It stops working at once.",
    "source-created": "Source created. Use its write key to send events.",
    "webhook-secret-stored": "Webhook secret stored. Webhooks signed with the old one now fail.",
    "workspace-saved": "Workspace settings saved.",
    "sms-saved": "SMS channel saved. Give Twilio the inbound webhook address below.",
    "consent-recorded": "Consent recorded.",
    "customers-merged": "Profiles merged. Undo the merge below if it was a mistake.",
    "merge-undone": "Merge undone: the other profile has its identifiers back.",
    "survey-saved": "Survey saved.",
    "survey-deleted": "Survey deleted. Its responses stay in the metrics.",
    "survey-settings-saved": "Survey throttle saved.",
}


def zone_named(name: str | None) -> ZoneInfo:
    """Return a workspace's time zone (UTC when unset or unknown to this machine)."""
    return ZoneInfo(known_zone(name))


@pass_context
def _when(context: Context, value: datetime | None) -> str:
    """Show a time in the workspace's time zone, named by its abbreviation (CET, UTC)."""
    if value is None:
        return "—"
    workspace = getattr(context.get("ctx"), "workspace", None)  # none outside a workspace
    local = as_utc(value).astimezone(zone_named(getattr(workspace, "time_zone", None)))
    return local.strftime("%d %b %Y, %H:%M %Z")


def _label(name: str) -> str:
    """Turn a trait or property name (first_name, firstName) into a label (First name)."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ")
    text = " ".join(words.split()).lower()
    return text[:1].upper() + text[1:]


def _money(amount: Decimal | float | int | None, currency: str | None = None) -> str:
    """Show an amount with two decimals, thousands separated, and its currency if known."""
    if amount is None:
        return "—"
    shown = f"{Decimal(str(amount)):,.2f}"
    return f"{shown} {currency}" if currency else shown


templates.env.filters["when"] = _when
templates.env.filters["label"] = _label
templates.env.filters["money"] = _money


def notice(request: Request) -> str | None:
    """Return the notice named in the query string, if it is a known one."""
    return NOTICES.get(request.query_params.get("notice", ""))


def bare_page(
    request: Request,
    name: str,
    values: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page outside the signed-in shell (sign-in, MFA, errors)."""
    context = {"notice": notice(request), **values}
    return templates.TemplateResponse(request, name, context, status_code, headers)


def page(
    ctx: ConsoleContext,
    name: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Render a page inside the signed-in shell: nav, workspace switcher, notices."""
    context = {"ctx": ctx, "csrf_token": ctx.csrf_token, "notice": notice(ctx.request), **values}
    return templates.TemplateResponse(ctx.request, name, context, status_code, headers)


def error_page(request: Request, error: RapportError) -> HTMLResponse:
    """Render the generic error page with the error's status."""
    return bare_page(
        request,
        "error.html",
        {"error": error},
        status_code=error.status_code,
        headers=error.headers(),
    )


def error_fragment(request: Request, error: RapportError) -> HTMLResponse:
    """Render an error for HTMX into the page's flash area, whatever the request's target."""
    return templates.TemplateResponse(
        request,
        "_flash_error.html",
        {"error": error},
        error.status_code,
        {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML", **error.headers()},
    )
