"""The RapportError tree: every expected failure carries its HTTP status and one body shape."""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel, Field


class RapportError(Exception):
    """A business-rule failure rendered as `{"error": <class name>, "detail": message}`."""

    status_code = 400
    # An outcome whose record must persist although the request fails: the unit of work
    # commits instead of rolling back. Only errors raised after recording a security fact
    # set it (a throttled attempt, a wrong MFA code, a session revoked for idling, a console
    # redirect after a session touch); prefer recording in a unit of work of its own and
    # raising after it, as sign-in does.
    keeps_changes = False

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code

    @property
    def code(self) -> str:
        """Name the error for clients."""
        return type(self).__name__

    def headers(self) -> dict[str, str]:
        """Return extra response headers for this error."""
        return {}


class BadRequest(RapportError):
    """The request is well-formed but a value in it cannot be used."""

    status_code = 400


class Unauthorized(RapportError):
    """The caller is not authenticated."""

    status_code = 401


class Forbidden(RapportError):
    """The caller may not do this."""

    status_code = 403


class NotFound(RapportError):
    """Nothing with that id in the caller's workspace."""

    status_code = 404


class Conflict(RapportError):
    """The change conflicts with the current state."""

    status_code = 409


class PayloadTooLarge(RapportError):
    """The body is larger than this operation accepts."""

    status_code = 413


class UnprocessableContent(RapportError):
    """A value is well-typed but not acceptable."""

    status_code = 422


class TooManyRequests(RapportError):
    """Too many requests; retry after `Retry-After` seconds."""

    status_code = 429

    def __init__(self, message: str, retry_after_seconds: int = 60) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        """Tell the client when to try again."""
        return {"Retry-After": str(self.retry_after_seconds)}


class CsrfFailed(Forbidden):
    """A state-changing browser request came without a valid CSRF token."""


class Problem(BaseModel):
    """One invalid part of a request."""

    location: list[str] = Field(
        description="Where: `body`, `query`, `path` or `header`, then the field names."
    )
    message: str = Field(description="What is wrong with it.")


class ErrorBody(BaseModel):
    """The JSON body of every error answer."""

    error: str = Field(description="Stable name of the error, e.g. `StaffNotFound`.")
    detail: str = Field(description="What went wrong, in words for people.")
    problems: list[Problem] | None = Field(
        default=None, description="Each invalid part of the request (`ValidationError` only)."
    )


def describe_error(code: str, meaning: str) -> str:
    """Return the line that documents one error code in an OpenAPI response description."""
    return f"- `{code}`: {meaning}"


def error_responses(*errors: type[RapportError]) -> dict[int | str, dict[str, Any]]:
    """Document the statuses these errors answer, for a route's `responses=` argument."""
    lines: dict[int, list[str]] = {}
    for error in errors:
        meaning = (inspect.getdoc(error) or "").split("\n")[0]
        lines.setdefault(error.status_code, []).append(describe_error(error.__name__, meaning))
    return {
        status: {"model": ErrorBody, "description": "\n".join(described)}
        for status, described in sorted(lines.items())
    }
