"""HTTP for the email channel: settings (signature, inbound address, the IMAP mailbox) under
/api/v1, and the inbound webhook a mail provider posts raw messages to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from rapport.core.deps import DatabaseDep, SessionDep, SettingsDep
from rapport.errors import error_responses
from rapport.identity.audit import Actor
from rapport.identity.auth import authorize
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal
from rapport.support.email_inbound import inbound_email
from rapport.support.email_outbound import email_channel
from rapport.support.email_schemas import (
    EmailSettingsRead,
    EmailSettingsUpdate,
    InboundAddressRead,
    InboundEmailRead,
)
from rapport.support.errors import InboundAddressNotFound, MalformedEmail
from rapport.support.imap_errors import (
    ImapHostRefused,
    ImapMailboxNotConfigured,
    ImapPasswordRequired,
)
from rapport.support.imap_polling import imap_mailboxes
from rapport.support.imap_schemas import ImapMailboxRead, ImapMailboxUpdate

WorkspaceRead = Annotated[Principal, Depends(authorize(Scope.workspace_read))]
WorkspaceWrite = Annotated[Principal, Depends(authorize(Scope.workspace_write))]
InboundToken = Annotated[
    str,
    Path(pattern=r"^em_[A-Za-z0-9_-]{20,100}$", description="The inbound address's secret."),
]

email_router = APIRouter(tags=["support"])
email_webhook_router = APIRouter(tags=["support"])


@email_router.get("/email-settings", response_model=EmailSettingsRead)
async def get_email_settings(principal: WorkspaceRead, session: SessionDep) -> EmailSettingsRead:
    """Return the email channel's settings."""
    return await email_channel.settings(session, principal.workspace_id)


@email_router.put("/email-settings", response_model=EmailSettingsRead)
async def update_email_settings(
    body: EmailSettingsUpdate, principal: WorkspaceWrite, session: SessionDep
) -> EmailSettingsRead:
    """Set the signature under agents' email replies."""
    return await email_channel.set_signature(session, principal.workspace_id, body.signature)


@email_router.post(
    "/email-settings/inbound-address", response_model=InboundAddressRead, status_code=201
)
async def create_inbound_address(
    principal: WorkspaceWrite, session: SessionDep, settings: SettingsDep
) -> InboundAddressRead:
    """Create the webhook address inbound emails are posted to (replaces the old one)."""
    return await email_channel.new_inbound_address(
        session, principal.workspace_id, settings.base_url
    )


@email_router.get(
    "/email-settings/imap",
    response_model=ImapMailboxRead,
    responses=error_responses(ImapMailboxNotConfigured),
)
async def get_imap_mailbox(principal: WorkspaceRead, session: SessionDep) -> ImapMailboxRead:
    """Return the IMAP mailbox inbound email is polled from (never its password)."""
    return await imap_mailboxes.mailbox(session, principal.workspace_id)


@email_router.put(
    "/email-settings/imap",
    response_model=ImapMailboxRead,
    responses=error_responses(ImapPasswordRequired, ImapHostRefused),
)
async def update_imap_mailbox(
    body: ImapMailboxUpdate, principal: WorkspaceWrite, session: SessionDep
) -> ImapMailboxRead:
    """Connect or change the IMAP mailbox polled for inbound email (password sealed)."""
    return await imap_mailboxes.configure(
        session, principal.workspace_id, body, Actor.of(principal)
    )


@email_router.delete(
    "/email-settings/imap", status_code=204, responses=error_responses(ImapMailboxNotConfigured)
)
async def delete_imap_mailbox(principal: WorkspaceWrite, session: SessionDep) -> None:
    """Disconnect the IMAP mailbox (its password is forgotten)."""
    await imap_mailboxes.disconnect(session, principal.workspace_id, Actor.of(principal))


@email_webhook_router.post(
    "/v1/webhooks/email/{inbound_token}",
    response_model=InboundEmailRead,
    responses=error_responses(InboundAddressNotFound, MalformedEmail),
)
async def receive_email(
    inbound_token: InboundToken,
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
) -> InboundEmailRead:
    """Take one raw inbound email (message/rfc822) and thread it into its conversation."""
    # The body was read (and capped) by the body middleware before this route ran.
    raw = await request.body()
    return await inbound_email.receive(database, inbound_token, raw, settings.data_dir)
