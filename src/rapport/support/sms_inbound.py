"""Twilio's webhooks: an inbound text becomes a customer message threaded into the open SMS
conversation of its number (or opens one); a status callback updates a reply's delivery.
Each is trusted only when its X-Twilio-Signature holds, and a refused one stores nothing."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.core.ids import new_id
from rapport.customers.service import customers
from rapport.messaging.twilio import valid_twilio_signature
from rapport.support.enums import Channel, MessageKind
from rapport.support.schemas import MAX_BODY, Acting, ConversationCreate, MessageCreate
from rapport.support.service import conversations
from rapport.support.sms_errors import (
    InvalidTwilioSignature,
    MalformedSmsWebhook,
    SmsChannelNotFound,
)
from rapport.support.sms_models import SmsDirection, SmsRecord, SmsStatus
from rapport.support.sms_repository import (
    SmsRecordRepository,
    SmsSettingsRepository,
    SmsWebhookLookup,
)
from rapport.support.sms_schemas import InboundText, SmsReceived
from rapport.support.sms_sealing import TextEnvelope, open_auth_token, phone_index, seal_text

SMS_ACTING = Acting(actor="channel:sms")
NO_TEXT = "(no text)"
MAX_MEDIA = 10
# Twilio's statuses in the order a text moves through them; a late callback never moves
# a text back (callbacks may arrive out of order).
STATUS_RANK = {
    SmsStatus.queued: 0, SmsStatus.accepted: 1, SmsStatus.sending: 2, SmsStatus.sent: 3,
    SmsStatus.delivered: 4, SmsStatus.undelivered: 4, SmsStatus.failed: 4,
}  # fmt: skip

Form = list[tuple[str, str]]


@dataclass(frozen=True)
class Signed:
    """The URL a webhook was posted to, as Twilio signed it, and X-Twilio-Signature."""

    url: str
    signature: str


def parse_form(raw: bytes) -> Form:
    """Return a webhook's form fields in order (Twilio posts application/x-www-form-urlencoded)."""
    try:
        return parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise MalformedSmsWebhook("The webhook body is not a URL-encoded form.") from None


class SmsWebhookService:
    async def take_text(
        self, database: Database, settings_id: str, signed: Signed, raw: bytes
    ) -> SmsReceived:
        """Take Twilio's inbound-message webhook: verified before anything is stored."""
        form = parse_form(raw)
        workspace_id = await self.verify(database, settings_id, signed, form)
        async with database.session() as session:
            return await self.receive(session, workspace_id, form)

    async def take_status(
        self, database: Database, settings_id: str, signed: Signed, raw: bytes, record: str | None
    ) -> None:
        """Take Twilio's status callback of a reply: verified before anything changes."""
        form = parse_form(raw)
        workspace_id = await self.verify(database, settings_id, signed, form)
        async with database.session() as session:
            await self.update_status(session, workspace_id, form, record)

    async def verify(self, database: Database, settings_id: str, signed: Signed, form: Form) -> str:
        """Return the workspace a webhook is for once its signature holds."""
        async with database.session() as session:
            found = await SmsWebhookLookup(session).by_id(settings_id)
            if found is None:
                raise SmsChannelNotFound("No workspace receives texts at this address.")
            workspace_id, token = found.workspace_id, open_auth_token(found)
        signature = signed.signature
        if not signature or not valid_twilio_signature(token, signed.url, form, signature):
            raise InvalidTwilioSignature(
                "X-Twilio-Signature does not match this request signed with the workspace's "
                "auth token (check the URL Twilio calls and RAPPORT_BASE_URL)."
            )
        return workspace_id

    async def receive(self, session: AsyncSession, workspace_id: str, form: Form) -> SmsReceived:
        """Add an inbound text to its number's open conversation (or open one); a text
        Twilio sends again adds nothing."""
        text = inbound_text(form)
        # One inbound text at a time per workspace: threading and repeats read, then write.
        await SmsSettingsRepository(session, workspace_id).current(for_update=True)
        records = SmsRecordRepository(session, workspace_id)
        known = await records.by_sid(text.message_sid)
        if known is not None:
            record, conversation_id = known
            return SmsReceived(
                conversation_id=conversation_id, message_id=record.message_id, duplicate=True
            )
        index = phone_index(text.sender)
        message = MessageCreate(kind=MessageKind.customer, body=_body(text))
        open_id = await records.open_conversation(index)
        if open_id is None:
            conversation_id, message_id = await self._open(session, workspace_id, text, message)
        else:
            posted = await conversations.post(session, workspace_id, open_id, message, SMS_ACTING)
            conversation_id, message_id = open_id, posted.id
        record_id = new_id()
        envelope = TextEnvelope(text.sender, text.recipient, text.media)
        await records.add(
            SmsRecord(
                id=record_id, message_id=message_id, direction=SmsDirection.inbound,
                message_sid=text.message_sid, phone_index=index,
                sealed=seal_text(record_id, envelope), status=SmsStatus.received, attempts=0,
            )
        )  # fmt: skip
        return SmsReceived(conversation_id=conversation_id, message_id=message_id, duplicate=False)

    async def update_status(
        self, session: AsyncSession, workspace_id: str, form: Form, record_id: str | None
    ) -> None:
        """Record what Twilio says became of a reply (never moving it back)."""
        fields = dict(form)
        status = _status(fields.get("MessageStatus", ""))
        sid = fields.get("MessageSid", "")
        records = SmsRecordRepository(session, workspace_id)
        record = None
        if record_id is not None:
            record = await records.outbound(record_id, for_update=True)
        elif sid:
            found = await records.by_sid(sid)
            record = None if found is None else found[0]
        if record is None or status is None:
            return  # not a reply of ours, or a status Rapport does not track
        if STATUS_RANK.get(status, -1) <= STATUS_RANK.get(record.status, 4):
            return
        record.status, record.updated_at = status, utcnow()
        if sid and record.message_sid is None:
            record.message_sid = sid
        if status in (SmsStatus.failed, SmsStatus.undelivered):
            code = fields.get("ErrorCode", "")
            record.last_error = f"Twilio {status}" + (f" error {code}" if code else "")

    async def _open(
        self, session: AsyncSession, workspace_id: str, text: InboundText, message: MessageCreate
    ) -> tuple[str, str]:
        matches = await customers.search(session, workspace_id, text.sender)
        body = ConversationCreate(customer_id=matches[0] if matches else None, message=message)
        # The API's shape opens API channels only; these conversations are texts.
        body = body.model_copy(update={"channel": Channel.sms})
        conversation = await conversations.create(session, workspace_id, body, SMS_ACTING)
        first = await SmsRecordRepository(session, workspace_id).first_message_id(conversation.id)
        return conversation.id, first


def inbound_text(form: Form) -> InboundText:
    """Return the fields of Twilio's inbound-message webhook Rapport keeps."""
    fields = dict(form)
    sid, sender = fields.get("MessageSid", "").strip(), fields.get("From", "").strip()
    if not sid or not sender or len(sid) > 64 or len(sender) > 64:
        raise MalformedSmsWebhook("An inbound text needs MessageSid and From.")
    try:
        count = min(int(fields.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError:
        raise MalformedSmsWebhook("NumMedia is not a number.") from None
    media = [
        {"url": fields[f"MediaUrl{at}"], "content_type": fields.get(f"MediaContentType{at}", "")}
        for at in range(count)
        if fields.get(f"MediaUrl{at}", "").startswith("https://")
    ]
    return InboundText(sid, sender, fields.get("To", ""), fields.get("Body", ""), media)


def _body(text: InboundText) -> str:
    body = text.body.strip() or NO_TEXT
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 20].rstrip() + "\n[...] (shortened)"
    if text.media:
        links = "\n".join(item["url"] for item in text.media)
        body = f"{body}\n\nAttachments:\n{links}" if body != NO_TEXT else f"Attachments:\n{links}"
    return body[:MAX_BODY]


def _status(value: str) -> SmsStatus | None:
    try:
        return SmsStatus(value)
    except ValueError:
        return None


sms_webhooks = SmsWebhookService()
