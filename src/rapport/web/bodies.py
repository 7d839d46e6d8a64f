"""Request bodies are read whole, capped and on a deadline, before any route runs.

Nothing downstream (an authentication lookup, a unit of work, a pooled connection) may wait
on a client's network: a client that sends slowly holds only its own coroutine here. A body
past its route's cap is refused as soon as it passes it, and the REST API refuses a body
that comes without any credential before reading a byte of it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rapport.web.errors import error_body

KB = 1024
# A phone on a poor connection sends 500 KB well within this; a client that trickles a
# body slower than that is holding a connection open, not uploading.
BODY_SECONDS = 30.0
# The REST API authenticates by one of these (an API key, or a console session cookie).
_CREDENTIAL_HEADERS = (b"authorization", b"cookie")


@dataclass(frozen=True)
class BodyRule:
    """The largest body a group of routes accepts, and how a larger one is refused."""

    prefix: str
    limit: int
    status: int = 413
    error: str = "PayloadTooLarge"
    needs_credentials: bool = False
    detail: str = ""

    def refusal(self) -> JSONResponse:
        """Return the answer to a body over the limit."""
        detail = self.detail or f"The request body may not exceed {self.limit // KB} KB."
        return JSONResponse(error_body(self.error, detail), status_code=self.status)


# First match wins. Segment's clients expect 400 for an oversized batch, as ingestion says.
BODY_RULES = (
    BodyRule("/v1/webhooks/", 1024 * KB),
    # A gzip body is never larger than what it inflates to, save a few header bytes.
    BodyRule(
        "/v1/",
        501 * KB,
        status=400,
        error="BatchTooLarge",
        detail="A batch may not exceed 500 KB.",
    ),
    BodyRule("/api/v1/", 1024 * KB, needs_credentials=True),
    BodyRule("/console/", 256 * KB),
    BodyRule("/", 64 * KB),
)


def rule_for(path: str) -> BodyRule:
    """Return the body rule of a path."""
    return next(rule for rule in BODY_RULES if path.startswith(rule.prefix))


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class BodyMiddleware:
    """Read each request's body before the route runs, within its cap and deadline."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        rule = rule_for(scope["path"])
        early = _refuse_early(scope, rule)
        if early is not None:
            await early(scope, receive, send)
            return
        try:
            body = await asyncio.wait_for(_read(receive, rule.limit), BODY_SECONDS)
        except _TooLarge:
            await rule.refusal()(scope, receive, send)
            return
        except TimeoutError:
            detail = f"The request body did not arrive within {BODY_SECONDS:.0f} seconds."
            timeout = JSONResponse(error_body("RequestTimeout", detail), status_code=408)
            await timeout(scope, receive, send)
            return
        except _Disconnected:
            return
        await self.app(scope, _replay(body, receive), send)


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


def _refuse_early(scope: Scope, rule: BodyRule) -> JSONResponse | None:
    """Refuse before reading: a declared length over the cap, or no credential at all."""
    headers = dict(scope["headers"])
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > rule.limit:
        return rule.refusal()
    if rule.needs_credentials and not any(name in headers for name in _CREDENTIAL_HEADERS):
        detail = "Sign in or send an API key."
        return JSONResponse(error_body("NotSignedIn", detail), status_code=401)
    return None


async def _read(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the route the body already read; after it, the client's own messages (so a
    route still hears the client hang up)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
