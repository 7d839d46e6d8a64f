"""The live path takes SQLite's writer (PostgreSQL: row locks) only for its writes: a widget
send, an agent's reply and an SLA refresh read and decide first, and what could have
changed meanwhile is checked again under the lock (resends, status, seq, merges)."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy import select

from rapport.core.db import Database, writer_since
from rapport.support.enums import ConversationStatus, MessageKind
from rapport.support.errors import ConversationMerged
from rapport.support.merges import merges
from rapport.support.models import Conversation, Message
from rapport.support.schemas import Acting, ConversationCreate, ConversationUpdate, MessageCreate
from rapport.support.service import conversations
from rapport.support.sla import slas
from rapport.support.widget import widget
from rapport.support.widget_schemas import Visitor, WidgetMessageCreate, WidgetStart
from tests.fixtures.identity import make_source, make_workspace
from tests.fixtures.routing import make_sla_policy
from tests.fixtures.statements import statements_recorded

pytestmark = pytest.mark.usefixtures("app")

AGENT = Acting(actor="api_key:test")


def statements(database: Database) -> AbstractContextManager[list[tuple[bool, str]]]:
    """Record each statement with whether it ran as a writer or locking (SQLite: the
    writer's turn; PostgreSQL: FOR UPDATE or a change)."""

    def locking(connection: Any, statement: str) -> tuple[bool, str]:
        text = " ".join(statement.split())
        head = text[:6].upper()
        writes = (
            bool(connection.info.get("rapport_writer"))
            or "FOR UPDATE" in text.upper()
            or head in ("INSERT", "UPDATE", "DELETE")
        )
        return writes, text

    return statements_recorded(database, locking)


def _first_locking(seen: list[tuple[bool, str]]) -> int:
    return next(index for index, (locking, _) in enumerate(seen) if locking)


async def _visitor(database: Database) -> tuple[str, Visitor]:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    async with database.session() as session:
        visitor, _ = await widget.start(session, WidgetStart(write_key=source.write_key))
    return workspace.id, visitor


async def _send(database: Database, visitor: Visitor, client_id: str, text: str) -> Any:
    async with database.session() as session:
        return await widget.send(
            session, visitor, WidgetMessageCreate(client_id=client_id, body=text)
        )


async def test_a_widget_send_reads_everything_before_it_locks(database: Database) -> None:
    _, visitor = await _visitor(database)
    first = await _send(database, visitor, "client-0001", "Where is my parcel?")
    with statements(database) as seen:
        await _send(database, visitor, "client-0002", "It has been a week.")
    lock = _first_locking(seen)
    before = " ".join(text for _, text in seen[:lock])
    for table in ("widget_client_messages", "widget_threads", "FROM conversations"):
        assert table in before, table
    assert "widget_visitors" in seen[lock][1]  # the visitor's lock is the first
    # A resend reads its answer and writes nothing, locks nothing.
    with statements(database) as seen:
        again = await _send(database, visitor, "client-0002", "It has been a week.")
    assert again.duplicate and not any(locking for locking, _ in seen)
    assert again.message.conversation_id == first.message.conversation_id
    assert again.message.seq == 2


async def test_two_sends_of_one_client_id_at_once_store_one_message(database: Database) -> None:
    workspace_id, visitor = await _visitor(database)
    await _send(database, visitor, "client-0001", "Hello")
    sent = await asyncio.gather(
        _send(database, visitor, "client-0002", "Twice?"),
        _send(database, visitor, "client-0002", "Twice?"),
    )
    assert sorted(one.duplicate for one in sent) == [False, True]
    assert sent[0].message.id == sent[1].message.id
    async with database.session() as session:
        rows = (
            await session.execute(select(Message.seq).where(Message.workspace_id == workspace_id))
        ).all()
    assert sorted(seq for (seq,) in rows) == [1, 2]


async def test_a_first_send_from_two_tabs_at_once_opens_one_conversation(
    database: Database,
) -> None:
    _, visitor = await _visitor(database)
    sent = await asyncio.gather(
        _send(database, visitor, "client-000a", "One tab"),
        _send(database, visitor, "client-000b", "Another tab"),
    )
    assert sent[0].message.conversation_id == sent[1].message.conversation_id
    assert sorted(one.message.seq for one in sent) == [1, 2]


async def _open(database: Database, workspace_id: str) -> str:
    async with database.session() as session:
        created = await conversations.create(
            session, workspace_id,
            ConversationCreate(message=MessageCreate(kind=MessageKind.customer, body="Hi")),
            AGENT,
        )  # fmt: skip
        return created.id


async def test_what_changed_after_the_reads_is_checked_under_the_lock(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    conversation_id = await _open(database, workspace.id)
    customer = MessageCreate(kind=MessageKind.customer, body="Anyone there?")
    async with database.session() as session:
        planned = await conversations.plan_post(
            session, workspace.id, conversation_id, customer, AGENT
        )
        assert await writer_since(session) is None
        # Meanwhile an agent answers and resolves it.
        async with database.session() as other:
            reply = MessageCreate(kind=MessageKind.reply, body="Done, bye.")
            await conversations.post(other, workspace.id, conversation_id, reply, AGENT)
            await conversations.update(
                other, workspace.id, conversation_id,
                ConversationUpdate(status=ConversationStatus.resolved), AGENT,
            )  # fmt: skip
        written = await conversations.write_planned(session, planned)
    assert written.seq == 3  # after the reply written meanwhile
    async with database.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        assert conversation.status == ConversationStatus.open  # the customer reopened it
        assert conversation.message_seq == 3
        assert conversation.awaiting_reply_since is not None


async def test_a_conversation_merged_after_the_reads_takes_no_message(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    merged_id = await _open(database, workspace.id)
    survivor_id = await _open(database, workspace.id)
    customer = MessageCreate(kind=MessageKind.customer, body="Still there?")
    with pytest.raises(ConversationMerged):
        async with database.session() as session:
            planned = await conversations.plan_post(
                session, workspace.id, merged_id, customer, AGENT
            )
            async with database.session() as other:
                await merges.merge(other, workspace.id, merged_id, survivor_id, AGENT)
            await conversations.write_planned(session, planned)
    async with database.session() as session:
        seqs = (
            await session.execute(select(Message.seq).where(Message.conversation_id == survivor_id))
        ).all()
    assert len(seqs) == 2  # the two first messages, nothing more


async def test_an_sla_refresh_with_no_policy_writes_and_locks_nothing(
    database: Database,
) -> None:
    workspace = await make_workspace(database)
    conversation_id = await _open(database, workspace.id)
    with statements(database) as seen:
        async with database.session() as session:
            await slas.refresh(session, workspace.id, conversation_id)
            assert await writer_since(session) is None
    assert seen and not any(locking for locking, _ in seen)


async def test_an_sla_refresh_with_nothing_new_writes_nothing(database: Database) -> None:
    workspace = await make_workspace(database)
    await make_sla_policy(database, workspace.id)
    conversation_id = await _open(database, workspace.id)
    async with database.session() as session:
        await slas.refresh(session, workspace.id, conversation_id)
    async with database.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.first_response_due_at is not None
    with statements(database) as seen:
        async with database.session() as session:
            await slas.refresh(session, workspace.id, conversation_id)
    assert not any(locking for locking, _ in seen)
    # A reply changes the deadlines: that refresh locks and writes.
    async with database.session() as session:
        reply = MessageCreate(kind=MessageKind.reply, body="Here.")
        await conversations.post(session, workspace.id, conversation_id, reply, AGENT)
    with statements(database) as seen:
        async with database.session() as session:
            await slas.refresh(session, workspace.id, conversation_id)
    assert any(locking for locking, _ in seen)
    async with database.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.first_response_due_at is None
