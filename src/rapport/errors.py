"""The RapportError tree: every expected failure carries its HTTP status."""

from __future__ import annotations


class RapportError(Exception):
    """A business-rule failure rendered as `{"error": <class name>, "detail": message}`."""

    status_code = 400
    # An outcome whose record must persist (a failed sign-in is counted and audited even
    # though the request fails); the unit of work commits instead of rolling back.
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
    status_code = 400


class Unauthorized(RapportError):
    status_code = 401


class Forbidden(RapportError):
    status_code = 403


class NotFound(RapportError):
    status_code = 404


class Conflict(RapportError):
    status_code = 409


class PayloadTooLarge(RapportError):
    status_code = 413


class UnprocessableContent(RapportError):
    status_code = 422


class TooManyRequests(RapportError):
    status_code = 429

    def __init__(self, message: str, retry_after_seconds: int = 60) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        """Tell the client when to try again."""
        return {"Retry-After": str(self.retry_after_seconds)}


class CsrfFailed(Forbidden):
    """A state-changing browser request came without a valid CSRF token."""
