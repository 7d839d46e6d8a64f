"""Settings: the channels tab (the email channel's IMAP mailbox; the SMS channel's Twilio
account and the webhook addresses to give Twilio)."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.deps import SessionDep, SettingsDep
from rapport.errors import RapportError, UnprocessableContent
from rapport.identity.audit import Actor
from rapport.identity.enums import Scope
from rapport.support.imap_errors import ImapMailboxNotConfigured
from rapport.support.imap_polling import imap_mailboxes
from rapport.support.imap_schemas import ImapMailboxRead, ImapMailboxUpdate
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
IMAP_FIELD_NAMES = {
    "host": "server (a host name or address)",
    "port": "port (1-65535)",
    "security": "connection security",
    "username": "user name",
    "password": "password",
    "folder": "folder (letters, digits and punctuation other than quotes)",
    "poll_seconds": "check interval (10-3600 seconds)",
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
    imap: ImapMailboxRead | None
    try:
        imap = await imap_mailboxes.mailbox(session, ctx.workspace.id)
    except ImapMailboxNotConfigured:
        imap = None
    return tab_page(ctx, "channels", error=error, sms=sms, imap=imap)


@router.get("/settings/channels", response_class=HTMLResponse)
async def show_channels(ctx: Console, session: SessionDep) -> Response:
    """Show the IMAP mailbox, the SMS channel's settings and the addresses to give Twilio."""
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


@router.post("/settings/channels/imap")
@on_error(errors_on(render_channels))
async def update_imap_mailbox(
    ctx: Console,
    session: SessionDep,
    host: FormText = "",
    port: FormText = "",
    security: FormText = "imaps",
    username: FormText = "",
    password: FormText = "",
    folder: FormText = "",
    poll_seconds: FormText = "60",
    enabled: FormText = "",
) -> Response:
    """Connect or change the IMAP mailbox inbound email is polled from (an empty password
    keeps the stored one)."""
    ctx.require(Scope.workspace_write)
    try:
        body = ImapMailboxUpdate.model_validate(
            {
                "host": host.strip(),
                "port": port.strip() or None,
                "security": security.strip(),
                "username": username.strip(),
                "password": password or None,
                "folder": folder.strip() or "INBOX",
                "poll_seconds": poll_seconds.strip() or "60",
                "enabled": bool(enabled),
            }
        )
    except ValidationError as invalid:
        first = invalid.errors()[0]
        location = first["loc"]
        if not location:  # a rule across fields (plain IMAP to another host)
            raise UnprocessableContent(str(first["msg"]).removeprefix("Value error, ")) from None
        field = IMAP_FIELD_NAMES.get(str(location[0]), "mailbox settings")
        raise UnprocessableContent(f"Check the {field}.") from None
    await imap_mailboxes.configure(session, ctx.workspace.id, body, Actor.of(ctx.principal))
    return see_other(ctx.request, "/console/settings/channels")


@router.post("/settings/channels/imap/remove")
@on_error(errors_on(render_channels))
async def remove_imap_mailbox(ctx: Console, session: SessionDep) -> Response:
    """Disconnect the IMAP mailbox (its password is forgotten)."""
    ctx.require(Scope.workspace_write)
    await imap_mailboxes.disconnect(session, ctx.workspace.id, Actor.of(ctx.principal))
    return see_other(ctx.request, "/console/settings/channels")
