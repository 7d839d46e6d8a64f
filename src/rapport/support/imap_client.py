"""One conversation with an IMAP server over the standard library's imaplib. Every call
blocks on the network: the poller runs each in a worker thread (asyncio.to_thread) and never
while it holds a database transaction."""

from __future__ import annotations

import imaplib
import io
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, Literal

from rapport.config import get_settings
from rapport.core import addresses
from rapport.core.addresses import IpAddress, allowed, host_refused, literal
from rapport.support.imap_schemas import ImapSecurity, MailboxAccess

# How long one read or write may wait.
TIMEOUT_SECONDS = 30.0
# How long one check of a mailbox may take in all, connecting included: a server that drips
# one byte at a time cannot hold the poller longer than this.
CHECK_SECONDS = 60.0
# Response lines one command may get (an endless stream of `* n EXISTS` is refused).
MAX_LINES = 10_000
# Larger messages are left in the mailbox, flagged (the webhook takes at most 1 MB; a
# mailbox may hold a message with attachments up to the attachment limit).
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
# What a literal (a message's bytes) may exceed the message limit by: the FETCH wrapping.
LITERAL_SLACK = 64 * 1024
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapFailure(Exception):
    """The mailbox could not be used; the message is fit to show the workspace's admins
    (never the password)."""


# Whether mailboxes may be on loopback and private addresses: the operator's
# RAPPORT_IMAP_ALLOW_PRIVATE_HOSTS, unless a test sets it.
host_policy = addresses.PrivatePolicy(lambda: get_settings().imap_allow_private_hosts)


def refused_host(host: str) -> str | None:
    """The reason a host can never be a mailbox (checked when settings are saved), or None."""
    return host_refused(host, host_policy.allow_private)


class Mailbox:
    """A signed-in connection with the polled folder selected."""

    def __init__(self, connection: imaplib.IMAP4) -> None:
        self._connection = connection

    @classmethod
    def open(cls, access: MailboxAccess, seconds: float | None = None) -> Mailbox:
        """Connect (to a checked address; TLS as configured, certificates checked), sign in,
        select the folder. Everything done on this connection must end within `seconds`
        (CHECK_SECONDS by default) or fails."""
        where = f"{access.host}:{access.port}"
        deadline = time.monotonic() + (CHECK_SECONDS if seconds is None else seconds)
        address = _checked_address(access)
        if access.security == ImapSecurity.plain and not ipaddress.ip_address(address).is_loopback:
            # Checked again here, not only when saved: no password in clear off this host.
            raise ImapFailure(f"plain IMAP (no TLS) to {where} is not on this host.")
        try:
            connection = _connect(access, address, deadline)
        except ImapFailure:
            raise
        except (OSError, imaplib.IMAP4.error, ValueError):
            # One message for every way a connection fails (refused, silent, not IMAP, TLS):
            # the admin who chose the host learns nothing about the ports behind it.
            raise ImapFailure(f"Could not connect to {where}.") from None
        try:
            connection.login(access.username, access.password)
        except imaplib.IMAP4.error:
            _close(connection)
            raise ImapFailure(f"{where} refused the user name or password.") from None
        except OSError as error:
            _close(connection)
            raise ImapFailure(f"{where} dropped the connection ({_why(error)}).") from None
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
        # A partial fetch: an honest server never sends more than the limit and one byte.
        with _talking("fetch a message"):
            wanted = f"(BODY.PEEK[]<0.{MAX_MESSAGE_BYTES + 1}>)"
            status, data = self._connection.uid("FETCH", str(uid), wanted)
        _check(status, "fetch a message")
        for part in data:
            if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
                raw = part[1]
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


def _checked_address(access: MailboxAccess) -> str:
    """Resolve the host once and return the address to connect to, every address it
    resolves to allowed (no second lookup when connecting: no DNS rebinding)."""
    allow_private = host_policy.allow_private
    named = literal(access.host)
    if named is not None:
        addresses: list[IpAddress | None] = [named]
    else:
        try:
            found = socket.getaddrinfo(
                access.host, access.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except (OSError, UnicodeError):
            raise ImapFailure(f"The host name {access.host} does not resolve.") from None
        addresses = [_address(info[4][0]) for info in found]
    checked = [address for address in addresses if address is not None]
    if (
        not checked
        or len(checked) < len(addresses)
        or not all(allowed(address, allow_private) for address in checked)
    ):
        raise ImapFailure(
            f"{access.host}: the address is not allowed (loopback and private addresses "
            "need the operator's RAPPORT_IMAP_ALLOW_PRIVATE_HOSTS; link-local never)."
        )
    return str(checked[0])


def _address(text: object) -> IpAddress | None:
    try:
        return ipaddress.ip_address(str(text).split("%", 1)[0])
    except ValueError:
        return None


class _DeadlineReader(io.RawIOBase):
    """The socket read by imaplib, each read waiting at most the read timeout and never past
    the connection's deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        _arm(self._sock, self._deadline)
        return self._sock.recv_into(buffer)


def _arm(sock: socket.socket, deadline: float) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the check took too long")
    sock.settimeout(min(TIMEOUT_SECONDS, left))


class _Guarded:
    """What both connection kinds add to imaplib: a checked address, a deadline on every
    read and write, a cap on literals and on the lines one command gets."""

    host: str
    port: int
    sock: socket.socket
    file: Any
    _address: str
    _deadline: float
    _lines: int

    def _guard(self) -> None:
        # Close imaplib's own file first: an open one keeps the socket from closing.
        previous, self.file = (
            self.file,
            io.BufferedReader(_DeadlineReader(self.sock, self._deadline)),
        )
        previous.close()

    def _open_socket(self, timeout: float | None) -> socket.socket:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the check took too long")
        return socket.create_connection(
            (self._address, self.port), min(timeout or TIMEOUT_SECONDS, left)
        )

    def _counted(self) -> None:
        self._lines += 1
        if self._lines > MAX_LINES:
            raise imaplib.IMAP4.abort("the server sent too many lines")


class _Imap(_Guarded, imaplib.IMAP4):
    def __init__(self, host: str, port: int, address: str, deadline: float) -> None:
        self._address, self._deadline, self._lines = address, deadline, 0
        imaplib.IMAP4.__init__(self, host, port, timeout=TIMEOUT_SECONDS)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return self._open_socket(timeout)

    def open(self, host: str = "", port: int = 143, timeout: float | None = None) -> None:
        super().open(host, port, timeout)
        self._guard()

    def starttls(self, ssl_context: Any = None) -> tuple[Literal["OK"], list[None]]:
        _arm(self.sock, self._deadline)
        answer = super().starttls(ssl_context)
        self._guard()
        return answer

    def _command(self, name: str, *args: Any) -> str:
        self._lines = 0
        return super()._command(name, *args)  # type: ignore[misc,no-any-return]

    def readline(self) -> bytes:
        self._counted()
        return super().readline()

    def read(self, size: int) -> bytes:
        _literal_allowed(size)
        return super().read(size)

    def send(self, data: Any) -> None:
        _arm(self.sock, self._deadline)
        super().send(data)


class _ImapSsl(_Guarded, imaplib.IMAP4_SSL):
    def __init__(
        self, host: str, port: int, address: str, deadline: float, context: ssl.SSLContext
    ) -> None:
        self._address, self._deadline, self._lines = address, deadline, 0
        imaplib.IMAP4_SSL.__init__(self, host, port, ssl_context=context, timeout=TIMEOUT_SECONDS)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        # The certificate is checked against the host name, not the address.
        sock = self._open_socket(timeout)
        wrapped: socket.socket = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        return wrapped

    def open(self, host: str = "", port: int | None = 993, timeout: float | None = None) -> None:
        super().open(host, port, timeout)
        self._guard()

    def _command(self, name: str, *args: Any) -> str:
        self._lines = 0
        return super()._command(name, *args)  # type: ignore[misc,no-any-return]

    def readline(self) -> bytes:
        self._counted()
        return super().readline()

    def read(self, size: int) -> bytes:
        _literal_allowed(size)
        return super().read(size)

    def send(self, data: Any) -> None:
        _arm(self.sock, self._deadline)
        super().send(data)


def _connect(access: MailboxAccess, address: str, deadline: float) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if access.security == ImapSecurity.imaps:
        return _ImapSsl(access.host, access.port, address, deadline, context)
    connection = _Imap(access.host, access.port, address, deadline)
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
        raise ImapFailure(f"Lost the server while trying to {doing} ({_why(error)}).") from None


def _why(error: BaseException) -> str:
    if isinstance(error, TimeoutError) and str(error) == "the check took too long":
        return "the check took too long"
    return type(error).__name__


def _check(status: str, doing: str) -> None:
    if status != "OK":
        raise ImapFailure(f"The server would not {doing} ({status}).")


def _close(connection: imaplib.IMAP4) -> None:
    with suppress(OSError, imaplib.IMAP4.error):
        connection.logout()
