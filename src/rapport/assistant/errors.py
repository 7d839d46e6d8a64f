"""Assistant errors, each with its HTTP status."""

from __future__ import annotations

from rapport.errors import Conflict, NotFound


class CustomIntentNotFound(NotFound):
    """No such custom intent in this workspace."""


class IntentNameTaken(Conflict):
    """Another custom intent of this workspace already has that name."""


class TooManyIntents(Conflict):
    """The workspace has as many custom intents as it may have."""
