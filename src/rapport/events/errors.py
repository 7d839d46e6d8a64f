"""Events errors, each with its HTTP status (the ingestion ones match Segment's)."""

from __future__ import annotations

from rapport.errors import BadRequest, NotFound, TooManyRequests, Unauthorized


class MalformedRequest(BadRequest):
    """The body is not a valid Segment call or batch."""


class BatchTooLarge(BadRequest):
    """The body or one of its calls exceeds Segment's size limits (Segment answers 400)."""


class InvalidWriteKey(Unauthorized):
    """No write key, an unknown one, or a disabled source."""

    def __init__(
        self, message: str = "Send a valid write key (Basic auth, empty password)."
    ) -> None:
        super().__init__(message)


class InvalidSignature(Unauthorized):
    """A shop webhook came without a valid HMAC signature."""


class OrderNotFound(NotFound):
    """No such order in this workspace."""


class ImportFileInvalid(BadRequest):
    """An import file lacks a column or holds an unreadable row."""


class IngestionThrottled(TooManyRequests):
    """A source sends faster than its limit, or an address keeps sending bad write keys.
    Segment's libraries retry a 429 after backing off, so nothing is lost."""
