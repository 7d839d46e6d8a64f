"""The console's WebSocket: a signed-in staff member subscribes to topics of their workspace."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from rapport.config import Settings
from rapport.core.db import Database
from rapport.core.realtime import Subscription, get_hub
from rapport.errors import RapportError
from rapport.identity.auth import session_cookie_name, staff_principal
from rapport.identity.sessions import sign_ins

router = APIRouter()

POLICY_VIOLATION = 1008
TOPIC_MAX_LENGTH = 100
RECHECK_SECONDS = 60.0


@router.websocket("/ws")
async def realtime(websocket: WebSocket, topic: str) -> None:
    """Stream the messages published to `topic` in the caller's workspace."""
    settings: Settings = websocket.app.state.settings
    if not _same_origin(websocket, settings) or not 0 < len(topic) <= TOPIC_MAX_LENGTH:
        await websocket.close(code=POLICY_VIOLATION)
        return
    workspace_id = await _authenticate(websocket, settings)
    if workspace_id is None:
        await websocket.close(code=POLICY_VIOLATION)
        return
    # Subscribed before the handshake completes: a client that sees the socket open has
    # missed nothing published after that moment, from this process or (over Redis) another.
    async with get_hub().open(workspace_id, topic) as subscription:
        await websocket.accept()
        forward = asyncio.create_task(_forward(websocket, subscription, workspace_id))
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()  # the client only listens; this notices it left
        forward.cancel()


async def _forward(websocket: WebSocket, subscription: Subscription, workspace_id: str) -> None:
    """Send messages, re-checking the session every RECHECK_SECONDS: signing out, a revoked
    session or leaving the workspace ends the stream."""
    settings: Settings = websocket.app.state.settings
    while True:
        try:
            # A timeout scope, not wait_for: wait_for wraps every get in a task of its own,
            # which costs a task per push and delays the push by loop turns.
            async with asyncio.timeout(RECHECK_SECONDS):
                message = await subscription.queue.get()
        except TimeoutError:
            if await _authenticate(websocket, settings) != workspace_id:
                await websocket.close(code=POLICY_VIOLATION)
                return
            continue
        await websocket.send_json(message)


def _same_origin(websocket: WebSocket, settings: Settings) -> bool:
    """Refuse cross-site WebSocket hijacking: the Origin must be this server."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: no ambient cookie risk
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc in {host, urlsplit(settings.base_url).netloc}


async def _authenticate(websocket: WebSocket, settings: Settings) -> str | None:
    token = websocket.cookies.get(session_cookie_name(settings))
    if not token:
        return None
    database: Database = websocket.app.state.database
    try:
        async with database.session() as session:
            staff_session, user = await sign_ins.resolve(session, token)
            principal = await staff_principal(session, staff_session, user, None)
    except RapportError:
        return None
    return principal.workspace_id
