"""Customers errors, each with its HTTP status."""

from __future__ import annotations

from rapport.errors import BadRequest, Conflict, NotFound


class CustomerNotFound(NotFound):
    """No such customer profile in this workspace."""


class MergeNotFound(NotFound):
    """No such merge in this workspace."""


class MergeAlreadyUndone(Conflict):
    """The merge was already undone."""


class CannotMerge(Conflict):
    """The two profiles cannot be merged (same profile, or one already merged)."""


class UnknownPurpose(BadRequest):
    """The consent purpose is not one Rapport knows."""
