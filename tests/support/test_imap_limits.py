"""IMAP polling against hostile servers (probe 4.2, 4.3, 4.1/4.5): an overall deadline per
check, one slow mailbox not holding the others, the address policy, a coarse connection
error, partial fetches and a cap on response lines. The hostile servers are tiny socket
servers on loopback written here (a hostile server is by nature not Dovecot); the honest
mailbox is the real Dovecot."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from rapport.config import Settings
from rapport.core.db import Database
from rapport.support import imap_client
from rapport.support.imap_client import ImapFailure, Mailbox, host_policy
from rapport.support.imap_polling import ImapPoller
from rapport.support.imap_schemas import ImapSecurity, MailboxAccess
from tests.fixtures.identity import make_workspace
from tests.fixtures.imap import USERS, ImapServer, dovecot_server
from tests.support.test_email import customer_email
from tests.support.test_imap import imap_workspace


@pytest.fixture(autouse=True)
def _private_hosts_allowed() -> Iterator[None]:
    """The test servers listen on 127.0.0.1 (RAPPORT_IMAP_ALLOW_PRIVATE_HOSTS)."""
    host_policy.configure(allow_private=True)
    yield
    host_policy.configure(allow_private=None)


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    with dovecot_server() as server:
        yield server


def _serve(handle: Callable[[socket.socket], None]) -> tuple[int, list[int]]:
    """Serve every connection to a loopback port with `handle`; return the port and a list
    that counts the connections accepted."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[int] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            threading.Thread(target=_quietly, args=(handle, conn), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return int(listener.getsockname()[1]), accepted


def _quietly(handle: Callable[[socket.socket], None], conn: socket.socket) -> None:
    try:
        handle(conn)
    except OSError:
        pass  # the client hung up
    finally:
        conn.close()


def _drip(conn: socket.socket) -> None:
    """A greeting that never ends: one byte every 0.2 s."""
    while True:
        conn.sendall(b"*")
        time.sleep(0.2)


def _access(workspace_id: str, port: int, host: str = "127.0.0.1") -> MailboxAccess:
    return MailboxAccess(workspace_id, host, port, ImapSecurity.plain, "u", "p", "INBOX")


async def test_a_dripping_server_is_cut_off_and_does_not_hold_the_other_mailboxes(
    database: Database,
    client: httpx.AsyncClient,
    imap_server: ImapServer,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap_client, "TIMEOUT_SECONDS", 1.0)
    port, _ = _serve(_drip)
    slow = []
    for _ in range(2):
        workspace, key = await imap_workspace(database, client, imap_server)
        body = {"host": "127.0.0.1", "port": port, "security": "plain", "username": "u",
                "password": "p", "poll_seconds": 10}  # fmt: skip
        answer = await client.put("/api/v1/email-settings/imap", json=body, headers=key)
        assert answer.is_success, answer.text
        slow.append(workspace)
    honest, _ = await imap_workspace(database, client, imap_server, user="other")
    imap_server.deliver(customer_email("Still here").as_bytes(), user="other")
    poller = ImapPoller(database, settings.data_dir, check_seconds=3.0)

    started = time.monotonic()
    results = await poller.check_due()
    took = time.monotonic() - started

    by_workspace = {result.workspace_id: result for result in results}
    assert by_workspace[honest].received == 1 and by_workspace[honest].error is None
    for workspace in slow:
        assert by_workspace[workspace].error == f"Could not connect to 127.0.0.1:{port}."
    # Each dripping check ends at its 3 s deadline, the two side by side (one after the
    # other: 6 s or more), although each byte came well within the 1 s read timeout.
    assert took < 5.5, took
    shown = (await client.get("/api/v1/email-settings/imap", headers=key)).json()
    assert shown["last_error"] == f"Could not connect to 127.0.0.1:{port}."


def test_a_deadline_cuts_a_check_off_after_sign_in_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that answers the greeting and sign-in, then drips its SELECT answer."""

    def handle(conn: socket.socket) -> None:
        conn.sendall(b"* OK IMAP4rev1 ready\r\n")
        for line in conn.makefile("rb"):
            tag, command = [*line.strip().split(b" ", 2), b""][:2]
            if command.upper() == b"SELECT":
                _drip(conn)
            elif command.upper() == b"CAPABILITY":
                conn.sendall(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
            else:
                conn.sendall(tag + b" OK done\r\n")

    port, _ = _serve(handle)
    started = time.monotonic()
    with pytest.raises(ImapFailure, match="could not be opened"):
        Mailbox.open(_access("w", port), seconds=2.0)
    assert time.monotonic() - started < 4


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "224.0.0.1",
        "0.0.0.0",  # noqa: S104
        "fe80::1",
        "::ffff:169.254.169.254",
    ],
)
async def test_link_local_and_reserved_hosts_are_refused_when_saved(
    database: Database, client: httpx.AsyncClient, imap_server: ImapServer, host: str
) -> None:
    _, key = await imap_workspace(database, client, imap_server)
    body = {"host": host, "security": "imaps", "username": "u", "password": "p"}

    answer = await client.put("/api/v1/email-settings/imap", json=body, headers=key)

    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("host", ["10.1.2.3", "127.0.0.1", "localhost", "192.168.0.10", "127.1"])
async def test_private_hosts_need_the_operator_setting(
    database: Database, client: httpx.AsyncClient, imap_server: ImapServer, host: str
) -> None:
    _, key = await imap_workspace(database, client, imap_server)
    body = {"host": host, "security": "imaps", "username": "u", "password": "p"}
    host_policy.configure(allow_private=False)

    refused = await client.put("/api/v1/email-settings/imap", json=body, headers=key)
    host_policy.configure(allow_private=True)
    allowed = await client.put("/api/v1/email-settings/imap", json=body, headers=key)

    assert refused.status_code == 422, refused.text
    assert "private or loopback" in refused.json()["detail"]
    assert allowed.status_code == 200, allowed.text


def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, accepted = _serve(lambda conn: conn.sendall(b"* OK IMAP4rev1 ready\r\n"))
    real = socket.getaddrinfo

    def resolver(host: object, *args: object, **kwargs: object) -> object:
        # The OS resolver's answer for an outside name that points inside.
        if host == "mail.shop.example":
            return real("127.0.0.1", *args, **kwargs)  # type: ignore[arg-type]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    host_policy.configure(allow_private=False)

    with pytest.raises(ImapFailure, match="address is not allowed"):
        Mailbox.open(_access("w", port, host="mail.shop.example"), seconds=3.0)
    time.sleep(0.2)
    assert accepted == []  # nothing was connected


def test_a_connection_failure_tells_nothing_about_the_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap_client, "TIMEOUT_SECONDS", 1.0)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = int(closed.getsockname()[1])
    closed.close()  # nothing listens there
    silent, _ = _serve(lambda conn: time.sleep(3))

    def ssh(conn: socket.socket) -> None:  # open, speaking something else
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        time.sleep(3)

    talking, _ = _serve(ssh)

    errors = []
    for port, security in [
        (closed_port, ImapSecurity.imaps),
        (silent, ImapSecurity.imaps),
        (talking, ImapSecurity.imaps),
        (talking, ImapSecurity.plain),
    ]:
        access = MailboxAccess("w", "127.0.0.1", port, security, "u", "p", "INBOX")
        with pytest.raises(ImapFailure) as failure:
            Mailbox.open(access, seconds=2.0)
        errors.append(str(failure.value).replace(str(port), "PORT"))

    assert set(errors) == {"Could not connect to 127.0.0.1:PORT."}, errors


def _commands(
    answers: dict[bytes, Callable[[socket.socket, bytes], None]],
) -> tuple[int, list[bytes]]:
    """A scripted IMAP server: `answers` maps a word in a command to what is sent back."""
    seen: list[bytes] = []

    def handle(conn: socket.socket) -> None:
        conn.sendall(b"* OK IMAP4rev1 ready\r\n")
        for line in conn.makefile("rb"):
            seen.append(line)
            tag = line.split(b" ", 1)[0]
            for word, answer in answers.items():
                if word in line.upper():
                    answer(conn, tag)
                    break
            else:
                if b"CAPABILITY" in line.upper():
                    conn.sendall(b"* CAPABILITY IMAP4rev1\r\n")
                conn.sendall(tag + b" OK done\r\n")

    port, _ = _serve(handle)
    return port, seen


def test_an_endless_stream_of_lines_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap_client, "MAX_LINES", 1000)
    sent: list[int] = []

    def endless(conn: socket.socket, tag: bytes) -> None:
        while True:
            conn.sendall(b"* 1 EXISTS\r\n" * 100)
            sent.append(100)

    port, _ = _commands({b"SEARCH": endless})
    mailbox = Mailbox.open(_access("w", port), seconds=10.0)
    try:
        with pytest.raises(ImapFailure, match="search the folder"):
            mailbox.unseen(10)
    finally:
        mailbox.close()


def test_a_message_is_fetched_only_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap_client, "MAX_MESSAGE_BYTES", 1000)

    def size(conn: socket.socket, tag: bytes) -> None:
        conn.sendall(b"* 1 FETCH (UID 7 RFC822.SIZE 10)\r\n" + tag + b" OK done\r\n")

    def body(conn: socket.socket, tag: bytes) -> None:
        # An honest server sends what was asked for: the first 1001 bytes.
        conn.sendall(b"* 1 FETCH (UID 7 BODY[]<0> {1001}\r\n" + b"x" * 1001 + b")\r\n")
        conn.sendall(tag + b" OK done\r\n")

    port, seen = _commands({b"RFC822.SIZE": size, b"BODY.PEEK": body})
    mailbox = Mailbox.open(_access("w", port), seconds=10.0)
    try:
        assert mailbox.fetch(7) is None  # over the limit: set aside
    finally:
        mailbox.close()
    assert any(b"BODY.PEEK[]<0.1001>" in line for line in seen), seen


async def test_an_honest_mailbox_still_works_with_the_guards(
    database: Database, imap_server: ImapServer, settings: Settings
) -> None:
    workspace = await make_workspace(database)
    uid = imap_server.deliver(customer_email("Guarded").as_bytes())
    access = MailboxAccess(
        workspace.id, imap_server.host, imap_server.port, ImapSecurity.plain, "shop",
        USERS["shop"], "INBOX",
    )  # fmt: skip
    poller = ImapPoller(database, settings.data_dir)

    result = await poller.check(access)

    assert result.error is None and result.received >= 1
    assert "\\Seen" in imap_server.flags(uid)


def test_plain_goes_only_to_a_loopback_address_when_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A name saved as local (localhost.localdomain) that resolves elsewhere gets no password
    in clear (probe 4.4)."""
    port, accepted = _serve(lambda conn: conn.sendall(b"* OK IMAP4rev1 ready\r\n"))
    real = socket.getaddrinfo

    def resolver(host: object, *args: object, **kwargs: object) -> object:
        if host == "localhost.localdomain":  # a DNS search answer pointing off this host
            return real("10.9.8.7", *args, **kwargs)  # type: ignore[arg-type]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    with pytest.raises(ImapFailure, match="not on this host"):
        Mailbox.open(_access("w", port, host="localhost.localdomain"), seconds=3.0)
    assert accepted == []
