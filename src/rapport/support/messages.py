"""Messages and notes: masked, sealed, and what each one changes in its conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc, utcnow
from rapport.core.crypto import keyring
from rapport.core.ids import new_id
from rapport.customers.errors import CustomerNotFound
from rapport.customers.service import customers
from rapport.identity.service import staff
from rapport.nlp.pii import mask_card_numbers
from rapport.support import metrics
from rapport.support.email_outbound import email_channel
from rapport.support.enums import (
    REOPENED_BY_CUSTOMER,
    AuthorType,
    Channel,
    ConversationStatus,
    MessageKind,
    MetricKind,
)
from rapport.support.errors import InvalidMention
from rapport.support.events import MESSAGE_CREATED
from rapport.support.lifecycle import change_priority, change_status
from rapport.support.models import Conversation, Message
from rapport.support.notify import announce
from rapport.support.priority import PRIORITY_RANK, CustomerValue, score
from rapport.support.repository import MessageRepository
from rapport.support.schemas import Acting, MessageRead
from rapport.support.sms_outbound import sms_channel
from rapport.support.widget_email import schedule as schedule_widget_email

AUTHOR_OF_KIND = {
    MessageKind.customer: AuthorType.customer,
    MessageKind.reply: AuthorType.agent,
    MessageKind.note: AuthorType.agent,
}

# Whose public messages leave by the conversation's channel (email, SMS): agents' replies
# and the assistant's. Private notes and system messages never do.
SENT_TO_CUSTOMER = frozenset({AuthorType.agent, AuthorType.assistant})

# Who raises a priority scored from a customer's words (the history names it).
SCORING = Acting(actor="system:priority")


def body_aad(message_id: str) -> str:
    """Return the associated data that binds a sealed body to its row."""
    return f"conversation_messages.body:{message_id}"


@dataclass(frozen=True)
class Draft:
    """What a message's writes need that can be read and worked out before its conversation
    is locked: the mentions checked, the text masked, and (a customer's words) the customer's
    value as the 360 had it for `customer_id`."""

    masked: str
    mentions: list[str]
    customer_id: str | None
    value: CustomerValue | None


async def draft_message(
    session: AsyncSession,
    conversation: Conversation,
    author_type: AuthorType,
    text: str,
    *,
    private: bool = False,
    mentions: list[str] | None = None,
) -> Draft:
    """Check and prepare a message with reads only (no lock, no write), so the writer or the
    conversation's lock is taken after them, for the writes alone."""
    mentioned = list(dict.fromkeys(mentions or []))
    await _check_mentions(session, conversation.workspace_id, private, mentioned)
    value = None
    if author_type == AuthorType.customer and conversation.customer_id is not None:
        value = await _customer_value(session, conversation.workspace_id, conversation.customer_id)
    return Draft(mask_card_numbers(text), mentioned, conversation.customer_id, value)


def open_body(message_id: str, body: bytes) -> str:
    """Open a message's sealed body (bound to its row)."""
    return keyring().decrypt(body, body_aad(message_id))


def read_message(message: Message) -> MessageRead:
    """Return a message with its body opened."""
    return MessageRead(
        id=message.id,
        conversation_id=message.conversation_id,
        author_type=message.author_type,
        author=message.author,
        private=message.private,
        body=open_body(message.id, message.body),
        mentions=list(message.mentions),
        created_at=message.created_at,
        detected_language=message.language,
        intent=message.intent,
        intent_confidence=message.intent_confidence,
        sentiment=message.sentiment,
        sentiment_score=message.sentiment_score,
    )


async def write_message(
    session: AsyncSession,
    conversation: Conversation,
    author_type: AuthorType,
    author: str,
    text: str,
    *,
    acting: Acting,
    private: bool = False,
    mentions: list[str] | None = None,
    draft: Draft | None = None,
) -> Message:
    """Store a message (card numbers masked, body sealed) and apply what it means: a
    customer's words reopen and wait for a reply, an agent's public reply answers them (and
    takes the conversation from the assistant).

    The conversation is locked (or new). A `draft` made before the lock (draft_message)
    spares its reads here; without one they happen now."""
    if draft is None:
        draft = await draft_message(
            session, conversation, author_type, text, private=private, mentions=mentions
        )
    # The id and time are taken under the lock, so they follow commit order as seq does
    # (pages of messages go by id).
    now, message_id = utcnow(), new_id()
    sealed = keyring().encrypt(draft.masked, body_aad(message_id))
    conversation.message_seq = (conversation.message_seq or 0) + 1
    conversation.last_message_at = conversation.updated_at = now
    message = Message(
        id=message_id,
        conversation_id=conversation.id,
        author_type=author_type,
        author=author,
        private=private,
        body=sealed,
        mentions=draft.mentions,
        seq=conversation.message_seq,
        created_at=now,
    )
    # Flushed with the conversation's changes so far, in one UPDATE.
    await MessageRepository(session, conversation.workspace_id).add(message)
    if author_type == AuthorType.customer:
        await _customer_wrote(session, conversation, text, draft, acting, now)
    elif author_type == AuthorType.agent and not private:
        await _agent_replied(session, conversation, acting, now)
        if conversation.status == ConversationStatus.pending:
            # A person answering takes the conversation from the assistant, which then stays
            # silent (after the reply's own metrics: its wait counts from the start).
            await change_status(session, conversation, ConversationStatus.open, acting)
    if author_type in SENT_TO_CUSTOMER and not private:
        await _send_out(session, conversation, message.id, text, author_type)
    announce(
        session,
        MESSAGE_CREATED,
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        message_id=message.id,
        author_type=str(author_type),
        private=private,
        mentions=message.mentions,
    )
    return message


async def _send_out(
    session: AsyncSession,
    conversation: Conversation,
    message_id: str,
    text: str,
    author_type: AuthorType,
) -> None:
    """Queue a public reply on the conversation's own channel, as durable jobs (email with
    the signature and threading headers, a text through the SMS provider); the chat widget
    and the API read it from the conversation instead, and a widget visitor who left an
    address gets the agents' replies they have not seen by email (support/widget_email.py)."""
    if conversation.channel == Channel.email:
        await email_channel.send_reply(session, conversation, message_id, text)
    elif conversation.channel == Channel.sms:
        await sms_channel.send_reply(session, conversation, message_id, text)
    elif conversation.channel == Channel.chat and author_type == AuthorType.agent:
        await schedule_widget_email(session, conversation)


async def _check_mentions(
    session: AsyncSession, workspace_id: str, private: bool, mentions: list[str]
) -> None:
    if mentions and not private:
        raise InvalidMention("Only private notes mention staff.")
    for staff_id in dict.fromkeys(mentions):
        if await staff.role_in(session, workspace_id, staff_id) is None:
            raise InvalidMention(f"{staff_id} is no staff member of this workspace.")


async def _customer_wrote(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    draft: Draft,
    acting: Acting,
    now: datetime,
) -> None:
    if conversation.status in REOPENED_BY_CUSTOMER:
        await change_status(session, conversation, ConversationStatus.open, acting)
    if conversation.awaiting_reply_since is None:
        conversation.awaiting_reply_since = now
    value = draft.value
    if conversation.customer_id != draft.customer_id:  # linked to a customer meanwhile
        value = None
        if conversation.customer_id is not None:
            value = await _customer_value(
                session, conversation.workspace_id, conversation.customer_id
            )
    if not conversation.priority_overridden:
        scored = score(text, value)
        if PRIORITY_RANK[scored.priority] > PRIORITY_RANK[conversation.priority]:
            if conversation.message_seq == 1:
                # Its creation (the first message scored with the customer's value): the
                # conversation starts at this priority, no change to tell.
                conversation.priority, conversation.priority_reason = scored.priority, scored.reason
            else:
                await change_priority(
                    session, conversation, scored.priority, scored.reason, SCORING,
                    overridden=False,
                )  # fmt: skip


async def _agent_replied(
    session: AsyncSession, conversation: Conversation, acting: Acting, now: datetime
) -> None:
    waiting_since = conversation.awaiting_reply_since
    if waiting_since is None:
        return  # nobody was waiting (an agent writing first, a second reply in a row)
    first = conversation.first_response_at is None
    # The conversation's changes first, so they go out in one UPDATE with the first event.
    conversation.awaiting_reply_since = None
    if first:
        conversation.first_response_at = now
        start = conversation.handed_off_at or conversation.created_at
        await metrics.record(
            session, conversation, MetricKind.first_response, since=start, now=now,
            staff_id=acting.staff_id, from_hand_off=conversation.handed_off_at is not None,
        )  # fmt: skip
    await metrics.record(
        session, conversation, MetricKind.reply, since=as_utc(waiting_since), now=now,
        staff_id=acting.staff_id,
    )  # fmt: skip


async def _customer_value(
    session: AsyncSession, workspace_id: str, customer_id: str
) -> CustomerValue | None:
    """Return what the 360 says the customer is worth (nothing when the profile is gone)."""
    try:
        customer = await customers.live(session, workspace_id, customer_id)
    except CustomerNotFound:
        return None
    return CustomerValue(orders_count=customer.orders_count, revenue=Decimal(customer.revenue or 0))
