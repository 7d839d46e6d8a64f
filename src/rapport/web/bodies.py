"""Request bodies are read whole, capped and on a deadline, before any route runs.

Nothing downstream (an authentication lookup, a unit of work, a pooled connection) may wait
on a client's network: a client that sends slowly holds only its own coroutine here. A body
past its route's cap is refused as soon as it passes it, and the REST API refuses a body
that comes without any credential before reading a byte of it."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rapport.web.errors import error_body

KB = 1024
# Set on the request's scope when the client hung up before its body arrived.
CLIENT_GONE = "rapport.client_gone"
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


class _OverBudget(Exception):
    pass


class _Disconnected(Exception):
    pass


class BodyBudget:
    """The bytes of request bodies this process holds at once (while they arrive and while
    their routes run), and the bodies each client address sends at once: whatever many
    slow clients do, memory stays under `total_bytes`."""

    def __init__(self, total_bytes: int, reads_per_address: int) -> None:
        self.total_bytes = total_bytes
        self.reads_per_address = reads_per_address
        self.held = 0
        self.reading: Counter[str] = Counter()

    def hold(self, size: int) -> None:
        """Hold `size` more bytes, or refuse when the budget would be exceeded."""
        if self.held + size > self.total_bytes:
            raise _OverBudget()
        self.held += size

    def free(self, size: int) -> None:
        """Give back bytes held for a body."""
        self.held -= size


class BodyMiddleware:
    """Read each request's body before the route runs, within its cap, its deadline and
    the process's body budget."""

    def __init__(
        self, app: ASGIApp, *, budget_bytes: int = 64 * 1024 * KB, reads_per_address: int = 16
    ) -> None:
        self.app = app
        self.budget = BodyBudget(budget_bytes, reads_per_address)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        rule = rule_for(scope["path"])
        refusal = _refuse_early(scope, rule) or self._refuse_busy_address(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        held = [0]
        try:
            body = await self._read(scope, receive, rule, held)
            if body is not None:
                await self.app(scope, _replay(body, receive), send)
            else:
                await (self._answer_failed_read(scope, rule) or _nothing)(scope, receive, send)
        finally:
            self.budget.free(held[0])

    def _refuse_busy_address(self, scope: Scope) -> JSONResponse | None:
        if self.budget.reading[_address(scope)] < self.budget.reads_per_address:
            return None
        detail = "Too many requests from this address are sending bodies at once."
        refusal = JSONResponse(error_body("TooManyRequests", detail), status_code=429)
        refusal.headers["retry-after"] = "1"
        return refusal

    async def _read(
        self, scope: Scope, receive: Receive, rule: BodyRule, held: list[int]
    ) -> bytes | None:
        address = _address(scope)
        self.budget.reading[address] += 1
        try:
            reading = _read(receive, rule.limit, self.budget, held)
            return await asyncio.wait_for(reading, BODY_SECONDS)
        except (_TooLarge, _OverBudget, TimeoutError, _Disconnected) as failure:
            scope[_FAILURE] = failure
            return None
        finally:
            self.budget.reading[address] -= 1
            if not self.budget.reading[address]:
                del self.budget.reading[address]

    def _answer_failed_read(self, scope: Scope, rule: BodyRule) -> JSONResponse | None:
        failure = scope.pop(_FAILURE)
        if isinstance(failure, _TooLarge):
            return rule.refusal()
        if isinstance(failure, _OverBudget):
            detail = "The server is receiving too much at once; retry in a moment."
            busy = JSONResponse(error_body("ServerBusy", detail), status_code=503)
            busy.headers["retry-after"] = "1"
            return busy
        if isinstance(failure, TimeoutError):
            detail = f"The request body did not arrive within {BODY_SECONDS:.0f} seconds."
            return JSONResponse(error_body("RequestTimeout", detail), status_code=408)
        scope[CLIENT_GONE] = True  # logged as 499, not as a failure of ours
        return None


_FAILURE = "rapport.body_failure"


async def _nothing(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer nobody: the client has gone."""


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


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


async def _read(receive: Receive, limit: int, budget: BodyBudget, held: list[int]) -> bytes:
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
        budget.hold(len(chunk))
        held[0] += len(chunk)
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
