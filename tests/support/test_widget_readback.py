"""The widget's read-back after a push (widget.messages): one statement when something new
is there, ownership still enforced when nothing is, client ids only for the visitor's own
messages."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import pytest

from rapport.core.db import Database
from rapport.support.enums import MessageKind
from rapport.support.errors import ConversationNotFound
from rapport.support.schemas import Acting, MessageCreate
from rapport.support.service import conversations
from rapport.support.widget import widget
from rapport.support.widget_schemas import Visitor, WidgetMessageCreate, WidgetStart
from tests.fixtures.identity import make_source, make_workspace
from tests.fixtures.statements import statements_recorded

pytestmark = pytest.mark.usefixtures("app")

AGENT = Acting(actor="api_key:test")


def selects(database: Database) -> AbstractContextManager[list[str]]:
    """Record the SELECT statements run meanwhile."""

    def select(_connection: Any, statement: str) -> str | None:
        if statement.lstrip()[:6].upper() == "SELECT":
            return " ".join(statement.split())
        return None

    return statements_recorded(database, select)


async def _chat(database: Database) -> tuple[str, Visitor, Visitor, str]:
    """A visitor's chat with one message, and another visitor of the same shop."""
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    async with database.session() as session:
        visitor, _ = await widget.start(session, WidgetStart(write_key=source.write_key))
        other, _ = await widget.start(session, WidgetStart(write_key=source.write_key))
    async with database.session() as session:
        sent = await widget.send(
            session, visitor, WidgetMessageCreate(client_id="client-0001", body="Where is it?")
        )
    return workspace.id, visitor, other, sent.message.conversation_id


async def test_an_agent_reply_is_read_back_in_one_statement(database: Database) -> None:
    workspace_id, visitor, _, conversation_id = await _chat(database)
    async with database.session() as session:
        await conversations.post(
            session, workspace_id, conversation_id,
            MessageCreate(kind=MessageKind.note, body="internal"), AGENT,
        )  # fmt: skip
        await conversations.post(
            session, workspace_id, conversation_id,
            MessageCreate(kind=MessageKind.reply, body="On its way"), AGENT,
        )  # fmt: skip
    with selects(database) as seen:
        async with database.session() as session:
            page = await widget.messages(session, visitor, conversation_id, 1)
    assert [(item.body, item.client_id) for item in page.items] == [("On its way", None)]
    assert len(seen) == 1, seen


async def test_the_visitors_own_messages_keep_their_client_ids(database: Database) -> None:
    _, visitor, _, conversation_id = await _chat(database)
    async with database.session() as session:
        page = await widget.messages(session, visitor, conversation_id, 0)
        latest = await widget.messages(session, visitor, None, 0)
    assert [(item.body, item.client_id) for item in page.items] == [("Where is it?", "client-0001")]
    assert latest == page


async def test_nothing_new_is_empty_for_the_owner_and_refused_to_anyone_else(
    database: Database,
) -> None:
    _, visitor, other, conversation_id = await _chat(database)
    async with database.session() as session:
        nothing = await widget.messages(session, visitor, conversation_id, 1)
        assert (nothing.conversation_id, nothing.items) == (conversation_id, [])
        for after in (0, 1):  # with messages after the place, and without
            with pytest.raises(ConversationNotFound):
                await widget.messages(session, other, conversation_id, after)
