"""HTTP for the SMS channel: settings under /api/v1, and Twilio's webhooks (an inbound text,
a reply's status), answered with empty TwiML."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from rapport.core.deps import DatabaseDep, SessionDep, SettingsDep
from rapport.errors import error_responses
from rapport.identity.audit import Actor
from rapport.identity.auth import authorize
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal
from rapport.support.auth import ConversationId, ConversationsRead, acting
from rapport.support.errors import ConversationNotFound
from rapport.support.schemas import ID_PATTERN
from rapport.support.service import conversations
from rapport.support.sms_errors import (
    InvalidTwilioSignature,
    MalformedSmsWebhook,
    SmsChannelNotFound,
    SmsNotConfigured,
)
from rapport.support.sms_inbound import Signed, sms_webhooks
from rapport.support.sms_outbound import sms_channel
from rapport.support.sms_schemas import SmsRecordRead, SmsSettingsRead, SmsSettingsUpdate

WorkspaceRead = Annotated[Principal, Depends(authorize(Scope.workspace_read))]
WorkspaceWrite = Annotated[Principal, Depends(authorize(Scope.workspace_write))]
SmsChannelId = Annotated[
    str, Path(pattern=ID_PATTERN, description="The workspace's SMS channel id (in its URLs).")
]
RecordId = Annotated[
    str | None, Query(pattern=ID_PATTERN, description="The reply this callback reports on.")
]
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
WEBHOOK_ERRORS = error_responses(SmsChannelNotFound, InvalidTwilioSignature, MalformedSmsWebhook)

sms_router = APIRouter(tags=["support"])
sms_webhook_router = APIRouter(tags=["support"])


@sms_router.get(
    "/sms-settings", response_model=SmsSettingsRead, responses=error_responses(SmsNotConfigured)
)
async def get_sms_settings(
    principal: WorkspaceRead, session: SessionDep, settings: SettingsDep
) -> SmsSettingsRead:
    """Return the SMS channel's settings and the webhook addresses to give Twilio."""
    return await sms_channel.settings(session, principal.workspace_id, settings.base_url)


@sms_router.put("/sms-settings", response_model=SmsSettingsRead)
async def update_sms_settings(
    body: SmsSettingsUpdate, principal: WorkspaceWrite, session: SessionDep, settings: SettingsDep
) -> SmsSettingsRead:
    """Set the Twilio account, auth token and sender of the SMS channel."""
    return await sms_channel.configure(
        session, principal.workspace_id, body, settings.base_url, Actor.of(principal)
    )


@sms_router.get(
    "/conversations/{conversation_id}/sms",
    response_model=list[SmsRecordRead],
    responses=error_responses(ConversationNotFound),
)
async def list_conversation_sms(
    conversation_id: ConversationId, principal: ConversationsRead, session: SessionDep
) -> list[SmsRecordRead]:
    """Return the SMS side of a conversation's messages: numbers, media, delivery."""
    await conversations.get(session, principal.workspace_id, conversation_id, acting(principal))
    return await sms_channel.records(session, principal.workspace_id, conversation_id)


@sms_webhook_router.post(
    "/v1/webhooks/twilio/{sms_channel_id}/sms",
    response_class=Response,
    responses={200: {"content": {"text/xml": {}}}, **WEBHOOK_ERRORS},
)
async def receive_sms(
    sms_channel_id: SmsChannelId, request: Request, database: DatabaseDep, settings: SettingsDep
) -> Response:
    """Take one inbound text from Twilio (signed) into its number's conversation."""
    # The body was read (and capped) by the body middleware before this route ran.
    await sms_webhooks.take_text(
        database, sms_channel_id, _signed(request, settings.base_url), await request.body()
    )
    return Response(EMPTY_TWIML, media_type="text/xml")


@sms_webhook_router.post(
    "/v1/webhooks/twilio/{sms_channel_id}/status",
    response_class=Response,
    responses={200: {"content": {"text/xml": {}}}, **WEBHOOK_ERRORS},
)
async def receive_sms_status(
    sms_channel_id: SmsChannelId,
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    record: RecordId = None,
) -> Response:
    """Take Twilio's report of what became of a reply (signed)."""
    await sms_webhooks.take_status(
        database, sms_channel_id, _signed(request, settings.base_url), await request.body(), record
    )
    return Response(EMPTY_TWIML, media_type="text/xml")


def _signed(request: Request, base_url: str) -> Signed:
    """Return the URL Twilio signed, the public base (RAPPORT_BASE_URL, so a reverse proxy
    in front changes nothing) with the request's path and query, and its signature."""
    query = request.url.query
    url = f"{base_url.rstrip('/')}{request.url.path}" + (f"?{query}" if query else "")
    return Signed(url=url, signature=request.headers.get("x-twilio-signature", ""))
