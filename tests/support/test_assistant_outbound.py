"""The assistant answers on email and SMS through the same outbound path as agents: its
public replies leave as email (real SMTP server, threading headers, the signature) or as
texts (the local fake of Twilio's API), as durable jobs; its private notes and system
messages never leave."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from rapport.assistant.knowledge import use_search
from rapport.assistant.labels import use_models
from rapport.assistant.replies import ENGLISH
from rapport.core.db import Database
from rapport.domains import load_tasks
from rapport.support.enums import AuthorType, Channel
from rapport.support.messages import write_message
from rapport.support.models import Conversation
from rapport.support.repository import ConversationRepository
from rapport.support.schemas import Acting
from rapport.worker.runner import Worker
from tests.fixtures.assistant import enable_assistant, thread, use_fakes
from tests.fixtures.mail import Inbox, smtp_server
from tests.fixtures.twilio import SHOP_NUMBER, FakeTwilio, fake_twilio
from tests.support.test_email import customer_email, email_workspace, post_email
from tests.support.test_sms import CUSTOMER_NUMBER, inbound, post_webhook, sms_workspace

SIGNATURE = "\n\n-- \nAna, Shop Support\n"


@pytest.fixture(autouse=True)
def _fake_models() -> Iterator[None]:
    load_tasks()
    use_fakes()
    yield
    use_models(None)
    use_search(None)


@pytest.fixture
def inbox(app: FastAPI) -> Iterator[Inbox]:
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def twilio(app: FastAPI) -> Iterator[FakeTwilio]:
    with fake_twilio() as fake:
        yield fake


async def run_jobs(database: Database) -> None:
    """Run the jobs a message causes: the assistant's turn (after its job's commit), then
    the deliveries it queued."""
    for _ in range(3):
        await Worker(database, concurrency=1).run_pending()


async def email_conversation(
    database: Database, client: httpx.AsyncClient, text: str
) -> tuple[str, str, str, dict]:
    """An email workspace with the assistant on for email; a customer's email received.
    Return the workspace id, the conversation id, the inbound path and a key header."""
    workspace_id, path, key = await email_workspace(database, client)
    await enable_assistant(database, workspace_id, Channel.email)
    answer = await post_email(client, path, customer_email(text))
    assert answer.status_code == 200
    return workspace_id, answer.json()["conversation_id"], path, key


async def test_the_assistants_email_reply_is_sent_with_threading_headers_and_signature(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    _, conversation_id, path, _ = await email_conversation(database, client, "Where is my order?")

    await run_jobs(database)

    assert await thread(database, conversation_id) == [
        ("customer", False, "Where is my order?"),
        ("assistant", False, ENGLISH.ask_order),
    ]
    [(_, recipients, sent)] = inbox.received
    assert recipients == ["maria@example.com"]
    assert sent["Subject"] == "Re: Parcel not received"
    assert sent["In-Reply-To"] == "<first-1@mail.example.com>"
    assert sent["References"] == "<first-1@mail.example.com>"
    assert sent.get_content() == ENGLISH.ask_order + SIGNATURE
    # The customer's answer to the assistant's email threads into the same conversation.
    references = f"<first-1@mail.example.com> {sent['Message-ID']}"
    second = customer_email(
        "It is 1042", "<second-2@mail.example.com>",
        In_Reply_To=sent["Message-ID"], References=references,
    )  # fmt: skip
    assert (await post_email(client, path, second)).json()["conversation_id"] == conversation_id
    assert [body for _, _, body in await thread(database, conversation_id)][-1] == "It is 1042"


async def test_a_hand_off_emails_the_customer_but_never_the_note_for_agents(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    _, conversation_id, _, _ = await email_conversation(
        database, client, "I want to talk to a human"
    )

    await run_jobs(database)

    messages = await thread(database, conversation_id)
    assert [(author, private) for author, private, _ in messages] == [
        ("customer", False),
        ("assistant", False),
        ("assistant", True),
    ]
    assert [sent.get_content() for _, _, sent in inbox.received] == [
        ENGLISH.handing_off_later + SIGNATURE
    ]


async def test_system_messages_and_private_notes_are_never_emailed(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    workspace_id, path, _ = await email_workspace(database, client)
    conversation_id = (await post_email(client, path, customer_email("Hello"))).json()[
        "conversation_id"
    ]
    async with database.session() as session:
        conversation = await ConversationRepository(session, workspace_id).get(conversation_id)
        assert conversation is not None
        system = Acting(actor="system:test")
        await write_message(
            session, conversation, AuthorType.system, "system", "Routed.", acting=system
        )
        await write_message(
            session, conversation, AuthorType.assistant, "assistant", "Note.", acting=system,
            private=True,
        )  # fmt: skip
        await write_message(
            session, conversation, AuthorType.agent, "agent", "Note too.", acting=system,
            private=True,
        )  # fmt: skip

    await run_jobs(database)

    assert inbox.received == []


async def test_the_assistants_sms_reply_goes_through_the_provider(
    database: Database, client: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    workspace_id, settings, key = await sms_workspace(database, client)
    await enable_assistant(database, workspace_id, Channel.sms)
    answer = await post_webhook(client, settings["inbound_url"], inbound(body="I want a human"))
    assert answer.status_code == 200
    async with database.session() as session:
        [conversation_id] = (await session.execute(select(Conversation.id))).scalars().all()

    await run_jobs(database)

    assert [(a, p) for a, p, _ in await thread(database, conversation_id)] == [
        ("customer", False),
        ("assistant", False),
        ("assistant", True),
    ]
    [sent] = twilio.received
    assert (sent["form"]["To"], sent["form"]["From"]) == (CUSTOMER_NUMBER, SHOP_NUMBER)
    assert sent["form"]["Body"] == ENGLISH.handing_off_later
    records = (await client.get(f"/api/v1/conversations/{conversation_id}/sms", headers=key)).json()
    outbound = [r for r in records if r["direction"] == "outbound"]
    assert [(r["status"], r["attempts"]) for r in outbound] == [("accepted", 1)]
