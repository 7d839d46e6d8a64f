"""Labels for customer messages stored without them: history seeded or imported, messages
from before the assistant existed. Each gets what a live message gets (language, intent with
the workspace's own intents, sentiment), its conversation the latest labels, and a custom
intent's count the message's day. Nothing is answered and no priority changes: the moment
for them has passed.

A page of messages is read, the models run on it outside any unit of work, and its labels are
written in one short unit of work, so a running server's writes never wait long. Messages
younger than `min_age` are left to their own job (a live message the backlog labelled first
would get no turn: the job skips a labelled message)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.labels import label_text
from rapport.assistant.repository import CustomIntentDayRepository
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.support.assistant_desk import assistant_desk

# Messages a page: about a second of the models on two cores, then a write of milliseconds.
PAGE = 100
# A live message's job labels it within seconds; the backlog leaves anything this young alone.
MIN_AGE = timedelta(hours=1)


async def label_backlog(
    database: Database,
    workspace_id: str,
    *,
    min_age: timedelta = MIN_AGE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Label a workspace's unlabelled public customer messages older than `min_age`; call
    `progress` with each page's count; return how many were labelled now (a message labelled
    meanwhile by its own job is left as that job wrote it)."""
    created_before = utcnow() - min_age
    after_id: str | None = None
    labelled = 0
    while True:
        async with database.session() as session:
            page, next_id = await assistant_desk.unlabelled(
                session, workspace_id, after_id, created_before, PAGE
            )
        read, intent_of = [], {}
        for message in page:
            shipped = await asyncio.to_thread(label_text, message.text)
            labels, own = await custom_intents.relabel(
                database.engine, workspace_id, message.text, shipped
            )
            read.append((message, labels))
            if own is not None and own.intent_id:
                intent_of[message.message_id] = own.intent_id
        async with database.session() as session:
            done = await assistant_desk.label_page(session, workspace_id, read)
            days = CustomIntentDayRepository(session, workspace_id)
            for message in done:
                if message.message_id in intent_of:
                    await days.add_match(intent_of[message.message_id], message.created_at.date())
        labelled += len(done)
        if progress is not None and page:
            progress(len(page))
        if next_id is None:
            return labelled
        after_id = next_id
