"""The chat widget's WebSocket: live agent replies, acknowledged sends, resends after a
reconnect found not doubled, catch-up from the last seq, refusals and floods."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from rapport.app import create_app
from rapport.config import Settings
from rapport.identity.models import Source
from rapport.support.enums import MessageKind
from rapport.support.schemas import MessageCreate
from rapport.support.service import conversations
from rapport.web.widget import limits
from tests.fixtures.identity import make_source, make_workspace
from tests.fixtures.support import SYSTEM_ACTING


@pytest.fixture
def test_client(settings: Settings) -> Iterator[TestClient]:
    """A client that runs the app (and its own database pool) on its own event loop."""
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client


def _source(client: TestClient) -> Source:
    async def setup() -> Source:
        database = client.app.state.database  # type: ignore[attr-defined]
        return await make_source(database, await make_workspace(database))

    assert client.portal is not None
    return client.portal.call(setup)


def _reply(client: TestClient, workspace_id: str, conversation_id: str, text: str) -> None:
    async def reply() -> None:
        database = client.app.state.database  # type: ignore[attr-defined]
        async with database.session() as session:
            body = MessageCreate(kind=MessageKind.reply, body=text)
            await conversations.post(session, workspace_id, conversation_id, body, SYSTEM_ACTING)

    assert client.portal is not None
    client.portal.call(reply)


def _hello(source: Source, **fields: Any) -> dict[str, Any]:
    return {"type": "hello", "write_key": source.write_key, **fields}


def _until(websocket: Any, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = websocket.receive_json()
        if frame["type"] == kind:
            return frame


def test_a_visitor_sends_and_receives_an_agent_reply_live(test_client: TestClient) -> None:
    source = _source(test_client)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json(_hello(source))
        ready = _until(websocket, "ready")
        assert (ready["conversation_id"], ready["last_seq"]) == (None, 0)
        websocket.send_json({"type": "message", "client_id": "client-0001", "body": "Hello?"})
        mine = _until(websocket, "message")["message"]
        ack = _until(websocket, "ack")
        assert (mine["seq"], mine["body"], mine["client_id"]) == (1, "Hello?", "client-0001")
        assert (ack["seq"], ack["duplicate"]) == (1, False)
        _reply(test_client, source.workspace_id, mine["conversation_id"], "Hi, how can I help?")
        reply = _until(websocket, "message")["message"]
        assert (reply["seq"], reply["author_type"], reply["body"]) == (
            2, "agent", "Hi, how can I help?",
        )  # fmt: skip


def test_a_reconnect_catches_up_and_a_resend_is_not_doubled(test_client: TestClient) -> None:
    source = _source(test_client)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json(_hello(source))
        token = _until(websocket, "ready")["visitor_token"]
        websocket.send_json({"type": "message", "client_id": "client-0001", "body": "First"})
        conversation_id = _until(websocket, "ack")["conversation_id"]
    _reply(test_client, source.workspace_id, conversation_id, "Missed while away")
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json(
            _hello(source, visitor_token=token, conversation_id=conversation_id, after=1)
        )
        ready = _until(websocket, "ready")
        caught_up = _until(websocket, "message")["message"]
        websocket.send_json({"type": "message", "client_id": "client-0001", "body": "First"})
        ack = _until(websocket, "ack")
    assert (ready["conversation_id"], ready["last_seq"]) == (conversation_id, 2)
    assert (caught_up["seq"], caught_up["body"]) == (2, "Missed while away")
    assert (ack["seq"], ack["duplicate"]) == (1, True)


def test_a_bad_hello_is_refused(test_client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        test_client.websocket_connect("/widget/ws") as websocket,
    ):
        websocket.send_json({"type": "hello", "write_key": "wk_unknown"})
        error = websocket.receive_json()
        assert (error["type"], error["error"]) == ("error", "WidgetKeyInvalid")
        websocket.receive_json()
    assert refused.value.code == 1008


def test_an_oversized_frame_closes_the_connection(test_client: TestClient) -> None:
    source = _source(test_client)
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        test_client.websocket_connect("/widget/ws") as websocket,
    ):
        websocket.send_json(_hello(source))
        _until(websocket, "ready")
        websocket.send_text("x" * (16 * 1024 + 1))
        websocket.receive_json()
    assert refused.value.code == 1009


def test_a_message_flood_is_refused_with_429_frames(
    test_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MESSAGE_BURST", 2)
    source = _source(test_client)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json(_hello(source))
        _until(websocket, "ready")
        for number in range(3):
            websocket.send_json(
                {"type": "message", "client_id": f"client-{number:04}", "body": "x"}
            )
        _until(websocket, "ack")
        _until(websocket, "ack")
        error = _until(websocket, "error")
    assert (error["status"], error["error"], error["client_id"]) == (
        429, "WidgetThrottled", "client-0002",
    )  # fmt: skip
