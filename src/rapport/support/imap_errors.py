"""IMAP mailbox errors, each with its HTTP status."""

from __future__ import annotations

from rapport.errors import NotFound, UnprocessableContent


class ImapMailboxNotConfigured(NotFound):
    """The workspace has connected no IMAP mailbox."""


class ImapPasswordRequired(UnprocessableContent):
    """A new mailbox (or a changed server or user) needs its password."""


class ImapHostRefused(UnprocessableContent):
    """The mailbox's host is an address the server never connects to (link-local,
    reserved), or a private one the operator has not allowed."""
