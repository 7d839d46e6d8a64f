"""Assistant jobs: label every customer message and take the assistant's turn, off the
delivery path; the assistant's claim on new conversations of the channels it is on for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.assistant import generative
from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.labels import label_text
from rapport.assistant.quick_replies import confirmation_replies
from rapport.assistant.service import assistant
from rapport.assistant.turn import TurnResult, prefetch, take_turn
from rapport.core.db import after_commit, background_work, unit_of_work
from rapport.core.jobs import Lease, complete, finish_later, job
from rapport.core.outbox import subscribe
from rapport.support.assistant_desk import CustomerMessage, assistant_desk
from rapport.support.enums import AuthorType
from rapport.support.events import MESSAGE_CREATED
from rapport.support.service import register_intake
from rapport.support.widget import register_quick_replies

logger = logging.getLogger(__name__)
TAKE_MESSAGE = "assistant.take_message"
# The job is complete once its after-commit turn is written (in the turn's unit of work); if
# that never happens (the process died, the turn failed), the lease runs out this long after
# the claim, plus the worker's margin, and the job runs again.
TURN_SECONDS = 60


@job(TAKE_MESSAGE, max_attempts=5, timeout_seconds=TURN_SECONDS)
async def take_message(
    session: AsyncSession,
    workspace_id: str,
    message_id: str,
    author_type: str = AuthorType.customer,
    private: bool = False,
    **_: Any,
) -> None:
    """Label a new customer message and let the assistant answer it (after commit)."""
    if author_type != AuthorType.customer or private:
        return
    message = await assistant_desk.customer_message(session, workspace_id, message_id)
    if message is None or message.labelled:
        return
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise TypeError("the assistant needs a session bound to an engine")
    lease = finish_later(session)

    async def turn() -> None:
        # A customer waits for this reply, and each of the turn's statements touches a few
        # rows (one conversation's): on SQLite they run on the event loop as the live path's
        # do, not one trip to a connection's thread each (about 3 ms of CPU a message).
        with background_work(bounded=True):
            await answer(engine, workspace_id, message, lease)

    after_commit(session, turn)


async def answer(
    engine: AsyncEngine, workspace_id: str, message: CustomerMessage, lease: Lease | None = None
) -> TurnResult:
    """Run the models (the shipped ones, the workspace's own intents, then the generative
    model, if on) outside any unit of work, then write the turn, and complete the job that
    took the message (`lease`), in a short one; never raise (this runs after the job's
    commit; the job runs again when its lease runs out)."""
    try:
        shipped = await asyncio.to_thread(label_text, message.text)
        labels, own = await custom_intents.relabel(engine, workspace_id, message.text, shipped)
        # The workspace's own answer needs neither the knowledge base nor the model.
        prepared = (
            generative.Prepared(hits=[])
            if own is not None
            else await generative.prepare(engine, workspace_id, message, labels)  # no unit held
        )
        async with unit_of_work(engine) as session:
            hits = prepared.hits
            if hits is None:
                hits = await prefetch(session, workspace_id, message, labels)
            result = await take_turn(
                session, workspace_id, message, labels, hits, prepared.draft, own, shipped
            )
            if lease is not None:
                await complete(session, lease)
        return result
    except Exception as error:
        logger.warning("assistant turn failed", extra={"error": type(error).__name__})
        return TurnResult(False, None)


register_intake(assistant.owns_new)
register_quick_replies(confirmation_replies)


def _from_a_customer(data: Mapping[str, Any]) -> bool:
    """A customer's public message is the assistant's to take; a reply or a note is not."""
    return data.get("author_type") == AuthorType.customer and not data.get("private")


subscribe(MESSAGE_CREATED, TAKE_MESSAGE, when=_from_a_customer)
