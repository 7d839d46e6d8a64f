"""Tell the rest of Rapport and the console what happened: a domain event in the same
transaction, and a realtime push once it commits (ids and states only, never message text)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.outbox import publish
from rapport.core.realtime import publish_after_commit

INBOX_TOPIC = "conversations"


def conversation_topic(conversation_id: str) -> str:
    """Return the realtime topic of one conversation."""
    return f"conversation:{conversation_id}"


def announce(
    session: AsyncSession,
    name: str,
    *,
    workspace_id: str,
    conversation_id: str,
    event: bool = True,
    **data: Any,
) -> None:
    """Publish `name` as a domain event (unless `event` is false) and push it to the inbox's
    and the conversation's realtime topics after commit."""
    if event:
        publish(session, name, workspace_id=workspace_id, conversation_id=conversation_id, **data)
    message = {"type": name, "conversation_id": conversation_id, **data}
    for topic in (INBOX_TOPIC, conversation_topic(conversation_id)):
        publish_after_commit(session, workspace_id, topic, message)
