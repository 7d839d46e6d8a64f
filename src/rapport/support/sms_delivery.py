"""Delivering agents' texts: one attempt per job, the send outside any unit of work.

A delivery job locks its text, counts the attempt and queues the next one (the retry
exists before the try); the provider is called after that unit commits and the outcome is
written by a short unit of its own. After the last attempt the text is marked failed and a
private note tells the agents."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.core.clock import utcnow
from rapport.core.db import after_commit, unit_of_work
from rapport.core.jobs import backoff, enqueue
from rapport.messaging.ports import DeliveryFailed, SmsSender, TextMessage
from rapport.messaging.service import outbound
from rapport.messaging.twilio import TWILIO_TIMEOUT_SECONDS, sms_provider
from rapport.support.enums import AuthorType
from rapport.support.messages import read_message, write_message
from rapport.support.repository import MessageRepository
from rapport.support.service import conversations
from rapport.support.sms_inbound import SMS_ACTING
from rapport.support.sms_models import SmsRecord, SmsSettings, SmsStatus
from rapport.support.sms_outbound import DELIVER_SMS, webhook_url
from rapport.support.sms_repository import SmsRecordRepository, SmsSettingsRepository
from rapport.support.sms_sealing import open_auth_token, open_text

logger = logging.getLogger("rapport.support.sms")

MAX_SMS_ATTEMPTS = 5
# The next attempt is queued before a send starts, and waits out the send's own timeout.
ATTEMPT_SECONDS = TWILIO_TIMEOUT_SECONDS * 2
NOT_CONFIGURED = "the SMS channel is not set up"


async def deliver(
    session: AsyncSession, workspace_id: str, sms_record_id: str, *, give_up: bool = False
) -> None:
    """Make one delivery attempt: count it, queue the next, send after commit (or give up:
    the attempts are spent, or the provider refused the text for good)."""
    records = SmsRecordRepository(session, workspace_id)
    record = await records.for_delivery(sms_record_id)
    if record is None or record.status != SmsStatus.queued:
        return  # handed over, given up, or gone with its conversation
    account = await SmsSettingsRepository(session, workspace_id).current()
    if account is None:
        record.last_error = NOT_CONFIGURED
    if account is None or give_up or record.attempts >= MAX_SMS_ATTEMPTS:
        await _give_up(session, record)
        return
    record.attempts += 1
    record.updated_at = utcnow()
    delay = timedelta(seconds=ATTEMPT_SECONDS) + backoff(record.attempts)
    enqueue(session, DELIVER_SMS, workspace_id=workspace_id, sms_record_id=record.id, delay=delay)
    text = await _text_of(session, record, account)
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise TypeError("delivery needs a session bound to an engine")
    sender = sms_provider.sender

    async def attempt() -> None:
        await _attempt(engine, sender, workspace_id, sms_record_id, text)

    after_commit(session, attempt)


async def _text_of(session: AsyncSession, record: SmsRecord, account: SmsSettings) -> TextMessage:
    envelope = open_text(record)
    message = await MessageRepository(session, record.workspace_id).get(record.message_id)
    if message is None:
        raise LookupError("an SMS record outlived its message")
    callback = webhook_url(outbound.base_url, account.id, "status") + f"?record={record.id}"
    return TextMessage(
        account_sid=account.account_sid,
        auth_token=open_auth_token(account),
        to=envelope.phone,
        body=read_message(message).body,
        from_number=account.from_number or envelope.shop_number or None,
        messaging_service_sid=account.messaging_service_sid,
        status_callback=callback,
    )


async def _give_up(session: AsyncSession, record: SmsRecord) -> None:
    """Mark a text failed and tell the agents in a private note on its conversation."""
    record.status, record.updated_at = SmsStatus.failed, utcnow()
    reason = record.last_error or "no reason given"
    repository = SmsRecordRepository(session, record.workspace_id)
    conversation_id = await repository.conversation_of(record.message_id)
    if conversation_id is None:
        return
    conversation = await conversations.get_for_change(
        session, record.workspace_id, conversation_id, SMS_ACTING
    )
    attempts = "1 attempt" if record.attempts == 1 else f"{record.attempts} attempts"
    note = f"SMS reply not delivered after {attempts} ({reason})."
    await write_message(
        session, conversation, AuthorType.system, "system", note, acting=SMS_ACTING, private=True
    )


async def _attempt(
    engine: AsyncEngine, sender: SmsSender, workspace_id: str, record_id: str, text: TextMessage
) -> None:
    """Send outside any unit of work, then record the outcome in a short one; never raise
    (this runs after the job's commit, where an error would rerun its neighbours)."""
    outcome: dict[str, Any]
    give_up = False
    try:
        accepted = await sender.send(text)
        outcome = {"status": SmsStatus.accepted, "message_sid": accepted.sid, "last_error": None}
    except DeliveryFailed as error:
        outcome, give_up = {"last_error": error.reason[:200]}, error.permanent
    except Exception as error:
        outcome = {"last_error": f"provider failed: {type(error).__name__}"}
    outcome["updated_at"] = utcnow()
    try:
        async with unit_of_work(engine) as session:
            await SmsRecordRepository(session, workspace_id).record(record_id, **outcome)
            if give_up:
                # Retrying cannot help: a job marks it failed where agents see it, now.
                enqueue(
                    session, DELIVER_SMS, workspace_id=workspace_id,
                    sms_record_id=record_id, give_up=True,
                )  # fmt: skip
    except Exception as error:
        # The queued retry finds the text still queued and tries again.
        logger.warning("sms outcome not recorded", extra={"error": type(error).__name__})
