"""Quick replies under attack: another visitor can neither read a conversation's Yes / No nor
confirm its pending action, and a replayed "yes" (same client id) confirms nothing twice."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from rapport.assistant.demo import DEMO_CUSTOMER_EMAIL
from rapport.support.enums import ConversationStatus
from rapport.support.schemas import ConversationUpdate
from rapport.support.service import conversations
from tests.assistant.test_quick_replies import YES_NO, _ask, _demo_shop, test_client
from tests.fixtures.support import SYSTEM_ACTING

__all__ = ["test_client"]  # the fixture, shared


def _visitor(client: TestClient, write_key: str) -> str:
    started = client.post("/widget/sessions", json={"write_key": write_key})
    assert started.status_code in (200, 201), started.text
    return str(started.json()["visitor_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_another_visitor_cannot_read_or_answer_the_confirmation(
    test_client: TestClient,
) -> None:
    source = _demo_shop(test_client)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        ready = websocket.receive_json()
        _ask(test_client, websocket, 1, "Please cancel order 1002")
        question: dict[str, Any] = _ask(test_client, websocket, 2, DEMO_CUSTOMER_EMAIL)
        assert question["quick_replies"] == YES_NO
        conversation_id = question["conversation_id"]
        intruder = _bearer(_visitor(test_client, source.write_key))
        read = test_client.get(
            f"/widget/messages?after=0&conversation_id={conversation_id}", headers=intruder
        )
        assert read.status_code == 404
        assert "quick_replies" not in read.text and "Shall I cancel" not in read.text
        forged = test_client.post(
            "/widget/messages",
            json={"conversation_id": conversation_id, "client_id": "forged-0001", "body": "yes"},
            headers=intruder,
        )
        assert forged.status_code == 404
        # The owner's question still waits for its answer: nothing was confirmed.
        owner = _bearer(ready["visitor_token"])
        listed = test_client.get("/widget/messages?after=0", headers=owner).json()
        assert listed["items"][-1]["quick_replies"] == YES_NO
        # The owner's "yes" confirms once; the same client id again is a duplicate.
        done = _ask(test_client, websocket, 3, "yes")
        assert done["body"] == "Order 1002 is cancelled. Anything else I can help with?"
        again = test_client.post(
            "/widget/messages",
            json={"conversation_id": conversation_id, "client_id": "client-0003", "body": "yes"},
            headers=owner,
        )
        assert again.status_code == 200  # the one stored the first time
        after = test_client.get("/widget/messages?after=0", headers=owner).json()
        assert [item["body"] for item in after["items"]].count(done["body"]) == 1
        assert after["items"][-1]["quick_replies"] == []


def test_no_buttons_once_a_person_has_the_conversation(test_client: TestClient) -> None:
    """An agent opening the conversation takes it from the assistant: Yes / No would promise
    an action nobody will run."""
    source = _demo_shop(test_client)
    with test_client.websocket_connect("/widget/ws") as websocket:
        websocket.send_json({"type": "hello", "write_key": source.write_key})
        ready = websocket.receive_json()
        _ask(test_client, websocket, 1, "Please cancel order 1002")
        question = _ask(test_client, websocket, 2, DEMO_CUSTOMER_EMAIL)
        assert question["quick_replies"] == YES_NO

    async def take_over() -> None:
        database = test_client.app.state.database  # type: ignore[attr-defined]
        async with database.session() as session:
            await conversations.update(
                session, source.workspace_id, question["conversation_id"],
                ConversationUpdate(status=ConversationStatus.open), SYSTEM_ACTING,
            )  # fmt: skip

    assert test_client.portal is not None
    test_client.portal.call(take_over)
    owner = _bearer(ready["visitor_token"])
    listed = test_client.get("/widget/messages?after=0", headers=owner).json()
    assert listed["items"][-1]["body"] == question["body"]
    assert listed["items"][-1]["quick_replies"] == []
