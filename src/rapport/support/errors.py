"""Support errors, each with its HTTP status."""

from __future__ import annotations

from rapport.errors import BadRequest, Conflict, NotFound, UnprocessableContent


class ConversationNotFound(NotFound):
    """No such conversation in this workspace, or not one the caller may see."""


class ConversationMerged(Conflict):
    """The conversation was merged into another; act on that one."""


class CannotMergeConversations(Conflict):
    """The two conversations cannot be merged (the same one, or one already merged)."""


class InvalidSnooze(UnprocessableContent):
    """Snoozing needs a `snoozed_until` in the future, and only snoozing takes one."""


class TeamNotFound(NotFound):
    """No such support team in this workspace."""


class TeamNameTaken(Conflict):
    """Another team of this workspace already has that name."""


class StaffNotInWorkspace(NotFound):
    """No such staff member in this workspace."""


class InvalidMention(UnprocessableContent):
    """Only notes mention staff, and only members of this workspace."""


class MalformedEmail(BadRequest):
    """The inbound email is not a whole MIME message with a sender."""


class InboundAddressNotFound(NotFound):
    """No workspace receives email at this address."""


class SlaPolicyNotFound(NotFound):
    """No such SLA policy in this workspace."""


class SlaPolicyNameTaken(Conflict):
    """Another SLA policy of this workspace already has that name."""
