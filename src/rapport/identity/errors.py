"""Identity errors, each with its HTTP status."""

from __future__ import annotations

from rapport.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RapportError,
    TooManyRequests,
    Unauthorized,
    UnprocessableContent,
)

INVALID_CREDENTIALS = "Invalid email or password."
TOO_MANY_ATTEMPTS = "Too many sign-in attempts. Wait a few minutes and try again."


class InvalidCredentials(Unauthorized):
    """Unknown user, wrong password: one answer for both (raised after the failure was
    recorded in a unit of work of its own, so it keeps nothing)."""

    def __init__(self) -> None:
        super().__init__(INVALID_CREDENTIALS)


class SignInThrottled(TooManyRequests):
    """Too many failures for this account or address (also what a locked account sees)."""

    keeps_changes = True  # the throttled attempt is audited

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(TOO_MANY_ATTEMPTS, retry_after_seconds)


class NotSignedIn(Unauthorized):
    """No valid session or API key came with the request."""

    keeps_changes = True  # a session found idle is revoked on the way out

    def __init__(self, message: str = "Sign in or send an API key.") -> None:
        super().__init__(message)


class InvalidMfaCode(Unauthorized):
    """The one-time code or recovery code is wrong or was already used."""

    keeps_changes = True  # the failure is counted and audited

    def __init__(self) -> None:
        super().__init__("That code is not valid. Codes can be used only once.")


class MissingScope(Forbidden):
    """The caller lacks a scope the operation needs."""


class WorkspaceNotFound(NotFound):
    """No workspace with that slug or id (or not one of yours)."""


class SlugTaken(Conflict):
    """Another workspace already uses this slug."""


class AlreadyMember(Conflict):
    """The person already belongs to this workspace."""


class StaffNotFound(NotFound):
    """No such staff member in this workspace."""


class LastOwner(Conflict):
    """A workspace must keep at least one owner."""


class ApiKeyNotFound(NotFound):
    """No such API key in this workspace."""


class SourceNotFound(NotFound):
    """No such event source in this workspace."""


class InvalidWebhookSecret(UnprocessableContent):
    """A pasted webhook signing secret is too short, too long or not printable."""


class InvitationNotFound(NotFound):
    """No such invitation in this workspace, or no invitation behind a link's token."""


class InvitationUnavailable(RapportError):
    """The invitation was accepted, declined, revoked or has expired: its link is spent."""

    status_code = 410


class InvitationForAnotherAccount(Forbidden):
    """The signed-in account is not the one the invitation was sent to."""
