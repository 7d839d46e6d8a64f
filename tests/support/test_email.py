"""The email channel end to end: real MIME in through the webhook, replies out through a
real SMTP server, threading by Message-ID / In-Reply-To / References."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from rapport.config import Settings
from rapport.core.db import Database
from rapport.identity.enums import Scope
from rapport.support.email_attachments import attachment_path
from rapport.support.email_models import EmailRecord
from rapport.support.email_outbound import email_channel
from rapport.support.messages import read_message
from rapport.support.models import Conversation, Message
from rapport.worker.runner import Worker
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.mail import Inbox, smtp_server

PDF = b"%PDF-1.4 the label of order 1042"


@pytest.fixture
def inbox(app: FastAPI) -> Iterator[Inbox]:
    """A real SMTP server that outbound email goes to."""
    with smtp_server() as inbox:
        yield inbox


async def email_workspace(database: Database, client: httpx.AsyncClient) -> tuple[str, str, dict]:
    """Create a workspace with an inbound address and a signature; return its id, the
    inbound path and an API key header."""
    workspace = await make_workspace(database)
    key = bearer(await make_api_key(database, workspace))
    created = await client.post("/api/v1/email-settings/inbound-address", headers=key)
    assert created.status_code == 201
    signature = {"signature": "Ana, Shop Support"}
    assert (await client.put("/api/v1/email-settings", json=signature, headers=key)).json() == {
        "signature": "Ana, Shop Support",
        "inbound_address_set": True,
    }
    return workspace.id, httpx.URL(created.json()["inbound_url"]).path, key


def customer_email(
    text: str, message_id: str = "<first-1@mail.example.com>", **headers: str
) -> EmailMessage:
    """Return a customer's email (headers given as In_Reply_To=...)."""
    message = EmailMessage()
    message["From"] = "Maria Lopez <maria@example.com>"
    message["To"] = "support@shop.example"
    message["Subject"] = "Parcel not received"
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


async def post_email(
    client: httpx.AsyncClient, path: str, email: EmailMessage | bytes
) -> httpx.Response:
    raw = email.as_bytes() if isinstance(email, EmailMessage) else email
    return await client.post(path, content=raw, headers={"Content-Type": "message/rfc822"})


async def bodies(database: Database, conversation_id: str) -> list[str]:
    """Return a conversation's message bodies, oldest first."""
    async with database.session() as session:
        query = select(Message).where(Message.conversation_id == conversation_id)
        rows = (await session.execute(query.order_by(Message.id))).scalars()
        return [read_message(row).body for row in rows]


async def count(database: Database, model: type) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_new_email_opens_a_conversation(
    database: Database, client: httpx.AsyncClient
) -> None:
    _, path, key = await email_workspace(database, client)

    answer = await post_email(client, path, customer_email("Where is my parcel?"))

    assert answer.status_code == 200
    assert answer.json()["duplicate"] is False
    conversation_id = answer.json()["conversation_id"]
    read = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=key)).json()
    assert (read["channel"], read["status"]) == ("email", "open")
    assert await bodies(database, conversation_id) == ["Where is my parcel?"]


async def test_a_reply_goes_out_with_signature_and_threading_headers(
    database: Database, client: httpx.AsyncClient, inbox: Inbox
) -> None:
    _, path, key = await email_workspace(database, client)
    conversation_id = (await post_email(client, path, customer_email("Where?"))).json()[
        "conversation_id"
    ]

    reply = {"kind": "reply", "body": "It ships today."}
    posted = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json=reply, headers=key
    )
    assert posted.status_code == 201
    await Worker(database).run_pending()

    [(_, recipients, sent)] = inbox.received
    assert recipients == ["maria@example.com"]
    assert sent["Subject"] == "Re: Parcel not received"
    assert sent["In-Reply-To"] == "<first-1@mail.example.com>"
    assert sent["References"] == "<first-1@mail.example.com>"
    assert sent["Message-ID"].endswith("@shop.example>")
    assert sent.get_content() == "It ships today.\n\n-- \nAna, Shop Support\n"


async def test_a_reply_with_quoted_history_and_an_attachment_threads_in(
    database: Database, client: httpx.AsyncClient, inbox: Inbox, settings: Settings
) -> None:
    workspace_id, path, key = await email_workspace(database, client)
    conversation_id = (await post_email(client, path, customer_email("Where?"))).json()[
        "conversation_id"
    ]
    reply = {"kind": "reply", "body": "Which order?"}
    await client.post(f"/api/v1/conversations/{conversation_id}/messages", json=reply, headers=key)
    await Worker(database).run_pending()
    ours = inbox.received[0][2]["Message-ID"]

    message = customer_email(
        "Order 1042, label attached.\n\n"
        "On Tue, 1 Dec 2026 at 10:00, Support <support@shop.example> wrote:\n"
        "> Which order?\n> \n> -- \n> Ana, Shop Support\n",
        "<second-2@mail.example.com>",
        In_Reply_To=ours,
        References=f"<first-1@mail.example.com> {ours}",
    )
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="label.pdf")
    answered = await post_email(client, path, message)

    assert answered.status_code == 200
    assert answered.json()["conversation_id"] == conversation_id
    assert await bodies(database, conversation_id) == [
        "Where?", "Which order?", "Order 1042, label attached.",
    ]  # fmt: skip
    async with database.session() as session:
        records = await email_channel.records(session, workspace_id, conversation_id)
    sha256 = hashlib.sha256(PDF).hexdigest()
    assert records[-1].attachments == [
        {"filename": "label.pdf", "content_type": "application/pdf", "size": len(PDF),
         "sha256": sha256, "kept": True},
    ]  # fmt: skip
    stored = attachment_path(Path(settings.data_dir), workspace_id, sha256)
    assert stored.read_bytes() == PDF
    assert stored.stat().st_mode & 0o777 == 0o600


async def test_a_malformed_message_is_refused_and_nothing_is_kept(
    database: Database, client: httpx.AsyncClient, settings: Settings
) -> None:
    _, path, _ = await email_workspace(database, client)
    broken = (
        b"From: maria@example.com\r\nSubject: label\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\n'
        b"no boundary ever starts here\r\n"
    )

    answer = await post_email(client, path, broken)

    assert answer.status_code == 400
    assert answer.json() == {
        "error": "MalformedEmail",
        "detail": "The MIME structure is broken "
        "(StartBoundaryNotFoundDefect, MultipartInvariantViolationDefect).",
    }
    assert (await count(database, Conversation), await count(database, EmailRecord)) == (0, 0)
    assert not (Path(settings.data_dir) / "attachments").exists()


async def test_a_message_without_a_sender_is_refused(
    database: Database, client: httpx.AsyncClient
) -> None:
    _, path, _ = await email_workspace(database, client)

    answer = await post_email(client, path, b"Subject: hello\r\n\r\nHi there\r\n")

    assert answer.status_code == 400
    assert answer.json()["error"] == "MalformedEmail"
    assert await count(database, Conversation) == 0


async def test_a_wrong_inbound_address_is_not_found(
    database: Database, client: httpx.AsyncClient
) -> None:
    await email_workspace(database, client)

    answer = await post_email(client, "/v1/webhooks/email/em_" + "x" * 43, customer_email("Hi"))

    assert answer.status_code == 404
    assert answer.json()["error"] == "InboundAddressNotFound"
    assert await count(database, Conversation) == 0


async def test_the_same_email_twice_is_kept_once(
    database: Database, client: httpx.AsyncClient
) -> None:
    _, path, _ = await email_workspace(database, client)
    first = await post_email(client, path, customer_email("Where is my parcel?"))

    again = await post_email(client, path, customer_email("Where is my parcel?"))

    assert again.json() == {**first.json(), "duplicate": True}
    assert await count(database, Message) == 1


async def test_settings_need_the_workspace_write_scope(
    database: Database, client: httpx.AsyncClient
) -> None:
    workspace = await make_workspace(database)
    agent = bearer(await make_api_key(database, workspace, [Scope.conversations_write]))

    assert (await client.post("/api/v1/email-settings/inbound-address")).status_code == 401
    answer = await client.post("/api/v1/email-settings/inbound-address", headers=agent)
    assert answer.status_code == 403
