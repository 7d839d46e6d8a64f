"""Pure-ASGI middleware: request ids, access logs, security headers."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rapport.core.foreground import begin
from rapport.core.ids import new_id
from rapport.core.logging import request_id_var
from rapport.web.bodies import CLIENT_GONE
from rapport.web.errors import internal_error_response

logger = logging.getLogger("rapport.http")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Path segments that are credentials (invitation tokens, write keys in webhook URLs): logs show
# where a request went, never the secret it carried.
_SECRET_IN_PATH = re.compile(r"^(/console/invitations/|/v1/webhooks/[^/]+/)[^/]+")


def loggable_path(path: str) -> str:
    """Return a request path with any credential it carries masked."""
    return _SECRET_IN_PATH.sub(r"\1***", path)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI at /docs: its bundle, stylesheet and starter script are same-origin files (npm's
# swagger-ui-dist, rapport.web.docs), so no CDN and no inline script.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


# nginx's code for a client that hung up before it was answered: not an error of ours.
CLIENT_CLOSED_REQUEST = 499


class HeadMiddleware:
    """Answer HEAD wherever GET is answered: the same status and headers, no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class ForegroundMiddleware:
    """Mark each HTTP request as live work while its route computes the answer (see
    `core.foreground`): innermost, so a body still arriving (read by BodyMiddleware first)
    does not count, and no longer once the answer starts, so a client reading it slowly
    does not either."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        end = begin()

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                end()
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            end()


class RequestContextMiddleware:
    """Give every request an id, log it once, and add security headers to every answer."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else new_id()
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500, "started": False}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
                message["headers"] = list(message.get("headers", [])) + self._headers(
                    scope["path"], request_id
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as error:
            # Answered here, not by Starlette's outermost handler, so the 500 keeps the
            # request id and the security headers and is logged while the id is still set.
            if status["started"]:
                raise
            await internal_error_response(error)(scope, receive, send_with_headers)
        finally:
            if not status["started"] and scope.get(CLIENT_GONE):
                status["code"] = CLIENT_CLOSED_REQUEST
            logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": loggable_path(scope["path"]),
                    "status": status["code"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            request_id_var.reset(token)

    def _headers(self, path: str, request_id: str) -> list[tuple[bytes, bytes]]:
        policy = (
            DOCS_CONTENT_SECURITY_POLICY if path in ("/docs", "/redoc") else CONTENT_SECURITY_POLICY
        )
        headers = [
            (b"x-request-id", request_id.encode()),
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if self.hsts:
            headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
        return headers
