"""Conversations through the API channel: masking and sealing, statuses and metric events,
priority, merges, domain events and realtime pushes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from rapport.core.clock import set_clock
from rapport.core.crypto import DecryptionError, keyring
from rapport.core.db import Database
from rapport.core.outbox import DomainEvent
from rapport.core.realtime import get_hub
from rapport.customers.service import customers
from rapport.identity.models import Workspace
from rapport.support.models import Message, MetricEvent
from tests.fixtures.customers import make_customer
from tests.fixtures.identity import bearer, make_api_key, make_workspace

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CARD = "4111 1111 1111 1111"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START
        set_clock(lambda: self.now)

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


async def _api(database: Database) -> tuple[Workspace, dict[str, str]]:
    workspace = await make_workspace(database)
    return workspace, bearer(await make_api_key(database, workspace))


async def _open(
    client: httpx.AsyncClient, headers: dict[str, str], text: str, **extra: object
) -> str:
    body = {"message": {"kind": "customer", "body": text}, **extra}
    response = await client.post("/api/v1/conversations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _say(
    client: httpx.AsyncClient, headers: dict[str, str], cid: str, kind: str, text: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/conversations/{cid}/messages", json={"kind": kind, "body": text}, headers=headers
    )


async def _status(
    client: httpx.AsyncClient, headers: dict[str, str], cid: str, status: str
) -> None:
    response = await client.patch(
        f"/api/v1/conversations/{cid}", json={"status": status}, headers=headers
    )
    assert response.status_code == 200, response.text


async def _metrics(database: Database, cid: str) -> list[tuple[str, float | None]]:
    async with database.session() as session:
        rows = await session.execute(
            select(MetricEvent.kind, MetricEvent.seconds)
            .where(MetricEvent.conversation_id == cid)
            # By the test's clock, then kind: a reply's first_response and reply events may
            # get ids of the same millisecond, whose order is random (UUIDv7).
            .order_by(MetricEvent.created_at, MetricEvent.kind)
        )
        return [(str(kind), seconds) for kind, seconds in rows]


async def test_card_numbers_are_masked_and_bodies_sealed_to_their_row(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _api(database)
    cid = await _open(client, headers, f"My card {CARD} and order 1234567890123 failed")
    page = (await client.get(f"/api/v1/conversations/{cid}/messages", headers=headers)).json()
    assert page["items"][0]["body"] == "My card **** **** **** 1111 and order 1234567890123 failed"
    async with database.session() as session:
        [row] = (await session.execute(select(Message.id, Message.body))).all()
    assert b"1111" not in row.body and b"My card" not in row.body
    with pytest.raises(DecryptionError):
        keyring().decrypt(row.body, f"conversation_messages.body:{cid}")


async def test_a_link_is_stored_as_sent_even_when_its_id_holds_a_card_like_number(
    client: httpx.AsyncClient, database: Database
) -> None:
    # 4111111111111111 passes Luhn: a link carrying it (or a hex id around it) must still open.
    link = "https://shop.example/surveys/01a250b726ef7cc4111111111111111b?o=4111111111111111"
    _, headers = await _api(database)
    cid = await _open(client, headers, f"Card {CARD}, see {link}")
    page = (await client.get(f"/api/v1/conversations/{cid}/messages", headers=headers)).json()
    assert page["items"][0]["body"] == f"Card **** **** **** 1111, see {link}"


async def test_metric_events_first_response_replies_resolution_and_reopen(
    client: httpx.AsyncClient, database: Database
) -> None:
    clock = Clock()
    _, headers = await _api(database)
    cid = await _open(client, headers, "Where is my parcel?")
    clock.advance(60)
    assert (await _say(client, headers, cid, "reply", "Checking")).status_code == 201
    clock.advance(30)
    await _say(client, headers, cid, "customer", "Thanks, any news?")
    clock.advance(20)
    await _say(client, headers, cid, "note", "carrier says tomorrow")
    clock.advance(20)
    await _say(client, headers, cid, "reply", "Tomorrow")
    clock.advance(100)
    await _status(client, headers, cid, "resolved")
    clock.advance(500)
    await _say(client, headers, cid, "customer", "It did not come")
    conversation = (await client.get(f"/api/v1/conversations/{cid}", headers=headers)).json()
    assert conversation["status"] == "open"
    assert await _metrics(database, cid) == [
        ("first_response", 60.0),
        ("reply", 60.0),
        ("reply", 40.0),
        ("resolution", 230.0),
        ("reopen", None),
    ]


async def test_first_response_counts_from_the_assistants_hand_off(
    client: httpx.AsyncClient, database: Database
) -> None:
    clock = Clock()
    _, headers = await _api(database)
    cid = await _open(client, headers, "Hello", status="pending")
    clock.advance(300)
    await _status(client, headers, cid, "open")
    clock.advance(45)
    await _say(client, headers, cid, "reply", "Hi, I am Ana")
    assert await _metrics(database, cid) == [
        ("handoff", 300.0),
        ("first_response", 45.0),
        ("reply", 45.0),
    ]


async def test_snooze_needs_a_future_time_and_a_customer_message_wakes_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    Clock()
    _, headers = await _api(database)
    cid = await _open(client, headers, "Hello")
    path = f"/api/v1/conversations/{cid}"
    past = await client.patch(
        path, json={"status": "snoozed", "snoozed_until": "2020-01-01T00:00:00Z"}, headers=headers
    )
    assert (past.status_code, past.json()["error"]) == (422, "InvalidSnooze")
    later = (START + timedelta(hours=2)).isoformat()
    snoozed = await client.patch(
        path, json={"status": "snoozed", "snoozed_until": later}, headers=headers
    )
    assert (snoozed.json()["status"], snoozed.json()["snoozed_until"]) == (
        "snoozed",
        "2026-12-02T11:00:00Z",
    )
    await _say(client, headers, cid, "customer", "Still there?")
    woken = (await client.get(path, headers=headers)).json()
    assert (woken["status"], woken["snoozed_until"]) == ("open", None)


async def test_priority_is_scored_with_its_reason_and_can_be_overridden(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _api(database)
    cid = await _open(client, headers, "The item arrived damaged")
    path = f"/api/v1/conversations/{cid}"
    first = (await client.get(path, headers=headers)).json()
    assert (first["priority"], first["priority_reason"]) == ("high", "keywords: damaged")
    await _say(client, headers, cid, "customer", "This is urgent: refund me")
    second = (await client.get(path, headers=headers)).json()
    assert (second["priority"], second["priority_reason"]) == (
        "urgent",
        "keywords: urgent, refund",
    )
    changed = (await client.patch(path, json={"priority": "low"}, headers=headers)).json()
    assert (changed["priority"], changed["priority_overridden"]) == ("low", True)
    assert changed["priority_reason"].startswith("set by api_key:")
    await _say(client, headers, cid, "customer", "Fraud, asap!")
    assert (await client.get(path, headers=headers)).json()["priority"] == "low"
    # Each change after the creation is in the history, with who made it.
    history = (await client.get(f"{path}/history", headers=headers)).json()
    changes = [(entry["actor"], entry["data"]) for entry in history if entry["kind"] == "priority"]
    assert changes[0] == ("system:priority", {"to": "urgent"})
    assert changes[1][0].startswith("api_key:") and changes[1][1] == {"to": "low"}


async def test_a_valued_customer_of_the_360_raises_the_priority(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, headers = await _api(database)
    customer = await make_customer(database, workspace.id)
    async with database.session() as session:
        await customers.set_computed(
            session, workspace.id, customer, orders_count=12, revenue=Decimal("1500"),
            last_order_at=None,
        )  # fmt: skip
    cid = await _open(client, headers, "Hello there", customer_id=customer)
    found = (await client.get(f"/api/v1/conversations/{cid}", headers=headers)).json()
    assert (found["priority"], found["priority_reason"], found["customer_id"]) == (
        "high",
        "valued customer: 12 orders",
        customer,
    )
    # It starts at that priority: no change to log or publish.
    history = (await client.get(f"/api/v1/conversations/{cid}/history", headers=headers)).json()
    assert [entry["kind"] for entry in history] == ["created"]
    events = await _events_of(database, cid)
    assert [event.name for event in events] == ["conversation.created", "message.created"]


async def _events_of(database: Database, conversation_id: str) -> list[DomainEvent]:
    """Return the domain events published about a conversation, oldest first."""
    async with database.session() as session:
        events = (await session.execute(select(DomainEvent).order_by(DomainEvent.id))).scalars()
        return [e for e in events if e.data.get("conversation_id") == conversation_id]


async def test_a_priority_change_is_published_once_with_the_previous_one(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _api(database)
    cid = await _open(client, headers, "Hello")
    path = f"/api/v1/conversations/{cid}"
    await _say(client, headers, cid, "customer", "This is urgent")  # scoring raises it
    for priority in ("urgent", "low"):  # the same by hand (scoring stops), then another
        answer = await client.patch(path, json={"priority": priority}, headers=headers)
        assert answer.status_code == 200, answer.text
    changes = [
        (e.data["previous"], e.data["priority"])
        for e in await _events_of(database, cid)
        if e.name == "conversation.priority_changed"
    ]
    assert changes == [("normal", "urgent"), ("urgent", "low")]
    history = (await client.get(f"{path}/history", headers=headers)).json()
    logged = [(entry["actor"].split(":")[0], entry["data"]["to"]) for entry in history
              if entry["kind"] == "priority"]  # fmt: skip
    # The scoring's raise, the same priority set by hand (it stops the scoring), the change.
    assert logged == [("system", "urgent"), ("api_key", "urgent"), ("api_key", "low")]


async def test_merge_keeps_messages_tags_and_history_on_the_survivor(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _api(database)
    survivor = await _open(client, headers, "First", tags=["vip"])
    merged = await _open(client, headers, "Second", tags=["returns", "vip"])
    done = await client.post(
        f"/api/v1/conversations/{merged}/merge-into/{survivor}", headers=headers
    )
    assert (done.status_code, done.json()["tags"]) == (200, ["vip", "returns"])
    messages = (
        await client.get(f"/api/v1/conversations/{survivor}/messages", headers=headers)
    ).json()
    assert [m["body"] for m in messages["items"]] == ["First", "Second"]
    history = (
        await client.get(f"/api/v1/conversations/{survivor}/history", headers=headers)
    ).json()
    assert [h["kind"] for h in history] == ["created", "created", "merged"]
    gone = (await client.get(f"/api/v1/conversations/{merged}", headers=headers)).json()
    assert (gone["merged_into_id"], gone["status"]) == (survivor, "closed")
    again = await _say(client, headers, merged, "reply", "Hi")
    assert (again.status_code, again.json()["error"]) == (409, "ConversationMerged")
    listed = (await client.get("/api/v1/conversations", headers=headers)).json()
    assert [item["id"] for item in listed["items"]] == [survivor]


async def test_list_filters_and_pages_by_keyset(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _api(database)
    ids = [await _open(client, headers, f"Question {n}") for n in range(3)]
    await _status(client, headers, ids[1], "resolved")
    first = (await client.get("/api/v1/conversations", params={"limit": 2}, headers=headers)).json()
    second = (
        await client.get(
            "/api/v1/conversations",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=headers,
        )
    ).json()
    assert [i["id"] for i in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    resolved = (
        await client.get("/api/v1/conversations", params={"status": "resolved"}, headers=headers)
    ).json()
    assert [i["id"] for i in resolved["items"]] == [ids[1]]
    forged = await client.get("/api/v1/conversations", params={"cursor": "abc"}, headers=headers)
    assert forged.json() == {"error": "BadRequest", "detail": "cursor is not valid"}


async def test_domain_events_are_recorded_and_pushes_follow_the_commit(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, headers = await _api(database)
    async with get_hub().open(workspace.id, "conversations") as subscription:
        cid = await _open(client, headers, "Hello")
        await _status(client, headers, cid, "resolved")
        pushed = [
            subscription.queue.get_nowait()["type"] for _ in range(subscription.queue.qsize())
        ]
    assert pushed == ["conversation.created", "message.created", "conversation.status_changed"]
    async with database.session() as session:
        rows = await session.execute(
            select(DomainEvent.name, DomainEvent.data)
            .where(DomainEvent.workspace_id == workspace.id)
            .order_by(DomainEvent.id)
        )
        events = [(name, data.get("status")) for name, data in rows]
    assert events == [
        ("conversation.created", None),
        ("message.created", None),
        ("conversation.status_changed", "resolved"),
    ]
