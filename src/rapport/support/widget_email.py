"""Agents' replies a chat widget visitor has not seen, emailed to the address they left when
no one was online ("Leave your email and we'll reply there").

An agent's public reply in a widget conversation whose visitor left an address queues a job
UNSEEN_FOR later. The job, in one short transaction with the thread locked, emails every
agent's reply the visitor has neither read in the widget nor been emailed, in one message,
and moves the thread's `emailed_seq` past them: a reply is emailed once, and a visitor who
reads it in the chat meanwhile gets no email. The assistant's answers are not emailed: it
answers at once, to someone who is writing in the chat, and anyone could leave another's
address and write to it all night."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.crypto import keyring
from rapport.core.jobs import enqueue, job
from rapport.messaging.service import outbound
from rapport.support.models import Conversation, Message, WidgetThread
from rapport.support.widget_repository import ThreadMessageRepository, ThreadRepository

REPLY_EMAIL = "support.widget_reply_email"
PURPOSE = "support.widget_reply"
# How long a reply may wait unread in the widget before it is emailed.
UNSEEN_FOR = timedelta(minutes=2)
# The replies one email carries at most (the newest are the ones that matter).
MAX_REPLIES = 20

# (subject, the email's last lines, the line for replies left out), in the conversation's
# language.
_WORDS = {
    "en": (
        "A reply to your chat",
        "You left this address in our chat when no one was online.\n"
        "To carry on, write in the chat on our website.",
        "(Earlier replies are in the chat.)",
    ),
    "fr": (
        "Une réponse à votre message",
        "Vous avez laissé cette adresse dans notre chat quand personne n'était en ligne.\n"
        "Pour continuer, écrivez-nous dans le chat de notre site.",
        "(Les réponses précédentes sont dans le chat.)",
    ),
    "de": (
        "Eine Antwort auf Ihre Nachricht",
        "Sie haben diese Adresse in unserem Chat hinterlassen, als niemand online war.\n"
        "Schreiben Sie uns im Chat auf unserer Website, um fortzufahren.",
        "(Frühere Antworten finden Sie im Chat.)",
    ),
    "es": (
        "Una respuesta a su mensaje",
        "Dejó esta dirección en nuestro chat cuando no había nadie en línea.\n"
        "Para continuar, escríbanos en el chat de nuestra web.",
        "(Las respuestas anteriores están en el chat.)",
    ),
}


def thread_email_aad(thread_id: str) -> str:
    """Return the associated data that binds a conversation's sealed address to its thread."""
    return f"widget_threads.email:{thread_id}"


def visitor_email_aad(visitor_id: str) -> str:
    """Return the associated data that binds an address left before a first conversation to
    its visitor."""
    return f"widget_visitors.email:{visitor_id}"


async def schedule(session: AsyncSession, conversation: Conversation) -> None:
    """Queue the email of an agent's reply for later, when the conversation came through the
    widget and its customer left an address for it (one read; the job decides the rest)."""
    query = select(WidgetThread.id).where(
        WidgetThread.workspace_id == conversation.workspace_id,
        WidgetThread.conversation_id == conversation.id,
        WidgetThread.email.is_not(None),
    )
    if (await session.execute(query)).first() is not None:
        enqueue(
            session,
            REPLY_EMAIL,
            workspace_id=conversation.workspace_id,
            delay=UNSEEN_FOR,
            conversation_id=conversation.id,
        )


@job(REPLY_EMAIL, max_attempts=5)
async def email_unseen_replies(
    session: AsyncSession, workspace_id: str, conversation_id: str, **_: Any
) -> None:
    """Email the agents' replies of a widget conversation its visitor has not seen."""
    thread = await ThreadRepository(session, workspace_id).for_conversation(conversation_id)
    if thread is None or thread.email is None:
        return
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.merged_into_id is not None:
        return  # merged away: its thread's places no longer match its messages
    after = max(thread.visitor_read_seq, thread.emailed_seq)
    messages = ThreadMessageRepository(session, workspace_id)
    newest = await messages.agent_replies_after(conversation_id, after, MAX_REPLIES + 1)
    if not newest:
        return  # read in the chat meanwhile, or emailed by an earlier job
    replies = list(reversed(newest[:MAX_REPLIES]))
    language = conversation.detected_language or "en"
    subject, footer, earlier = _WORDS.get(language.split("-")[0], _WORDS["en"])
    email = EmailMessage()
    email["To"] = keyring().decrypt(thread.email, thread_email_aad(thread.id))
    email["Subject"] = subject
    texts = [_text(message) for message in replies]
    if len(newest) > MAX_REPLIES:
        texts.insert(0, earlier)
    email.set_content("\n\n".join(texts) + f"\n\n-- \n{footer}\n")
    await outbound.queue(session, workspace_id, email, purpose=PURPOSE)
    thread.emailed_seq = replies[-1].seq


def _text(message: Message) -> str:
    from rapport.support.messages import open_body  # messages queues this module's job

    return open_body(message.id, message.body)
