"""Settings: the channels tab (the SMS channel's Twilio account and the webhook addresses to
give Twilio)."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.deps import SessionDep, SettingsDep
from rapport.errors import RapportError, UnprocessableContent
from rapport.identity.audit import Actor
from rapport.identity.enums import Scope
from rapport.support.sms_errors import SmsNotConfigured
from rapport.support.sms_outbound import sms_channel
from rapport.support.sms_schemas import SmsSettingsRead, SmsSettingsUpdate
from rapport.web.console.context import Console, ConsoleContext
from rapport.web.console.routing import FormText, console_router, on_error, see_other
from rapport.web.console.tabs import errors_on, tab_page

router = console_router()
FIELD_NAMES = {
    "account_sid": "Account SID (AC and 32 hexadecimal characters)",
    "auth_token": "auth token (16-64 letters and digits)",
    "from_number": "number (E.164, such as +14155550100)",
    "messaging_service_sid": "Messaging Service SID (MG and 32 hexadecimal characters)",
}


async def render_channels(
    ctx: ConsoleContext, session: AsyncSession, error: RapportError | None = None
) -> Response:
    """Draw the channels tab: the SMS channel's settings and webhook addresses."""
    ctx.require(Scope.workspace_read)
    base_url = ctx.request.app.state.settings.base_url
    sms: SmsSettingsRead | None
    try:
        sms = await sms_channel.settings(session, ctx.workspace.id, base_url)
    except SmsNotConfigured:
        sms = None
    return tab_page(ctx, "channels", error=error, sms=sms)


@router.get("/settings/channels", response_class=HTMLResponse)
async def show_channels(ctx: Console, session: SessionDep) -> Response:
    """Show the SMS channel's settings and the addresses to give Twilio."""
    return await render_channels(ctx, session)


@router.post("/settings/channels/sms")
@on_error(errors_on(render_channels))
async def update_sms_channel(
    ctx: Console,
    session: SessionDep,
    settings: SettingsDep,
    account_sid: FormText = "",
    auth_token: FormText = "",
    sender: FormText = "",
) -> Response:
    """Set the Twilio account, auth token and the number or messaging service to send from."""
    ctx.require(Scope.workspace_write)
    sender = sender.strip()
    by_service = sender.upper().startswith("MG")
    try:
        body = SmsSettingsUpdate(
            account_sid=account_sid.strip(),
            auth_token=auth_token.strip(),
            from_number=None if by_service or not sender else sender,
            messaging_service_sid=sender if by_service else None,
        )
    except ValidationError as invalid:
        location = invalid.errors()[0]["loc"]
        field = FIELD_NAMES.get(str(location[0]) if location else "", "number or service")
        raise UnprocessableContent(f"Check the {field}.") from None
    await sms_channel.configure(
        session, ctx.workspace.id, body, settings.base_url, Actor.of(ctx.principal)
    )
    return see_other(ctx.request, "/console/settings/channels?notice=sms-saved")
