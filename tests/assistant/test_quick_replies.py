"""Quick replies through the real widget WebSocket and HTTP: the assistant's confirmation
question carries Yes / No, no other message does, and the answer (typed or tapped, the same
words) is what confirms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rapport.app import create_app
from rapport.assistant import replies
from rapport.assistant.demo import DEMO_CUSTOMER_EMAIL, seed_demo
from rapport.config import Settings
from rapport.identity.models import Source
from rapport.worker.runner import Worker
from tests.fixtures.identity import make_source, make_workspace

YES_NO = [{"label": "Yes", "text": "yes"}, {"label": "No", "text": "no"}]


@pytest.fixture
def test_client(settings: Settings) -> Iterator[TestClient]:
    """A client that runs the app on its own event loop (the fake models label)."""
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client


def _demo_shop(client: TestClient) -> Source:
    async def setup() -> Source:
        database = client.app.state.database  # type: ignore[attr-defined]
        source = await make_source(database, await make_workspace(database, "demo"))
        async with database.session() as session:
            await seed_demo(session, source.workspace_id)
        return source

    assert client.portal is not None
    return client.portal.call(setup)


def _ask(client: TestClient, websocket: Any, number: int, text: str) -> dict[str, Any]:
    """Send a message, let the worker run, return the assistant's answer frame's message."""
    websocket.send_json({"type": "message", "client_id": f"client-{number:04d}", "body": text})
    while websocket.receive_json()["type"] != "ack":
        pass

    async def drain() -> None:
        await Worker(client.app.state.database, concurrency=1).run_pending()  # type: ignore[attr-defined]

    assert client.portal is not None
    client.portal.call(drain)
    while True:
        frame: dict[str, Any] = websocket.receive_json()
        if frame["type"] == "message" and frame["message"]["author_type"] == "assistant":
            return dict(frame["message"])


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_only_the_confirmation_question_offers_yes_and_no(
    test_client: TestClient, answer: str
) -> None:
    source = _demo_shop(test_client)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        ready = websocket.receive_json()
        assert ready["type"] == "ready"
        asked = _ask(test_client, websocket, 1, "Please cancel order 1002")
        assert asked["quick_replies"] == []  # asking for the email: no buttons
        question = _ask(test_client, websocket, 2, DEMO_CUSTOMER_EMAIL)
        assert question["body"].startswith("Shall I cancel order 1002")
        assert question["quick_replies"] == YES_NO
        done = _ask(test_client, websocket, 3, answer)
        assert done["quick_replies"] == []
        if answer == "yes":
            assert done["body"] == "Order 1002 is cancelled. Anything else I can help with?"
        else:
            assert done["body"] == replies.ENGLISH.declined
    # Read again over HTTP: the answered question offers nothing any more.
    token = ready["visitor_token"]
    listed = test_client.get(
        "/widget/messages?after=0", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert [item["quick_replies"] for item in listed["items"]] == [[]] * 6
