"""Agent replies by email (signature, threading headers, delivered as jobs by messaging) and
the workspace's email settings (signature, inbound address)."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.crypto import hash_token, new_token
from rapport.core.ids import new_id
from rapport.messaging.service import outbound
from rapport.nlp.pii import mask_card_numbers
from rapport.support.email_models import EmailRecord, EmailSettings
from rapport.support.email_repository import EmailRecordRepository, EmailSettingsRepository
from rapport.support.email_schemas import EmailRecordView, EmailSettingsRead, InboundAddressRead
from rapport.support.email_sealing import open_envelope, seal_envelope
from rapport.support.enums import EmailDirection
from rapport.support.models import Conversation

REPLY_PURPOSE = "support.reply"
INBOUND_PATH = "/v1/webhooks/email/"
MAX_REFERENCES = 20


def reply_subject(subject: str) -> str:
    """Return the subject of a reply ("Re: " once)."""
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


class EmailChannelService:
    async def send_reply(
        self, session: AsyncSession, conversation: Conversation, message_id: str, text: str
    ) -> None:
        """Queue a public reply (an agent's or the assistant's) as an email answering the
        customer's latest one, with the workspace's signature and In-Reply-To / References."""
        workspace_id = conversation.workspace_id
        records = EmailRecordRepository(session, workspace_id)
        answered = await records.latest_inbound(conversation.id)
        if answered is None:
            return  # nobody to answer by email (the conversation never had one)
        address, subject = open_envelope(answered)
        references = list(answered.references)
        if answered.header_message_id is not None:
            references.append(answered.header_message_id)
        references = list(dict.fromkeys(references))[-MAX_REFERENCES:]
        email = EmailMessage()
        email["To"] = address
        email["Subject"] = reply_subject(subject)
        email["Message-ID"] = outbound.new_message_id()
        if answered.header_message_id is not None:
            email["In-Reply-To"] = answered.header_message_id
        if references:
            email["References"] = " ".join(references)
        email.set_content(await self._with_signature(session, workspace_id, text))
        queued = await outbound.queue(session, workspace_id, email, purpose=REPLY_PURPOSE)
        record_id = new_id()
        await records.add(
            EmailRecord(
                id=record_id,
                message_id=message_id,
                direction=EmailDirection.outbound,
                header_message_id=queued.message_id,
                references=references,
                sealed=seal_envelope(record_id, address, email["Subject"]),
            )
        )

    async def _with_signature(self, session: AsyncSession, workspace_id: str, text: str) -> str:
        found = await EmailSettingsRepository(session, workspace_id).current()
        body = mask_card_numbers(text).rstrip()
        if found is None or not found.signature.strip():
            return body + "\n"
        return f"{body}\n\n-- \n{found.signature.strip()}\n"

    async def settings(self, session: AsyncSession, workspace_id: str) -> EmailSettingsRead:
        """Return the workspace's email settings."""
        found = await EmailSettingsRepository(session, workspace_id).current()
        return _read(found)

    async def set_signature(
        self, session: AsyncSession, workspace_id: str, signature: str
    ) -> EmailSettingsRead:
        """Set the signature under agents' email replies."""
        found = await self._for_change(session, workspace_id)
        found.signature, found.updated_at = signature.strip(), utcnow()
        return _read(found)

    async def new_inbound_address(
        self, session: AsyncSession, workspace_id: str, base_url: str
    ) -> InboundAddressRead:
        """Create the workspace's inbound address (a new one replaces the old at once);
        its secret is shown this once, only its hash is kept."""
        found = await self._for_change(session, workspace_id)
        token = new_token("em_")
        found.inbound_token_hash, found.updated_at = hash_token(token), utcnow()
        return InboundAddressRead(inbound_url=f"{base_url.rstrip('/')}{INBOUND_PATH}{token}")

    async def records(
        self, session: AsyncSession, workspace_id: str, conversation_id: str
    ) -> list[EmailRecordView]:
        """Return the email side of a conversation's messages, oldest first."""
        rows = await EmailRecordRepository(session, workspace_id).of_conversation(conversation_id)
        return [_view(row) for row in rows]

    async def _for_change(self, session: AsyncSession, workspace_id: str) -> EmailSettings:
        repository = EmailSettingsRepository(session, workspace_id)
        found = await repository.current(for_update=True)
        if found is None:
            found = await repository.add(EmailSettings(signature=""))
        return found


def _read(found: EmailSettings | None) -> EmailSettingsRead:
    if found is None:
        return EmailSettingsRead(signature="", inbound_address_set=False)
    return EmailSettingsRead(
        signature=found.signature, inbound_address_set=found.inbound_token_hash is not None
    )


def _view(record: EmailRecord) -> EmailRecordView:
    address, subject = open_envelope(record)
    return EmailRecordView(
        message_id=record.message_id,
        direction=str(record.direction),
        header_message_id=record.header_message_id,
        references=list(record.references),
        address=address,
        subject=subject,
        attachments=list(record.attachments),
    )


email_channel = EmailChannelService()
