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
from rapport.support.enums import AuthorType
from rapport.support.models import Conversation, Message, WidgetThread, WidgetVisitor
from rapport.support.widget_repository import ThreadMessageRepository, ThreadRepository

REPLY_EMAIL = "support.widget_reply_email"
PURPOSE = "support.widget_reply"
# How long a reply may wait unread in the widget before it is emailed.
UNSEEN_FOR = timedelta(minutes=2)
# The replies one email carries at most (the newest are the ones that matter).
MAX_REPLIES = 20

# (subject, the email's last lines), in the conversation's language.
_WORDS = {
    "en": (
        "A reply to your chat",
        "You left this address in our chat when no one was online.\n"
        "To carry on, write in the chat on our website.",
    ),
    "fr": (
        "Une réponse à votre message",
        "Vous avez laissé cette adresse dans notre chat quand personne n'était en ligne.\n"
        "Pour continuer, écrivez-nous dans le chat de notre site.",
    ),
    "de": (
        "Eine Antwort auf Ihre Nachricht",
        "Sie haben diese Adresse in unserem Chat hinterlassen, als niemand online war.\n"
        "Schreiben Sie uns im Chat auf unserer Website, um fortzufahren.",
    ),
    "es": (
        "Una respuesta a su mensaje",
        "Dejó esta dirección en nuestro chat cuando no había nadie en línea.\n"
        "Para continuar, escríbanos en el chat de nuestra web.",
    ),
}


def email_aad(visitor_id: str) -> str:
    """Return the associated data that binds a visitor's sealed email to its row."""
    return f"widget_visitors.email:{visitor_id}"


async def schedule(session: AsyncSession, conversation: Conversation) -> None:
    """Queue the email of an agent's reply for later, when the conversation came through the
    widget and its visitor left an address (one read; the job decides the rest)."""
    query = (
        select(WidgetVisitor.id)
        .join(WidgetThread, WidgetThread.visitor_id == WidgetVisitor.id)
        .where(
            WidgetThread.workspace_id == conversation.workspace_id,
            WidgetThread.conversation_id == conversation.id,
            WidgetVisitor.email.is_not(None),
        )
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
    if thread is None:
        return
    visitor = await session.get(WidgetVisitor, thread.visitor_id)
    if visitor is None or visitor.email is None:
        return
    after = max(thread.visitor_read_seq, thread.emailed_seq)
    messages = ThreadMessageRepository(session, workspace_id)
    replies = [
        message
        for message in await messages.public_after(conversation_id, after, limit=500)
        if message.author_type == AuthorType.agent
    ][-MAX_REPLIES:]
    if not replies:
        return  # read in the chat meanwhile, or emailed by an earlier job
    conversation = await session.get(Conversation, conversation_id)
    language = (conversation.detected_language if conversation else None) or "en"
    subject, footer = _WORDS.get(language.split("-")[0], _WORDS["en"])
    email = EmailMessage()
    email["To"] = keyring().decrypt(visitor.email, email_aad(visitor.id))
    email["Subject"] = subject
    texts = [_text(message) for message in replies]
    email.set_content("\n\n".join(texts) + f"\n\n-- \n{footer}\n")
    await outbound.queue(session, workspace_id, email, purpose=PURPOSE)
    thread.emailed_seq = replies[-1].seq


def _text(message: Message) -> str:
    from rapport.support.messages import open_body  # messages queues this module's job

    return open_body(message.id, message.body)
