"""Inbound email by IMAP polling, against a real IMAP server (a throwaway Dovecot): unseen
messages become conversations through the webhook's inbound path, are marked seen only after
the commit, a re-delivery adds nothing, and the mailbox's password never leaves sealed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from rapport.config import Settings
from rapport.core.db import Database
from rapport.identity.enums import Scope
from rapport.support.background import ImapPolling
from rapport.support.email_models import EmailSettings
from rapport.support.imap_client import host_policy
from rapport.support.imap_polling import ImapPoller
from rapport.support.imap_schemas import ImapSecurity, MailboxAccess
from rapport.support.models import Conversation, Message
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.imap import USERS, ImapServer, dovecot_server
from tests.support.test_email import bodies, count, customer_email


@pytest.fixture(autouse=True)
def _private_hosts_allowed() -> Iterator[None]:
    """The test servers listen on 127.0.0.1 (RAPPORT_IMAP_ALLOW_PRIVATE_HOSTS)."""
    host_policy.configure(allow_private=True)
    yield
    host_policy.configure(allow_private=None)


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    """One Dovecot for the module's tests (each test uses its own messages)."""
    with dovecot_server() as server:
        yield server


@pytest.fixture
def mailbox(imap_server: ImapServer) -> Iterator[ImapServer]:
    """The server with both users' inboxes emptied before the test."""
    for user in USERS:
        connection = imap_server.client(user)
        connection.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
        connection.expunge()
        connection.logout()
    yield imap_server


@pytest.fixture
def poller(database: Database, settings: Settings) -> ImapPoller:
    return ImapPoller(database, settings.data_dir)


def mailbox_body(server: ImapServer, user: str = "shop", **changes: object) -> dict:
    return {
        "host": server.host, "port": server.port, "security": "plain", "username": user,
        "password": USERS[user], "poll_seconds": 10, **changes,
    }  # fmt: skip


async def imap_workspace(
    database: Database, client: httpx.AsyncClient, server: ImapServer, user: str = "shop"
) -> tuple[str, dict]:
    """A workspace with the IMAP mailbox of `user` connected; return its id and key."""
    workspace = await make_workspace(database)
    key = bearer(await make_api_key(database, workspace))
    answer = await client.put(
        "/api/v1/email-settings/imap", json=mailbox_body(server, user), headers=key
    )
    assert answer.status_code == 200, answer.text
    return workspace.id, key


async def conversation_ids(database: Database, workspace_id: str) -> list[str]:
    async with database.session() as session:
        query = select(Conversation.id).where(Conversation.workspace_id == workspace_id)
        return list((await session.execute(query.order_by(Conversation.id))).scalars())


async def test_an_unseen_email_becomes_a_conversation_and_is_marked_seen(
    database: Database, client: httpx.AsyncClient, mailbox: ImapServer, poller: ImapPoller
) -> None:
    workspace_id, key = await imap_workspace(database, client, mailbox)
    uid = mailbox.deliver(customer_email("Where is my parcel?").as_bytes())
    assert "\\Seen" not in mailbox.flags(uid)

    [result] = await poller.check_due()

    assert (result.workspace_id, result.received, result.error) == (workspace_id, 1, None)
    [conversation_id] = await conversation_ids(database, workspace_id)
    assert await bodies(database, conversation_id) == ["Where is my parcel?"]
    read = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=key)).json()
    assert read["channel"] == "email"
    assert "\\Seen" in mailbox.flags(uid)
    shown = (await client.get("/api/v1/email-settings/imap", headers=key)).json()
    assert shown["last_polled_at"] is not None and shown["last_error"] is None
    # Not due again until its interval has passed: nothing is claimed.
    assert await poller.check_due() == []


async def test_a_reply_in_the_mailbox_threads_into_its_conversation(
    database: Database, client: httpx.AsyncClient, mailbox: ImapServer, poller: ImapPoller
) -> None:
    workspace_id, _ = await imap_workspace(database, client, mailbox)
    mailbox.deliver(customer_email("Where is my parcel?").as_bytes())
    reply = customer_email(
        "Any news?\n\nOn Monday Maria wrote:\n> Where is my parcel?",
        "<second-2@mail.example.com>",
        In_Reply_To="<first-1@mail.example.com>",
    )
    mailbox.deliver(reply.as_bytes())

    [result] = await poller.check_due()

    assert result.received == 2
    [conversation_id] = await conversation_ids(database, workspace_id)
    assert await bodies(database, conversation_id) == ["Where is my parcel?", "Any news?"]


async def test_a_redelivery_after_a_crash_before_marking_seen_adds_nothing(
    database: Database, client: httpx.AsyncClient, mailbox: ImapServer, poller: ImapPoller
) -> None:
    workspace_id, _ = await imap_workspace(database, client, mailbox)
    uid = mailbox.deliver(customer_email("Where is my parcel?").as_bytes())
    [first] = await poller.check_due()
    assert first.received == 1
    # The process died after the commit and before \Seen reached the server.
    mailbox.unsee(uid)
    access = MailboxAccess(
        workspace_id, mailbox.host, mailbox.port, ImapSecurity.plain, "shop",
        USERS["shop"], "INBOX",
    )  # fmt: skip

    again = await poller.check(access)

    assert (again.received, again.duplicates, again.error) == (0, 1, None)
    assert await count(database, Message) == 1
    assert len(await conversation_ids(database, workspace_id)) == 1
    assert "\\Seen" in mailbox.flags(uid)


async def test_a_message_whose_commit_fails_stays_unseen_and_comes_later(
    database: Database,
    client: httpx.AsyncClient,
    mailbox: ImapServer,
    poller: ImapPoller,
    tmp_path: Path,
) -> None:
    workspace_id, _ = await imap_workspace(database, client, mailbox)
    uid = mailbox.deliver(customer_email("Where is my parcel?").as_bytes())
    access = MailboxAccess(
        workspace_id, mailbox.host, mailbox.port, ImapSecurity.plain, "shop",
        USERS["shop"], "INBOX",
    )  # fmt: skip
    # A database without Rapport's tables: recording the message fails, nothing commits.
    broken = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(Exception):  # noqa: B017 - any failure of the database will do
            await ImapPoller(broken, tmp_path).check(access)
    finally:
        await broken.dispose()
    assert "\\Seen" not in mailbox.flags(uid)

    [result] = await poller.check_due()

    assert result.received == 1
    assert "\\Seen" in mailbox.flags(uid)


async def test_a_malformed_message_is_flagged_and_reported(
    database: Database, client: httpx.AsyncClient, mailbox: ImapServer, poller: ImapPoller
) -> None:
    workspace_id, key = await imap_workspace(database, client, mailbox)
    uid = mailbox.deliver(b"Subject: no sender\r\n\r\nHello\r\n")

    [result] = await poller.check_due()

    assert (result.received, result.set_aside) == (0, 1)
    assert {"\\Seen", "\\Flagged"} <= mailbox.flags(uid)
    assert await conversation_ids(database, workspace_id) == []
    shown = (await client.get("/api/v1/email-settings/imap", headers=key)).json()
    assert shown["last_error"] == "1 message(s) could not be read; they are flagged in the mailbox."


async def test_a_wrong_password_is_reported_and_leaves_the_mail_unseen(
    database: Database, client: httpx.AsyncClient, mailbox: ImapServer, poller: ImapPoller
) -> None:
    workspace = await make_workspace(database)
    key = bearer(await make_api_key(database, workspace))
    body = mailbox_body(mailbox, password="not-the-password")
    assert (await client.put("/api/v1/email-settings/imap", json=body, headers=key)).is_success
    uid = mailbox.deliver(customer_email("Hello").as_bytes())

    [result] = await poller.check_due()

    expected = f"{mailbox.host}:{mailbox.port} refused the user name or password."
    assert result.error == expected
    shown = (await client.get("/api/v1/email-settings/imap", headers=key)).json()
    assert shown["last_error"] == expected
    assert "\\Seen" not in mailbox.flags(uid)


async def test_each_workspace_reads_only_its_own_mailbox(
    database: Database, client: httpx.AsyncClient, mailbox: ImapServer, poller: ImapPoller
) -> None:
    shop_id, _ = await imap_workspace(database, client, mailbox, "shop")
    other_id, _ = await imap_workspace(database, client, mailbox, "other")
    mailbox.deliver(customer_email("For the shop").as_bytes(), user="shop")

    results = await poller.check_due()

    assert sorted((r.workspace_id, r.received) for r in results) == sorted(
        [(shop_id, 1), (other_id, 0)]
    )
    assert await conversation_ids(database, other_id) == []
    [conversation_id] = await conversation_ids(database, shop_id)
    assert await bodies(database, conversation_id) == ["For the shop"]


async def test_the_background_part_polls_where_the_worker_runs(
    database: Database, client: httpx.AsyncClient, mailbox: ImapServer, settings: Settings
) -> None:
    workspace_id, _ = await imap_workspace(database, client, mailbox)
    uid = mailbox.deliver(customer_email("Where is my parcel?").as_bytes())
    assert not _started(ImapPolling(settings))  # tests run no worker: no polling

    polling = ImapPolling(settings.model_copy(update={"run_worker": True}))
    polling.start()
    try:
        for _ in range(200):
            if "\\Seen" in mailbox.flags(uid):
                break
            await asyncio.sleep(0.05)
    finally:
        polling.stop()

    assert len(await conversation_ids(database, workspace_id)) == 1


def _started(polling: ImapPolling) -> bool:
    polling.start()
    running = polling.running
    polling.stop()
    return running


async def test_the_password_is_sealed_and_never_returned(
    database: Database, client: httpx.AsyncClient, mailbox: ImapServer
) -> None:
    workspace_id, key = await imap_workspace(database, client, mailbox)

    shown = await client.get("/api/v1/email-settings/imap", headers=key)

    assert shown.json() == {
        "host": "127.0.0.1", "port": mailbox.port, "security": "plain", "username": "shop",
        "password_set": True, "folder": "INBOX", "poll_seconds": 10, "enabled": True,
        "last_polled_at": None, "last_error": None,
    }  # fmt: skip
    assert USERS["shop"] not in shown.text
    async with database.session() as session:
        row = (
            await session.execute(
                select(EmailSettings).where(EmailSettings.workspace_id == workspace_id)
            )
        ).scalar_one()
        assert row.imap_password is not None
        assert USERS["shop"].encode() not in row.imap_password
    # A change without the password keeps it; another user needs one.
    body = mailbox_body(mailbox, poll_seconds=30)
    del body["password"]
    kept = await client.put("/api/v1/email-settings/imap", json=body, headers=key)
    assert (kept.status_code, kept.json()["poll_seconds"]) == (200, 30)
    body["username"] = "other"
    refused = await client.put("/api/v1/email-settings/imap", json=body, headers=key)
    assert (refused.status_code, refused.json()["error"]) == (422, "ImapPasswordRequired")


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"host": "imap.example.com", "security": "plain"}, 422),
        ({"host": "bad host!"}, 422),
        ({"port": 70000}, 422),
        ({"poll_seconds": 1}, 422),
        ({"folder": 'In"box'}, 422),
        ({"username": "a\r\nb"}, 422),
        ({"password": "x\r\nLOGOUT"}, 422),
        ({"security": "ssl3"}, 422),
    ],
)
async def test_bad_settings_are_refused_with_a_message(
    database: Database, client: httpx.AsyncClient, changes: dict, status: int
) -> None:
    workspace = await make_workspace(database)
    key = bearer(await make_api_key(database, workspace))
    body = {"host": "127.0.0.1", "security": "plain", "username": "u", "password": "p", **changes}

    answer = await client.put("/api/v1/email-settings/imap", json=body, headers=key)

    assert answer.status_code == status
    assert answer.json()["detail"]


async def test_the_mailbox_needs_the_workspace_scopes_and_can_be_removed(
    database: Database, client: httpx.AsyncClient
) -> None:
    workspace = await make_workspace(database)
    reader = bearer(await make_api_key(database, workspace, scopes=[Scope.workspace_read]))
    writer = bearer(await make_api_key(database, workspace))
    body = {"host": "imap.example.com", "username": "u", "password": "p"}

    assert (await client.get("/api/v1/email-settings/imap", headers=writer)).status_code == 404
    denied = await client.put("/api/v1/email-settings/imap", json=body, headers=reader)
    assert denied.status_code == 403
    made = await client.put("/api/v1/email-settings/imap", json=body, headers=writer)
    assert (made.json()["port"], made.json()["security"]) == (993, "imaps")
    assert (await client.get("/api/v1/email-settings/imap", headers=reader)).status_code == 200
    assert (await client.delete("/api/v1/email-settings/imap", headers=reader)).status_code == 403
    assert (await client.delete("/api/v1/email-settings/imap", headers=writer)).status_code == 204
    assert (await client.get("/api/v1/email-settings/imap", headers=writer)).status_code == 404


@pytest.mark.parametrize(
    ("security", "expected"),
    [
        # Which way a connection failed is not told: no port-scan oracle (probe 4.3).
        (ImapSecurity.imaps, "Could not connect to 127.0.0.1:{port}."),
        (ImapSecurity.starttls, "127.0.0.1:{port} does not offer STARTTLS"),
    ],
)
async def test_a_server_without_the_tls_asked_for_is_refused_before_sign_in(
    database: Database,
    mailbox: ImapServer,
    poller: ImapPoller,
    security: ImapSecurity,
    expected: str,
) -> None:
    workspace = await make_workspace(database)
    uid = mailbox.deliver(customer_email("Hello").as_bytes())
    access = MailboxAccess(
        workspace.id, mailbox.host, mailbox.port, security, "shop", USERS["shop"], "INBOX"
    )

    result = await poller.check(access)

    assert result.error is not None
    assert result.error.startswith(expected.format(port=mailbox.port))
    assert "\\Seen" not in mailbox.flags(uid)
