"""One conversation with an IMAP server over the standard library's imaplib. Every call
blocks on the network: the poller runs each in a worker thread (asyncio.to_thread) and never
while it holds a database transaction."""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from rapport.support.imap_schemas import ImapSecurity, MailboxAccess

TIMEOUT_SECONDS = 30.0
# Larger messages are left in the mailbox, flagged (the webhook takes at most 1 MB; a
# mailbox may hold a message with attachments up to the attachment limit).
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
# What a literal (a message's bytes) may exceed the message limit by: the FETCH wrapping.
LITERAL_SLACK = 64 * 1024
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapFailure(Exception):
    """The mailbox could not be used; the message is fit to show the workspace's admins
    (never the password)."""


class Mailbox:
    """A signed-in connection with the polled folder selected."""

    def __init__(self, connection: imaplib.IMAP4) -> None:
        self._connection = connection

    @classmethod
    def open(cls, access: MailboxAccess) -> Mailbox:
        """Connect (TLS as configured, certificates checked), sign in, select the folder."""
        where = f"{access.host}:{access.port}"
        try:
            connection = _connect(access)
        except ImapFailure:
            raise
        except ssl.SSLError as error:
            raise ImapFailure(f"TLS with {where} failed ({error.reason or 'handshake'}).") from None
        except (OSError, imaplib.IMAP4.error) as error:
            raise ImapFailure(f"Could not reach {where} ({type(error).__name__}).") from None
        try:
            connection.login(access.username, access.password)
        except imaplib.IMAP4.error:
            _close(connection)
            raise ImapFailure(f"{where} refused the user name or password.") from None
        except OSError as error:
            _close(connection)
            raise ImapFailure(f"{where} dropped the connection ({type(error).__name__}).") from None
        try:
            status, _ = connection.select(_quoted(access.folder))
        except (OSError, imaplib.IMAP4.error):
            status = "NO"
        if status != "OK":
            _close(connection)
            raise ImapFailure(f"The folder {access.folder!r} could not be opened.")
        return cls(connection)

    def unseen(self, limit: int) -> list[int]:
        """Return the UIDs of the folder's unseen messages, oldest first, at most `limit`."""
        with _talking("search the folder"):
            status, data = self._connection.uid("SEARCH", "UNSEEN")
        _check(status, "search the folder")
        uids = [uid for part in data if isinstance(part, bytes) for uid in part.split()]
        if not all(uid.isdigit() for uid in uids):
            raise ImapFailure("The server's answer to a search could not be read.")
        found = sorted({int(uid) for uid in uids})
        return found[:limit]

    def fetch(self, uid: int) -> bytes | None:
        """Return a message's raw bytes without marking it seen (None: too large)."""
        with _talking("read a message's size"):
            status, data = self._connection.uid("FETCH", str(uid), "(RFC822.SIZE)")
        _check(status, "read a message's size")
        size = next((_SIZE.search(part) for part in data if isinstance(part, bytes)), None)
        if size is not None and int(size.group(1)) > MAX_MESSAGE_BYTES:
            return None
        with _talking("fetch a message"):
            status, data = self._connection.uid("FETCH", str(uid), "(BODY.PEEK[])")
        _check(status, "fetch a message")
        for part in data:
            if isinstance(part, tuple) and len(part) == 2:
                raw = bytes(part[1])
                return None if len(raw) > MAX_MESSAGE_BYTES else raw
        raise ImapFailure(f"The server returned no content for message {uid}.")

    def mark_seen(self, uid: int) -> None:
        """Mark a message seen: it is in Rapport (committed) and is not fetched again."""
        with _talking("mark a message seen"):
            status, _ = self._connection.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)")
        _check(status, "mark a message seen")

    def set_aside(self, uid: int) -> None:
        """Mark a message Rapport cannot take (malformed, too large) seen and flagged, so it
        is not fetched again and stands out in a mail client."""
        with _talking("flag a message"):
            flags = r"(\Seen \Flagged)"
            status, _ = self._connection.uid("STORE", str(uid), "+FLAGS.SILENT", flags)
        _check(status, "flag a message")

    def close(self) -> None:
        """Sign out (quietly: the connection may be gone already)."""
        _close(self._connection)


def _literal_allowed(size: int) -> None:
    """Refuse a literal larger than any message we take (a server may announce a small
    RFC822.SIZE and then send gigabytes: imaplib would read them all into memory)."""
    if size > MAX_MESSAGE_BYTES + LITERAL_SLACK:
        raise imaplib.IMAP4.abort(f"the server sent a {size}-byte literal")


class _Imap(imaplib.IMAP4):
    def read(self, size: int) -> bytes:
        _literal_allowed(size)
        return super().read(size)


class _ImapSsl(imaplib.IMAP4_SSL):
    def read(self, size: int) -> bytes:
        _literal_allowed(size)
        return super().read(size)


def _connect(access: MailboxAccess) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if access.security == ImapSecurity.imaps:
        return _ImapSsl(access.host, access.port, ssl_context=context, timeout=TIMEOUT_SECONDS)
    connection = _Imap(access.host, access.port, timeout=TIMEOUT_SECONDS)
    if access.security == ImapSecurity.starttls:
        if "STARTTLS" not in connection.capabilities:
            _close(connection)
            where = f"{access.host}:{access.port}"
            raise ImapFailure(f"{where} does not offer STARTTLS; use imaps or another server.")
        try:
            connection.starttls(context)
        except BaseException:
            _close(connection)
            raise
    return connection


def _quoted(folder: str) -> str:
    # The schema allows no quotes or backslashes in a folder's name.
    return f'"{folder}"'


@contextmanager
def _talking(doing: str) -> Iterator[None]:
    """Turn a dropped connection or a protocol error into an ImapFailure."""
    try:
        yield
    except (OSError, imaplib.IMAP4.error) as error:
        raise ImapFailure(
            f"Lost the server while trying to {doing} ({type(error).__name__})."
        ) from None


def _check(status: str, doing: str) -> None:
    if status != "OK":
        raise ImapFailure(f"The server would not {doing} ({status}).")


def _close(connection: imaplib.IMAP4) -> None:
    with suppress(OSError, imaplib.IMAP4.error):
        connection.logout()
