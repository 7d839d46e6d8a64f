"""Agent replies by SMS (queued as delivery jobs, sent through the SMS provider) and the
workspace's SMS settings (the Twilio account and the webhook addresses to give Twilio)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.ids import new_id
from rapport.core.jobs import enqueue
from rapport.identity.audit import Actor, audit
from rapport.support.models import Conversation
from rapport.support.sms_errors import SmsNotConfigured
from rapport.support.sms_models import SmsDirection, SmsRecord, SmsSettings, SmsStatus
from rapport.support.sms_repository import SmsRecordRepository, SmsSettingsRepository
from rapport.support.sms_schemas import SmsRecordRead, SmsSettingsRead, SmsSettingsUpdate
from rapport.support.sms_sealing import TextEnvelope, open_text, seal_auth_token, seal_text

DELIVER_SMS = "support.deliver_sms"
WEBHOOK_PATH = "/v1/webhooks/twilio/{settings_id}/{kind}"


def webhook_url(base_url: str, settings_id: str, kind: str) -> str:
    """Return the public address of one of a workspace's Twilio webhooks (sms, status)."""
    path = WEBHOOK_PATH.format(settings_id=settings_id, kind=kind)
    return f"{base_url.rstrip('/')}{path}"


class SmsChannelService:
    async def send_reply(
        self, session: AsyncSession, conversation: Conversation, message_id: str, text: str
    ) -> None:
        """Queue a public reply (an agent's or the assistant's) as a text to the number
        the customer wrote from."""
        workspace_id = conversation.workspace_id
        records = SmsRecordRepository(session, workspace_id)
        answered = await records.latest_inbound(conversation.id)
        if answered is None:
            return  # nobody to text (the conversation never had an inbound text)
        record_id = new_id()
        envelope = open_text(answered)
        await records.add(
            SmsRecord(
                id=record_id, message_id=message_id, direction=SmsDirection.outbound,
                phone_index=answered.phone_index, status=SmsStatus.queued, attempts=0,
                sealed=seal_text(record_id, TextEnvelope(envelope.phone, envelope.shop_number, [])),
            )
        )  # fmt: skip
        enqueue(session, DELIVER_SMS, workspace_id=workspace_id, sms_record_id=record_id)

    async def settings(
        self, session: AsyncSession, workspace_id: str, base_url: str
    ) -> SmsSettingsRead:
        """Return the workspace's SMS settings (never the auth token)."""
        found = await SmsSettingsRepository(session, workspace_id).current()
        if found is None:
            raise SmsNotConfigured("The SMS channel is not set up; PUT /sms-settings first.")
        return _read(found, base_url)

    async def configure(
        self,
        session: AsyncSession,
        workspace_id: str,
        body: SmsSettingsUpdate,
        base_url: str,
        actor: Actor,
    ) -> SmsSettingsRead:
        """Set the workspace's Twilio account and sender (the auth token is sealed), audited."""
        repository = SmsSettingsRepository(session, workspace_id)
        found = await repository.current(for_update=True)
        if found is None:
            settings_id = new_id()
            found = SmsSettings(id=settings_id, auth_token=seal_auth_token(settings_id, ""))
            found = await repository.add(_apply(found, body))
        else:
            _apply(found, body)
        sender = "messaging_service" if body.messaging_service_sid else "number"
        await audit.record(
            session, "sms_channel.changed", actor, workspace_id=workspace_id,
            target_type="sms_channel", target_id=found.id, details={"sender": sender},
        )  # fmt: skip
        return _read(found, base_url)

    async def records(
        self, session: AsyncSession, workspace_id: str, conversation_id: str
    ) -> list[SmsRecordRead]:
        """Return the SMS side of a conversation's messages, oldest first."""
        rows = await SmsRecordRepository(session, workspace_id).of_conversation(conversation_id)
        return [_view(row) for row in rows]


def _apply(found: SmsSettings, body: SmsSettingsUpdate) -> SmsSettings:
    found.account_sid = body.account_sid
    found.auth_token = seal_auth_token(found.id, body.auth_token)
    found.from_number = body.from_number
    found.messaging_service_sid = body.messaging_service_sid
    found.updated_at = utcnow()
    return found


def _read(found: SmsSettings, base_url: str) -> SmsSettingsRead:
    return SmsSettingsRead(
        account_sid=found.account_sid,
        from_number=found.from_number,
        messaging_service_sid=found.messaging_service_sid,
        auth_token_set=True,
        inbound_url=webhook_url(base_url, found.id, "sms"),
        status_callback_url=webhook_url(base_url, found.id, "status"),
    )


def _view(record: SmsRecord) -> SmsRecordRead:
    envelope = open_text(record)
    return SmsRecordRead(
        message_id=record.message_id,
        direction=str(record.direction),
        message_sid=record.message_sid,
        phone=envelope.phone,
        status=str(record.status),
        attempts=record.attempts,
        last_error=record.last_error,
        media=envelope.media,
        updated_at=record.updated_at,
    )


sms_channel = SmsChannelService()
