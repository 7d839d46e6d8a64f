"""A server lying about a message's size cannot make the poller read more than the limit
(probe 4.1)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from rapport.support import imap_client
from rapport.support.imap_client import ImapFailure, Mailbox, host_policy
from rapport.support.imap_schemas import ImapSecurity, MailboxAccess


@pytest.fixture(autouse=True)
def _private_hosts_allowed() -> Iterator[None]:
    """The test servers listen on 127.0.0.1 (RAPPORT_IMAP_ALLOW_PRIVATE_HOSTS)."""
    host_policy.configure(allow_private=True)
    yield
    host_policy.configure(allow_private=None)


def _hostile(literal: int, search: bytes = b"* SEARCH 1\r\n") -> int:
    """Serve one IMAP session on 127.0.0.1 that claims RFC822.SIZE 10 and sends `literal`."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        lines = conn.makefile("rb")
        conn.sendall(b"* OK IMAP4rev1 ready\r\n")
        try:
            for line in lines:
                tag, command = [*line.strip().split(b" ", 2), b""][:2]
                upper = line.upper()
                if command.upper() == b"CAPABILITY":
                    conn.sendall(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
                elif command.upper() == b"SELECT":
                    conn.sendall(b"* 1 EXISTS\r\n" + tag + b" OK [READ-WRITE] done\r\n")
                elif b"SEARCH" in upper:
                    conn.sendall(search + tag + b" OK done\r\n")
                elif b"RFC822.SIZE" in upper:
                    conn.sendall(b"* 1 FETCH (UID 1 RFC822.SIZE 10)\r\n" + tag + b" OK done\r\n")
                elif b"BODY.PEEK" in upper:
                    conn.sendall(b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % literal)
                    for _ in range(literal // 65536):
                        conn.sendall(b"x" * 65536)
                    conn.sendall(b")\r\n" + tag + b" OK done\r\n")
                else:
                    conn.sendall(tag + b" OK done\r\n")
        except OSError:
            pass  # the client hung up (what a fixed client does)
        finally:
            conn.close()
            listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return int(listener.getsockname()[1])


def test_a_server_lying_about_a_size_cannot_make_us_read_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap_client, "MAX_MESSAGE_BYTES", 1024 * 1024)
    port = _hostile(8 * 1024 * 1024)
    access = MailboxAccess("w", "127.0.0.1", port, ImapSecurity.plain, "u", "p", "INBOX")
    mailbox = Mailbox.open(access)
    try:
        try:
            raw = mailbox.fetch(mailbox.unseen(10)[0])
        except ImapFailure:
            raw = None  # refused: fine
        assert raw is None or len(raw) <= imap_client.MAX_MESSAGE_BYTES
    finally:
        mailbox.close()


def test_a_search_answer_that_is_no_list_of_uids_is_a_failure_and_no_crash() -> None:
    port = _hostile(1024, search=b"* SEARCH 1 x\r\n")
    access = MailboxAccess("w", "127.0.0.1", port, ImapSecurity.plain, "u", "p4ss", "INBOX")
    assert "p4ss" not in repr(access)
    mailbox = Mailbox.open(access)
    try:
        with pytest.raises(ImapFailure, match="could not be read"):
            mailbox.unseen(10)
    finally:
        mailbox.close()
