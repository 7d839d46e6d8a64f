"""Labelling the backlog: customer messages stored without labels (history, messages from
before the assistant) get what a live message gets, on the message and its conversation,
without a turn, a priority change or a stolen job; a custom intent's count goes to the
message's own day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from rapport.assistant.backlog import label_backlog
from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.models import CustomIntentDay
from rapport.assistant.schemas import CustomIntentWrite
from rapport.config import Settings
from rapport.core.clock import set_clock
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.support.assistant_desk import MessageLabels, assistant_desk
from rapport.support.enums import ConversationStatus, MessageKind, Priority
from rapport.support.models import Message
from rapport.support.schemas import MessageCreate
from rapport.support.service import conversations
from rapport.worker.runner import Worker
from tests.fixtures.assistant import (
    CUSTOMER,
    conversation_row,
    customer_messages,
    enable_assistant,
    open_conversation,
    post_quietly,
    thread,
)
from tests.fixtures.cli import run_cli
from tests.fixtures.embedding import embedding_with, minilm_embedder
from tests.fixtures.identity import make_workspace

NOW = timedelta(0)


async def test_history_is_labelled_without_a_turn_or_a_priority(database: Database) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    conversation_id = await open_conversation(database, workspace.id, "I complain: awful service")
    before = await conversation_row(database, conversation_id)

    assert await label_backlog(database, workspace.id, min_age=NOW) == 1

    [message] = await customer_messages(database, conversation_id)
    conversation = await conversation_row(database, conversation_id)
    assert (message.intent, message.sentiment, message.language) == (
        "complaint", "negative", "en",
    )  # fmt: skip
    assert message.labelled_at is not None and message.sentiment_score is not None
    assert (conversation.intent, conversation.sentiment, conversation.detected_language) == (
        "complaint", "negative", "en",
    )  # fmt: skip
    assert conversation.sentiment_score == message.sentiment_score
    # A live complaint raises the priority and gets the assistant's turn; history gets neither.
    assert (conversation.priority, conversation.priority_reason) == (
        Priority.normal, before.priority_reason,
    )  # fmt: skip
    assert conversation.updated_at == before.updated_at
    assert conversation.status == ConversationStatus.pending
    assert [author for author, _, _ in await thread(database, conversation_id)] == ["customer"]
    assert await label_backlog(database, workspace.id, min_age=NOW) == 0


async def test_the_conversation_keeps_its_newest_messages_labels(database: Database) -> None:
    workspace = await make_workspace(database)
    both = await open_conversation(database, workspace.id, "where is my parcel")
    await post_quietly(database, workspace.id, both, "please cancel it")
    live = await open_conversation(database, workspace.id, "where is my parcel")
    await post_quietly(database, workspace.id, live, "please cancel it")
    [_, newer] = await customer_messages(database, live)
    async with database.session() as session:  # the newer message labelled by its own job
        stored = await assistant_desk.customer_message(session, workspace.id, newer.id)
        assert stored is not None
        labels = MessageLabels("en", "cancel_order", 0.97, "neutral", 0.0)
        assert await assistant_desk.label(session, workspace.id, stored, labels) is not None

    assert await label_backlog(database, workspace.id, min_age=NOW) == 3

    for conversation_id in (both, live):
        older, latest = await customer_messages(database, conversation_id)
        conversation = await conversation_row(database, conversation_id)
        assert (older.intent, latest.intent, conversation.intent) == (
            "track_order", "cancel_order", "cancel_order",
        )  # fmt: skip
    assert (await customer_messages(database, live))[1].intent_confidence == 0.97


async def test_young_messages_are_left_to_their_own_job(database: Database) -> None:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    conversation_id = await open_conversation(database, workspace.id, "where is my order")

    assert await label_backlog(database, workspace.id) == 0  # younger than an hour

    await Worker(database, concurrency=1).run_pending()
    [message] = await customer_messages(database, conversation_id)
    authors = [author for author, _, _ in await thread(database, conversation_id)]
    assert (message.intent, authors) == ("track_order", ["customer", "assistant"])


async def test_only_the_workspaces_own_public_customer_messages(database: Database) -> None:
    mine, other = await make_workspace(database), await make_workspace(database)
    conversation_id = await open_conversation(database, mine.id, "where is my order")
    theirs = await open_conversation(database, other.id, "where is my order")
    async with database.session() as session:
        for kind, text in ((MessageKind.reply, "It left today."), (MessageKind.note, "vip")):
            await conversations.post(
                session, mine.id, conversation_id, MessageCreate(kind=kind, body=text),
                CUSTOMER,
            )  # fmt: skip
    pages: list[int] = []

    labelled = await label_backlog(database, mine.id, min_age=NOW, progress=pages.append)

    async with database.session() as session:
        rows = await session.execute(select(Message.conversation_id, Message.labelled_at))
        unlabelled = sorted(conversation == theirs for conversation, at in rows.all() if at is None)
    # Of mine, the agent's reply and the note stay unlabelled; all of theirs does.
    assert (labelled, pages, unlabelled) == (1, [1], [False, False, True])


async def test_a_custom_intent_counts_on_the_messages_own_day(database: Database) -> None:
    workspace = await make_workspace(database)
    hours = CustomIntentWrite(
        name="store_hours",
        examples=["What are your opening hours?", "When does the shop open?"],
        answer="We are open 9:00-18:00.",
    )
    with embedding_with(minilm_embedder()):
        async with database.session() as session:
            await custom_intents.create(session, workspace.id, hours, SYSTEM)
        set_clock(lambda: datetime(2026, 3, 14, 10, tzinfo=UTC))
        conversation_id = await open_conversation(database, workspace.id, "when are you open")
        set_clock(None)

        assert await label_backlog(database, workspace.id) == 1

    [message] = await customer_messages(database, conversation_id)
    async with database.session() as session:
        [day] = (await session.execute(select(CustomIntentDay))).scalars().all()
    assert message.intent == "store_hours"
    assert (str(day.day), day.matches) == ("2026-03-14", 1)


async def test_the_command_labels_a_workspaces_backlog(
    database: Database, settings: Settings
) -> None:
    workspace = await make_workspace(database)
    await open_conversation(database, workspace.id, "where is my order")

    young = run_cli(settings, "nlp", "label-messages", "--workspace", workspace.slug)
    old = run_cli(
        settings, "nlp", "label-messages", "--workspace", workspace.slug, "--min-age-minutes", "0"
    )

    assert (young[-1], old[-1]) == ("labelled=0", "labelled=1")
