"""Cross-origin access to /widget/*: shops embed the widget on their own sites."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WIDGET_PREFIX = "/widget/"
# No cookies ride along (credentials are the public write key and the visitor's token in a
# header), so any origin may call: an origin check would add nothing a non-browser cannot fake.
_ALLOW = [(b"access-control-allow-origin", b"*"), (b"vary", b"origin")]
_PREFLIGHT = [
    *_ALLOW,
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"authorization, content-type"),
    (b"access-control-max-age", b"600"),
]


class WidgetCorsMiddleware:
    """Answer preflights for /widget/* and let any origin read its answers, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(WIDGET_PREFIX):
            await self.app(scope, receive, send)
            return
        # Preflights get the app's own OPTIONS answer (204 with `Allow`) plus CORS headers.
        extra = _PREFLIGHT if scope["method"] == "OPTIONS" else _ALLOW

        async def send_allowed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_allowed)
