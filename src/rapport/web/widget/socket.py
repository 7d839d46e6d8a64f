"""The widget's WebSocket: a visitor's messages in; their conversation's public messages,
agents' typing and read marks out. Every send is stored (and deduplicated) before it is
acknowledged, and what goes out is read from the database after the last seq sent, so a
reconnect that says where it stopped misses nothing and repeats nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import Field, ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from rapport.core.db import Database
from rapport.core.foreground import interactive
from rapport.core.realtime import RESYNC, Subscription, get_hub
from rapport.errors import RapportError
from rapport.feedback.inline import SURVEY_READY
from rapport.support.events import MESSAGE_CREATED
from rapport.support.notify import conversation_topic
from rapport.support.widget import owner_topic, widget
from rapport.support.widget_errors import WidgetThrottled
from rapport.support.widget_schemas import (
    Visitor,
    WidgetEmail,
    WidgetMessageCreate,
    WidgetRead,
    WidgetStart,
)
from rapport.web.widget.limits import WidgetLimits, limits_of

router = APIRouter()

HELLO_SECONDS = 10.0
MAX_FRAME_CHARACTERS = 16 * 1024
POLICY_VIOLATION = 1008
TOO_BIG = 1009
# Like HTTP's 429: the client reconnects after a pause.
TOO_MANY_FRAMES = 4429


class Hello(WidgetStart):
    conversation_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    after: int = Field(default=0, ge=0, le=2**31 - 1, description="Last seq the client saw.")


class Rejected(Exception):
    """The connection must end with this close code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@router.websocket("/widget/ws")
async def widget_socket(websocket: WebSocket) -> None:
    """Chat live with a visitor; the first frame is a `hello` (write key, visitor token,
    optional signed user id, and where the client stopped)."""
    await websocket.accept()
    try:
        connection = await _greet(websocket)
        await connection.run()
    except Rejected as rejected:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=rejected.code)
    except WebSocketDisconnect:
        return


async def _greet(websocket: WebSocket) -> Connection:
    try:
        frame = await asyncio.wait_for(_receive(websocket), HELLO_SECONDS)
    except TimeoutError as error:
        raise Rejected(POLICY_VIOLATION) from error
    connection = Connection(websocket)
    try:
        if frame.get("type") != "hello":
            raise RapportError("The first frame is a hello.")
        hello = Hello.model_validate(frame)
        connection.limits.address(_address(websocket))
        async with connection.database.session() as session:
            visitor, started = await widget.start(session, hello)
    except (RapportError, ValidationError) as error:
        await connection.error(error)
        raise Rejected(POLICY_VIOLATION) from error
    connection.visitor = visitor
    connection.conversation_id = started.conversation_id
    if hello.conversation_id == started.conversation_id:
        connection.sent_seq = hello.after
    await connection.send({"type": "ready", **started.model_dump(mode="json")})
    return connection


class Connection:
    """One visitor's live connection."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.database: Database = websocket.app.state.database
        self.limits: WidgetLimits = limits_of(websocket.app.state)
        self.visitor: Visitor | None = None
        self.conversation_id: str | None = None
        self.sent_seq = 0
        self._send_lock = asyncio.Lock()
        self._flush_lock = asyncio.Lock()
        self._following: asyncio.Task[None] | None = None

    @property
    def me(self) -> Visitor:
        """Return the greeted visitor."""
        if self.visitor is None:
            raise Rejected(POLICY_VIOLATION)
        return self.visitor

    async def run(self) -> None:
        """Follow the visitor's conversation and answer their frames until they leave."""
        me = self.me
        async with get_hub().open(me.workspace_id, owner_topic(me)) as owned:
            watcher = asyncio.create_task(self._owned(owned))
            if self.conversation_id is not None:
                self._follow(self.conversation_id)
            try:
                while True:
                    frame = await _receive(self.websocket)
                    with interactive():
                        await self._handle(frame)
            finally:
                for task in (watcher, self._following):
                    if task is not None:
                        task.cancel()

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame (one writer at a time)."""
        async with self._send_lock:
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await self.websocket.send_json(frame)

    async def error(self, error: Exception, **extra: Any) -> None:
        """Send an error frame shaped like the HTTP errors."""
        if isinstance(error, RapportError):
            frame = {"error": error.code, "detail": error.message, "status": error.status_code}
            if isinstance(error, WidgetThrottled):
                frame["retry_after"] = error.retry_after_seconds
        else:
            frame = {"error": "ValidationError", "detail": str(error)[:500], "status": 422}
        await self.send({"type": "error", **frame, **extra})

    async def flush(self) -> None:
        """Send every public message after the last one sent, in order."""
        async with self._flush_lock:
            while self.conversation_id is not None:
                async with self.database.session() as session:
                    page = await widget.messages(
                        session, self.me, self.conversation_id, self.sent_seq
                    )
                for item in page.items:
                    await self.send({"type": "message", "message": item.model_dump(mode="json")})
                    self.sent_seq = item.seq
                if not page.more:
                    return

    def _follow(self, conversation_id: str) -> None:
        if self._following is not None and conversation_id == self.conversation_id:
            return
        if self._following is not None:
            self._following.cancel()
        if conversation_id != self.conversation_id:
            self.sent_seq = 0
        self.conversation_id = conversation_id
        self._following = asyncio.create_task(self._conversation(conversation_id))

    async def _conversation(self, conversation_id: str) -> None:
        """Relay a conversation's pushes: new messages (read back from the database), agents'
        typing and read marks. Subscribed before the first catch-up, so nothing slips by."""
        topic = conversation_topic(conversation_id)
        async with get_hub().open(self.me.workspace_id, topic) as subscription:
            await self.flush()
            async for event in subscription:
                await self._relay(conversation_id, event)

    async def _relay(self, conversation_id: str, event: dict[str, Any]) -> None:
        """Pass one push on to the widget."""
        kind = event.get("type")
        if kind == RESYNC or (kind == MESSAGE_CREATED and not event.get("private")):
            await self.flush()
        elif kind == "typing" and event.get("author_type") != "customer":
            await self.send({"type": "typing", "author_type": event["author_type"]})
        elif kind == "conversation.read" and event.get("by") == "agent":
            await self.send({"type": "read", "by": "agent", "seq": event.get("seq")})
        elif kind == SURVEY_READY:
            await self.send({"type": "survey", "conversation_id": conversation_id})

    async def _owned(self, subscription: Subscription) -> None:
        """Follow a conversation the visitor opened elsewhere (another tab or device)."""
        async for event in subscription:
            if event.get("type") == "widget.conversation":
                self._follow(str(event["conversation_id"]))

    async def _handle(self, frame: dict[str, Any]) -> None:
        if not self.limits.frame(self.me.id):
            raise Rejected(TOO_MANY_FRAMES)
        kind = frame.get("type")
        handler = {
            "message": self._message,
            "typing": self._typing,
            "read": self._read,
            "email": self._email,
            "ping": self._ping,
        }.get(str(kind))
        if handler is None:
            await self.error(RapportError(f"Unknown frame type {str(kind)[:40]!r}."))
            return
        await handler(frame)

    async def _message(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
        try:
            body = WidgetMessageCreate.model_validate(frame)
            self.limits.message(self.me.id, _address(self.websocket))
            async with self.database.session() as session:
                sent = await widget.send(session, self.me, body)
        except (RapportError, ValidationError) as error:
            await self.error(error, client_id=client_id)
            return
        self._follow(sent.message.conversation_id)
        # One turn of the loop first: the pushes this message's commit queued (to every
        # console and the visitor's other tabs) leave before this socket's read-back.
        await asyncio.sleep(0)
        await self.flush()
        await self.send(
            {
                "type": "ack",
                "client_id": body.client_id,
                "conversation_id": sent.message.conversation_id,
                "seq": sent.message.seq,
                "duplicate": sent.duplicate,
            }
        )

    async def _typing(self, frame: dict[str, Any]) -> None:
        if self.conversation_id is not None:
            await get_hub().publish(
                self.me.workspace_id,
                conversation_topic(self.conversation_id),
                {
                    "type": "typing",
                    "author_type": "customer",
                    "conversation_id": self.conversation_id,
                },
            )

    async def _read(self, frame: dict[str, Any]) -> None:
        try:
            body = WidgetRead.model_validate(frame)
            async with self.database.session() as session:
                await widget.mark_read(session, self.me, body)
        except (RapportError, ValidationError) as error:
            await self.error(error)

    async def _email(self, frame: dict[str, Any]) -> None:
        try:
            body = WidgetEmail.model_validate(frame)
            self.limits.message(self.me.id, _address(self.websocket))
            async with self.database.session() as session:
                await widget.leave_email(session, self.me, str(body.email))
        except (RapportError, ValidationError) as error:
            await self.error(error)
            return
        await self.send({"type": "email.saved"})

    async def _ping(self, frame: dict[str, Any]) -> None:
        await self.send({"type": "pong"})


async def _receive(websocket: WebSocket) -> dict[str, Any]:
    """Return the next frame as a JSON object; end the connection on anything else."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None or len(text) > MAX_FRAME_CHARACTERS:
        raise Rejected(TOO_BIG if text is not None or message.get("bytes") else POLICY_VIOLATION)
    try:
        frame = json.loads(text)
    except ValueError as error:
        raise Rejected(POLICY_VIOLATION) from error
    if not isinstance(frame, dict):
        raise Rejected(POLICY_VIOLATION)
    return frame


def _address(websocket: WebSocket) -> str | None:
    return websocket.client.host if websocket.client else None
