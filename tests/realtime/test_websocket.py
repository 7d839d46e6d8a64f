"""The console WebSocket: signed-in staff receive their workspace's messages, nobody else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from rapport.app import create_app
from rapport.config import Settings
from rapport.core.realtime import get_hub
from rapport.identity.sessions import sign_ins
from rapport.web import realtime
from tests.fixtures.identity import make_staff, make_workspace


@pytest.fixture
def test_client(settings: Settings) -> Iterator[TestClient]:
    """A client that runs the app (and its own database pool) on its own event loop."""
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client


def _signed_in_cookie(client: TestClient) -> tuple[str, str]:
    """Create a workspace and owner, sign in; return (workspace id, session cookie)."""

    async def setup() -> tuple[str, str]:
        database = client.app.state.database  # type: ignore[attr-defined]
        workspace = await make_workspace(database)
        account = await make_staff(database, workspace)
        signed_in = await sign_ins.sign_in(
            database, email=account.email, password=account.password, ip_address=None
        )
        return workspace.id, signed_in.token

    assert client.portal is not None
    return client.portal.call(setup)


def test_subscriber_receives_its_workspace_topic(test_client: TestClient) -> None:
    workspace_id, token = _signed_in_cookie(test_client)
    headers = {"cookie": f"rapport_session={token}"}
    with test_client.websocket_connect("/ws?topic=inbox", headers=headers) as websocket:
        assert test_client.portal is not None
        test_client.portal.call(get_hub().publish, "other-workspace", "inbox", {"n": 0})
        test_client.portal.call(get_hub().publish, workspace_id, "other-topic", {"n": 1})
        test_client.portal.call(get_hub().publish, workspace_id, "inbox", {"n": 2})
        assert websocket.receive_json() == {"n": 2}


def test_connection_without_session_is_refused(test_client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        test_client.websocket_connect("/ws?topic=inbox") as websocket,
    ):
        websocket.receive_json()
    assert refused.value.code == 1008


def test_cross_site_origin_is_refused(test_client: TestClient) -> None:
    _, token = _signed_in_cookie(test_client)
    headers = {"cookie": f"rapport_session={token}", "origin": "https://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        test_client.websocket_connect("/ws?topic=inbox", headers=headers) as websocket,
    ):
        websocket.receive_json()
    assert refused.value.code == 1008


def test_the_stream_ends_once_the_session_is_signed_out(
    test_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(realtime, "RECHECK_SECONDS", 0.05)
    _, token = _signed_in_cookie(test_client)
    headers = {"cookie": f"rapport_session={token}"}

    async def sign_out() -> None:
        async with test_client.app.state.database.session() as session:  # type: ignore[attr-defined]
            await sign_ins.sign_out(session, token)

    with (
        pytest.raises(WebSocketDisconnect) as ended,
        test_client.websocket_connect("/ws?topic=inbox", headers=headers) as websocket,
    ):
        assert test_client.portal is not None
        test_client.portal.call(sign_out)
        websocket.receive_json()
    assert ended.value.code == 1008
