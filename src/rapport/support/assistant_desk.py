"""What the assistant does in the support desk: read a customer's message, label it, reply or
note as the assistant, hand off to people, resolve what it handled alone."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc, utcnow
from rapport.core.crypto import DecryptionError
from rapport.nlp.intents import OUT_OF_SCOPE
from rapport.nlp.language import NO_LANGUAGE, UNKNOWN
from rapport.support.enums import AuthorType, Channel, ConversationStatus, Priority
from rapport.support.errors import ConversationMerged, ConversationNotFound
from rapport.support.lifecycle import change_priority, change_status
from rapport.support.messages import open_body, read_message, write_message
from rapport.support.models import Conversation
from rapport.support.priority import PRIORITY_RANK
from rapport.support.repository import MessageRepository, MessageState
from rapport.support.schemas import ASSISTANT_ACTOR, Acting, MessageRead
from rapport.support.service import conversations
from rapport.support.widget import widget

logger = logging.getLogger(__name__)
ASSISTANT = Acting(actor=ASSISTANT_ACTOR)
# A customer message this negative (sentiment score) or with one of these intents raises
# the conversation's priority to high.
NEGATIVE_PRIORITY = -0.5
PRESSING_INTENTS = frozenset({"complaint", "payment_issue"})


@dataclass(frozen=True)
class MessageLabels:
    """What the assistant's NLP found in a customer message."""

    language: str
    intent: str
    intent_confidence: float
    sentiment: str
    sentiment_score: float
    # A bare answer to the assistant's question (an order number, "yes", an email address)
    # or nothing a model reads (emoji, noise): it says nothing of what the customer wants or
    # feels, so the conversation keeps the labels it has.
    bare: bool = False


@dataclass(frozen=True)
class CustomerMessage:
    """A customer message as the assistant reads it, with where its conversation stands."""

    message_id: str
    conversation_id: str
    text: str
    labelled: bool
    status: ConversationStatus
    channel: Channel
    customer_id: str | None
    created_at: datetime


class AssistantDesk:
    async def customer_message(
        self, session: AsyncSession, workspace_id: str, message_id: str
    ) -> CustomerMessage | None:
        """Return a customer's message with its conversation's state (None for any other)."""
        found = await MessageRepository(session, workspace_id).with_conversation_state(message_id)
        if found is None or found.author_type != AuthorType.customer or found.private:
            return None
        return _customer_message(found)

    async def label(
        self, session: AsyncSession, workspace_id: str, message: CustomerMessage,
        labels: MessageLabels,
    ) -> Conversation | None:  # fmt: skip
        """Store a customer message's labels on it and its conversation, once, and raise the
        priority they call for. The conversation is locked first, so two runs of one
        message's turn cannot both label it. A message labelled after a newer one of its
        conversation (their turns ran out of order) only fills what the newer left unsaid,
        and raises no priority: the newer one is what the customer says now. None: labelled
        already, or gone."""
        try:
            conversation = await conversations.get_for_change(
                session, workspace_id, message.conversation_id, ASSISTANT
            )
        except ConversationNotFound:
            return None
        messages = MessageRepository(session, workspace_id)
        if not await messages.label(message.message_id, conversation.id, _message_labels(labels)):
            return None
        latest = not await messages.labelled_after(conversation.id, message.message_id)
        _relabel(conversation, labels, latest=latest)
        if latest:
            await _raise_priority(session, conversation, labels)
        return conversation

    async def unlabelled(
        self, session: AsyncSession, workspace_id: str, after_id: str | None,
        created_before: datetime, limit: int,
    ) -> tuple[list[CustomerMessage], str | None]:  # fmt: skip
        """Return a page of public customer messages stored without labels (history seeded
        or imported, messages from before the assistant), in id order after a cursor, and
        the cursor of the next page (None: this was the last). A body that does not open
        (a key no longer in the ring) is logged and left unlabelled."""
        found = await MessageRepository(session, workspace_id).unlabelled(
            after_id, created_before, limit
        )
        page = []
        for row in found:
            try:
                page.append(_customer_message(row))
            except DecryptionError:
                logger.warning("message body does not open", extra={"message_id": row.id})
        return page, (found[-1].id if len(found) == limit else None)

    async def label_page(
        self, session: AsyncSession, workspace_id: str,
        labelled: Sequence[tuple[CustomerMessage, MessageLabels]],
    ) -> list[CustomerMessage]:  # fmt: skip
        """Store the labels of messages from the past, once each: on the message, and on its
        conversation as a live turn does (where a newer customer message has labels already,
        only what it left unsaid: an order number sent after the history). Nothing else
        changes (no priority: the moment it would have mattered has passed; no turn). The
        page's conversations are locked first, in id order, as a live turn locks its one:
        neither overwrites the other's newer labels, and two runs never deadlock. A message
        whose conversation is gone or merged since the page was read waits for the next
        run. Return the messages labelled now."""
        locked = {}
        for conversation_id in sorted({message.conversation_id for message, _ in labelled}):
            try:
                locked[conversation_id] = await conversations.get_for_change(
                    session, workspace_id, conversation_id, ASSISTANT
                )
            except (ConversationNotFound, ConversationMerged):
                continue
        messages = MessageRepository(session, workspace_id)
        done = []
        for message, labels in labelled:
            conversation = locked.get(message.conversation_id)
            if conversation is None or not await messages.label(
                message.message_id, message.conversation_id, _message_labels(labels)
            ):
                continue
            done.append(message)
            latest = not await messages.labelled_after(message.conversation_id, message.message_id)
            _relabel(conversation, labels, latest=latest)
        return done

    async def post(
        self, session: AsyncSession, conversation: Conversation, text: str, *, private: bool
    ) -> MessageRead:
        """Write the assistant's reply (or a private note for agents) in a conversation."""
        message = await write_message(
            session, conversation, AuthorType.assistant, "assistant", text,
            acting=ASSISTANT, private=private,
        )  # fmt: skip
        return read_message(message)

    async def hand_off(
        self, session: AsyncSession, conversation: Conversation, reason: str, intent: str
    ) -> None:
        """Give a pending conversation to people: open, unassigned, so routing picks it up
        (the hand-off metric, with the reason and the intent in hand for the assistant's
        report, and the first-response clock's restart come with the status)."""
        if conversation.status == ConversationStatus.pending:
            facts = {"reason": reason, "intent": intent}
            await change_status(
                session, conversation, ConversationStatus.open, ASSISTANT, handoff=facts
            )

    async def agents_online(self, session: AsyncSession, workspace_id: str) -> bool:
        """Tell whether someone of the workspace is at the console now (as the widget tells
        its visitors), so a hand-off promises no quick reply at night."""
        return await widget.agents_online(session, workspace_id)

    async def resolve(self, session: AsyncSession, conversation: Conversation) -> None:
        """Resolve a conversation the assistant handled alone (the cycle's end records the
        containment, `bot_resolved`, in support/metrics.py)."""
        if conversation.status == ConversationStatus.pending:
            await change_status(session, conversation, ConversationStatus.resolved, ASSISTANT)


def _customer_message(found: MessageState) -> CustomerMessage:
    return CustomerMessage(
        message_id=found.id, conversation_id=found.conversation_id,
        text=open_body(found.id, found.body),
        labelled=found.labelled_at is not None, status=found.status, channel=found.channel,
        customer_id=found.customer_id, created_at=as_utc(found.created_at),
    )  # fmt: skip


def _message_labels(labels: MessageLabels) -> dict[str, object]:
    return {
        "labelled_at": utcnow(),
        "language": labels.language,
        "intent": labels.intent,
        "intent_confidence": labels.intent_confidence,
        "sentiment": labels.sentiment,
        "sentiment_score": labels.sentiment_score,
    }


def _relabel(conversation: Conversation, labels: MessageLabels, *, latest: bool) -> None:
    """Set a conversation's labels from one of its customer messages: what its latest messages
    that say something say.

    - language: the latest message's whose language was told ("ok" or an order number leaves
      a German conversation German);
    - intent: the latest one in scope ("thanks", an off-topic question or an answer to the
      assistant after "I want a refund" leave the refund), out of scope while none was;
    - sentiment: the latest message's that is not a bare answer (an order number or a "yes"
      says nothing of how the customer feels).

    `latest`: no newer customer message of the conversation has labels. An older one (history
    labelled after a new message, turns run out of order) only fills what the newer left
    unsaid: a language still untold, an intent still out of scope, a sentiment still unknown.
    """
    told = labels.language not in (UNKNOWN, NO_LANGUAGE)
    untold = conversation.detected_language in (None, UNKNOWN, NO_LANGUAGE)
    if conversation.detected_language is None or (told and (latest or untold)):
        conversation.detected_language = labels.language
    understood = conversation.intent not in (None, OUT_OF_SCOPE)
    if conversation.intent is None or (
        labels.intent != OUT_OF_SCOPE and (latest or not understood)
    ):
        conversation.intent = labels.intent
        conversation.intent_confidence = labels.intent_confidence
    if not labels.bare and (latest or conversation.sentiment is None):
        conversation.sentiment = labels.sentiment
        conversation.sentiment_score = labels.sentiment_score


async def _raise_priority(
    session: AsyncSession, conversation: Conversation, labels: MessageLabels
) -> None:
    """Raise to high for a strongly negative or pressing message (never lower it)."""
    if conversation.priority_overridden:
        return
    reasons = []
    if labels.sentiment == "negative" and labels.sentiment_score <= NEGATIVE_PRIORITY:
        reasons.append(f"sentiment: negative ({labels.sentiment_score:.2f})")
    if labels.intent in PRESSING_INTENTS:
        reasons.append(f"intent: {labels.intent}")
    if reasons and PRIORITY_RANK[conversation.priority] < PRIORITY_RANK[Priority.high]:
        reason = "; ".join(reasons)
        await change_priority(
            session, conversation, Priority.high, reason, ASSISTANT, overridden=False
        )


assistant_desk = AssistantDesk()
