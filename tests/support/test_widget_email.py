"""Replies a widget visitor has not seen, emailed (through a real SMTP server) to the address
they left when no one was online; never a reply they read in the chat, never twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.verification import identity_verification, user_hash
from rapport.support.enums import Channel
from rapport.support.widget_email import MAX_REPLIES, UNSEEN_FOR
from rapport.worker.runner import Worker
from tests.fixtures.assistant import enable_assistant
from tests.fixtures.identity import bearer, make_api_key, make_source, make_workspace
from tests.fixtures.jobs import FrozenClock
from tests.fixtures.mail import Inbox, smtp_server


@pytest.fixture
def inbox(app: FastAPI) -> Iterator[Inbox]:
    """A real SMTP server that outbound email goes to."""
    with smtp_server() as inbox:
        yield inbox


class Chat:
    """A widget visitor's conversation, and an agent's API key on its workspace."""

    def __init__(self, client: httpx.AsyncClient, token: str, conversation_id: str, key: dict):
        self.client, self.token, self.conversation_id, self.key = (
            client, token, conversation_id, key,
        )  # fmt: skip

    @property
    def visitor(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def leave_email(self, email: str = "ana@example.com") -> None:
        left = await self.client.post("/widget/email", json={"email": email}, headers=self.visitor)
        assert left.status_code == 204, left.text

    async def reply(self, body: str) -> None:
        posted = await self.client.post(
            f"/api/v1/conversations/{self.conversation_id}/messages",
            json={"kind": "reply", "body": body},
            headers=self.key,
        )
        assert posted.status_code == 201, posted.text

    async def read_all(self) -> None:
        """Do what the open widget does: mark the last message it shows read."""
        shown = await self.client.get("/widget/messages?after=0", headers=self.visitor)
        read = {"conversation_id": self.conversation_id, "seq": shown.json()["items"][-1]["seq"]}
        marked = await self.client.post("/widget/read", json=read, headers=self.visitor)
        assert marked.status_code == 204, marked.text


async def _chat(
    database: Database, client: httpx.AsyncClient, text: str = "Hi", *, assistant: bool = False
) -> Chat:
    workspace = await make_workspace(database)
    if assistant:
        await enable_assistant(database, workspace.id, Channel.chat)
    source = await make_source(database, workspace)
    started = await client.post("/widget/sessions", json={"write_key": source.write_key})
    token = started.json()["visitor_token"]
    sent = await client.post(
        "/widget/messages",
        json={"client_id": "client-0001", "body": text},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert sent.status_code == 201, sent.text
    key = bearer(await make_api_key(database, workspace))
    return Chat(client, token, sent.json()["conversation_id"], key)


async def _later(database: Database, clock: FrozenClock) -> None:
    clock.advance(UNSEEN_FOR + timedelta(seconds=1))
    await Worker(database).run_pending()


async def test_replies_not_seen_are_emailed_together_once(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    clock = FrozenClock()
    chat = await _chat(database, client, "Do you ship to Norway?")
    await chat.leave_email()
    await chat.reply("Yes, in 5-8 working days.")
    await chat.reply("Shipping there is €19.90.")
    await Worker(database).run_pending()
    assert inbox.received == []  # not before the visitor had time to read them
    await _later(database, clock)
    [(_, recipients, sent)] = inbox.received
    assert recipients == ["ana@example.com"]
    assert sent["Subject"] == "A reply to your chat"
    assert sent.get_content() == (
        "Yes, in 5-8 working days.\n\nShipping there is €19.90.\n\n-- \n"
        "You left this address in our chat when no one was online.\n"
        "To carry on, write in the chat on our website.\n"
    )
    await _later(database, clock)  # the second reply's job finds nothing new
    assert len(inbox.received) == 1
    await chat.reply("Anything else?")
    await _later(database, clock)
    assert [message.get_content().split("\n")[0] for _, _, message in inbox.received] == [
        "Yes, in 5-8 working days.",
        "Anything else?",
    ]


async def test_a_reply_read_in_the_chat_is_not_emailed(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    clock = FrozenClock()
    chat = await _chat(database, client)
    await chat.leave_email()
    await chat.reply("Hello! How can I help?")
    await chat.read_all()
    await _later(database, clock)
    assert inbox.received == []


async def test_without_an_address_left_nothing_is_queued(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    clock = FrozenClock()
    chat = await _chat(database, client)
    await chat.reply("Hello! How can I help?")
    await _later(database, clock)
    assert inbox.received == []


async def test_private_notes_are_never_emailed(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    clock = FrozenClock()
    chat = await _chat(database, client)
    await chat.leave_email()
    note = {"kind": "note", "body": "Customer is rude, careful."}
    posted = await client.post(
        f"/api/v1/conversations/{chat.conversation_id}/messages", json=note, headers=chat.key
    )
    assert posted.status_code == 201
    await chat.reply("Hello!")
    await _later(database, clock)
    [(_, _, sent)] = inbox.received
    assert "rude" not in sent.get_content()
    assert "No agent was online" not in sent.get_content()


async def test_the_email_speaks_the_conversations_language(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    clock = FrozenClock()
    chat = await _chat(database, client, "Bonjour, livrez-vous en Norvège ?")
    await Worker(database).run_pending()  # the message's labels: French
    await chat.leave_email()
    await chat.reply("Oui, en 5 à 8 jours ouvrés.")
    await _later(database, clock)
    [(_, _, sent)] = inbox.received
    assert sent["Subject"] == "Une réponse à votre message"


async def test_a_returning_visitor_is_not_asked_for_their_email_again(
    database: Database, client: httpx.AsyncClient
) -> None:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    started = await client.post("/widget/sessions", json={"write_key": source.write_key})
    token = started.json()["visitor_token"]
    assert started.json()["email_left"] is False
    headers = {"Authorization": f"Bearer {token}"}
    left = await client.post("/widget/email", json={"email": "ana@example.com"}, headers=headers)
    assert left.status_code == 204
    again = await client.post(
        "/widget/sessions", json={"write_key": source.write_key, "visitor_token": token}
    )
    assert again.json()["email_left"] is True


async def test_the_assistants_answers_are_not_emailed(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    # Anyone may leave any address: the assistant's instant answers would let a stranger
    # mail someone's inbox by chatting; an agent's reply needs a person.
    clock = FrozenClock()
    chat = await _chat(database, client, "Do you ship to Norway?", assistant=True)
    await chat.leave_email()
    await Worker(database).run_pending()  # the assistant answers
    authors = await client.get("/widget/messages?after=0", headers=chat.visitor)
    assert "assistant" in [item["author_type"] for item in authors.json()["items"]]
    await _later(database, clock)
    assert inbox.received == []


async def test_more_replies_than_one_email_carries_say_so(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    clock = FrozenClock()
    chat = await _chat(database, client)
    await chat.leave_email()
    for number in range(MAX_REPLIES + 1):
        await chat.reply(f"Reply {number}")
    await _later(database, clock)
    [(_, _, sent)] = inbox.received
    lines = sent.get_content().split("\n\n")
    assert lines[:2] == ["(Earlier replies are in the chat.)", "Reply 1"]
    assert lines[MAX_REPLIES] == f"Reply {MAX_REPLIES}"


async def test_an_address_left_before_the_first_message_is_told_to_agents(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    clock = FrozenClock()
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    started = await client.post("/widget/sessions", json={"write_key": source.write_key})
    visitor = {"Authorization": f"Bearer {started.json()['visitor_token']}"}
    left = await client.post("/widget/email", json={"email": "ana@example.com"}, headers=visitor)
    assert left.status_code == 204
    sent = await client.post(
        "/widget/messages", json={"client_id": "client-0001", "body": "Hi"}, headers=visitor
    )
    conversation_id = sent.json()["conversation_id"]
    key = bearer(await make_api_key(database, workspace))
    chat = Chat(client, started.json()["visitor_token"], conversation_id, key)
    listed = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=key)
    assert [(item["author_type"], item["private"]) for item in listed.json()["items"]] == [
        ("customer", False),
        ("system", True),
    ]
    assert "the customer left ana@example.com" in listed.json()["items"][1]["body"]
    await chat.reply("Hello!")
    await _later(database, clock)
    assert [recipients for _, recipients, _ in inbox.received] == [["ana@example.com"]]


async def test_another_person_on_the_same_browser_never_gets_the_address(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    # The address is the conversation's: another customer signing in on the same browser,
    # or a stranger after a sign-out, neither sees it nor has replies sent to it.
    clock = FrozenClock()
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    async with database.session() as session:
        secret = await identity_verification.secret(
            session, workspace_id=workspace.id, source_id=source.id, actor=SYSTEM
        )

    async def start(token: str | None, user_id: str | None) -> dict:
        fields: dict[str, str] = {"write_key": source.write_key}
        if token:
            fields["visitor_token"] = token
        if user_id:
            fields |= {"user_id": user_id, "user_hash": user_hash(secret, user_id)}
        started = await client.post("/widget/sessions", json=fields)
        assert started.status_code == 200, started.text
        return dict(started.json())

    first = await start(None, "customer-1")
    token = first["visitor_token"]
    visitor = {"Authorization": f"Bearer {token}"}
    await client.post(
        "/widget/messages", json={"client_id": "client-0001", "body": "Hi"}, headers=visitor
    )
    left = await client.post("/widget/email", json={"email": "one@example.com"}, headers=visitor)
    assert left.status_code == 204
    second = await start(token, "customer-2")  # another customer signs in on this browser
    assert second["email_left"] is False
    sent = await client.post(
        "/widget/messages",
        json={"client_id": "client-0002", "body": "Where is my order?"},
        headers=visitor,
    )
    key = bearer(await make_api_key(database, workspace))
    chat = Chat(client, token, sent.json()["conversation_id"], key)
    await chat.reply("Your order goes to 5 Elm St.")
    stranger = await start(token, None)  # signed out: a stranger on the browser
    assert stranger["email_left"] is False
    await client.post("/widget/email", json={"email": "evil@example.com"}, headers=visitor)
    await _later(database, clock)
    assert inbox.received == []
    assert (await start(token, "customer-1"))["email_left"] is True  # theirs, on their chat


@pytest.mark.parametrize(
    ("email", "status", "stored"),
    [
        ("kunde@müller.de", 204, "kunde@xn--mller-kva.de"),  # the domain in punycode
        ("jörg@example.de", 422, None),  # mail servers refuse a name with accents
    ],
)
async def test_an_address_is_kept_as_mail_servers_take_it(
    database: Database,
    client: httpx.AsyncClient,
    inbox: Inbox,
    email: str,
    status: int,
    stored: str | None,
) -> None:
    clock = FrozenClock()
    chat = await _chat(database, client)
    left = await client.post("/widget/email", json={"email": email}, headers=chat.visitor)
    assert left.status_code == status, left.text
    await chat.reply("Hello!")
    await _later(database, clock)
    assert [recipients for _, recipients, _ in inbox.received] == ([[stored]] if stored else [])
