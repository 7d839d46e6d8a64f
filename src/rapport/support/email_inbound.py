"""Inbound email: a raw message posted to a workspace's secret address becomes a customer
message, threaded by Message-ID / In-Reply-To / References, quoted history stripped,
attachments kept on disk. Parsing and file writes happen before the unit of work opens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.crypto import hash_token
from rapport.core.db import Database
from rapport.core.ids import new_id
from rapport.customers.service import customers
from rapport.support.email_attachments import store_attachments
from rapport.support.email_models import EmailRecord
from rapport.support.email_parsing import ParsedEmail, parse_email
from rapport.support.email_repository import (
    EmailRecordRepository,
    EmailSettingsRepository,
    InboundAddressLookup,
)
from rapport.support.email_schemas import InboundEmailRead
from rapport.support.email_sealing import seal_envelope
from rapport.support.enums import Channel, EmailDirection, MessageKind
from rapport.support.errors import InboundAddressNotFound
from rapport.support.repository import ConversationRepository
from rapport.support.schemas import MAX_BODY, Acting, ConversationCreate, MessageCreate
from rapport.support.service import conversations

EMAIL_ACTING = Acting(actor="channel:email")
NO_TEXT = "(no text)"
MERGE_DEPTH = 16


@dataclass(frozen=True)
class InboundEmail:
    """An inbound email's parts, parsed and its attachments already on disk."""

    parsed: ParsedEmail
    attachments: list[dict[str, object]]


class InboundEmailService:
    async def receive(
        self, database: Database, token: str, raw: bytes, data_dir: Path
    ) -> InboundEmailRead:
        """Take a raw email posted to a workspace's inbound address."""
        async with database.session() as session:
            found = await InboundAddressLookup(session).by_token_hash(hash_token(token))
            if found is None:
                raise InboundAddressNotFound("No workspace receives email at this address.")
            workspace_id = found.workspace_id
        parsed = parse_email(raw)  # a malformed message is refused before anything is kept
        stored = store_attachments(data_dir, workspace_id, parsed.attachments)
        async with database.session() as session:
            return await self.record(session, workspace_id, InboundEmail(parsed, stored))

    async def record(
        self, session: AsyncSession, workspace_id: str, email: InboundEmail
    ) -> InboundEmailRead:
        """Add the email to its conversation (or open one); a repeat adds nothing."""
        # One inbound email at a time per workspace: threading and repeats read, then write.
        await EmailSettingsRepository(session, workspace_id).current(for_update=True)
        records = EmailRecordRepository(session, workspace_id)
        parsed = email.parsed
        if parsed.message_id is not None:
            known = await records.by_header_ids([parsed.message_id])
            if known:
                first = await records.first_message_id(known[0][1])
                return InboundEmailRead(
                    conversation_id=known[0][1], message_id=first, duplicate=True
                )
        conversation_id = await self._thread(session, workspace_id, parsed.thread_ids)
        message = MessageCreate(kind=MessageKind.customer, body=_body(parsed))
        if conversation_id is None:
            conversation_id, message_id = await self._open(session, workspace_id, parsed, message)
        else:
            posted = await conversations.post(
                session, workspace_id, conversation_id, message, EMAIL_ACTING
            )
            message_id = posted.id
        record_id = new_id()
        await records.add(
            EmailRecord(
                id=record_id,
                message_id=message_id,
                direction=EmailDirection.inbound,
                header_message_id=parsed.message_id,
                references=parsed.references,
                sealed=seal_envelope(record_id, parsed.reply_to, parsed.subject),
                attachments=email.attachments,
            )
        )
        return InboundEmailRead(
            conversation_id=conversation_id, message_id=message_id, duplicate=False
        )

    async def _thread(
        self, session: AsyncSession, workspace_id: str, thread_ids: list[str]
    ) -> str | None:
        """Return the live conversation an email answers, by the ids it refers to."""
        if not thread_ids:
            return None
        found = dict(await EmailRecordRepository(session, workspace_id).by_header_ids(thread_ids))
        for header_id in thread_ids:
            if header_id in found:
                return await self._survivor(session, workspace_id, found[header_id])
        return None

    async def _survivor(
        self, session: AsyncSession, workspace_id: str, conversation_id: str
    ) -> str | None:
        """Follow merges to the conversation that remains (none: it is gone)."""
        repository = ConversationRepository(session, workspace_id)
        for _ in range(MERGE_DEPTH):
            conversation = await repository.get(conversation_id)
            if conversation is None:
                return None
            if conversation.merged_into_id is None:
                return conversation.id
            conversation_id = conversation.merged_into_id
        return conversation_id

    async def _open(
        self, session: AsyncSession, workspace_id: str, parsed: ParsedEmail, message: MessageCreate
    ) -> tuple[str, str]:
        matches = await customers.search(session, workspace_id, parsed.sender)
        body = ConversationCreate(customer_id=matches[0] if matches else None, message=message)
        # The API's shape opens API channels only; these conversations are emails.
        body = body.model_copy(update={"channel": Channel.email})
        conversation = await conversations.create(session, workspace_id, body, EMAIL_ACTING)
        first = await EmailRecordRepository(session, workspace_id).first_message_id(conversation.id)
        return conversation.id, first


def _body(parsed: ParsedEmail) -> str:
    text = parsed.text.strip() or NO_TEXT
    if len(text) > MAX_BODY:
        text = text[: MAX_BODY - 20].rstrip() + "\n[...] (shortened)"
    return text


inbound_email = InboundEmailService()
