"""Chat widget errors, each with its HTTP status (and WebSocket error frame)."""

from __future__ import annotations

from rapport.errors import Forbidden, TooManyRequests, Unauthorized


class WidgetKeyInvalid(Unauthorized):
    """The write key is unknown or its source is disabled."""


class VisitorNotRecognised(Unauthorized):
    """The visitor token is unknown; start a new widget session."""


class IdentityNotVerified(Forbidden):
    """The user id's signature (`user_hash`) is not the shop's HMAC of it."""


class WidgetThrottled(TooManyRequests):
    """Too many widget messages from this visitor or address; retry after `Retry-After`."""
