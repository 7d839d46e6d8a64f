"""Feedback errors, each with its HTTP status."""

from __future__ import annotations

from rapport.errors import Conflict, NotFound, RapportError, UnprocessableContent


class SurveyNotFound(NotFound):
    """No such survey in this workspace."""


class SurveyNameTaken(Conflict):
    """Another survey of this workspace already has that name."""


class UnknownSurveyKind(UnprocessableContent):
    """The kind is none of nps, csat, ces, rating, custom."""


class UnknownTimeZone(UnprocessableContent):
    """The time zone is not a known IANA name."""


class InvalidAnswer(UnprocessableContent):
    """An answer does not fit its question (a score out of range, an unknown choice)."""


class SurveyLinkInvalid(NotFound):
    """The survey link is unknown or its signature does not match."""


class SurveyLinkUsed(RapportError):
    """The survey was already answered through this link."""

    status_code = 410


class SurveyLinkExpired(RapportError):
    """The survey link is past its time."""

    status_code = 410


class ImportFileInvalid(UnprocessableContent):
    """A survey response file has a bad header or a bad row (named by its line)."""


class SurveyNotSent(Conflict):
    """The customer had a survey within the throttle, or no channel of the survey may reach
    them (no email address, no consent for a marketing survey)."""
