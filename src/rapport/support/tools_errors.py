"""Agent tools' errors, each with its HTTP status."""

from __future__ import annotations

from rapport.errors import Conflict, Forbidden, NotFound, UnprocessableContent


class CannedResponseNotFound(NotFound):
    """No such canned response among those the caller may use."""


class MacroNotFound(NotFound):
    """No such macro among those the caller may use."""


class SavedViewNotFound(NotFound):
    """No such saved view among those the caller may use."""


class NameTaken(Conflict):
    """Another canned response (shortcut), macro or view (name) of the same owner has it."""


class UnknownVariable(UnprocessableContent):
    """A canned response names a variable Rapport does not fill."""


class InvalidMacro(UnprocessableContent):
    """A macro action refers to something it may not use."""


class NotYours(Forbidden):
    """Shared tools are changed by supervisors and up; personal ones by their owner only."""


class ConversationTaken(Conflict):
    """The conversation is assigned to someone else; a supervisor reassigns it."""
