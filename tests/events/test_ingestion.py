"""The Segment-compatible ingestion API: auth, limits, dedupe, partial failure, durability."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import orjson
from sqlalchemy import func, select

from rapport.config import Settings
from rapport.core.clock import set_clock
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.core.jobs import Job
from rapport.events.background import ingestion
from rapport.events.models import Event
from rapport.events.preparation import prepare
from rapport.events.rows import PROCESS_JOB_CALLS
from rapport.events.senders import Sender
from tests.fixtures.events import identify, track, write_key_auth
from tests.fixtures.identity import make_source, make_workspace

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


async def _source_headers(database: Database) -> tuple[str, dict[str, str]]:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    return workspace.id, write_key_auth(source.write_key)


async def _stored(database: Database) -> list[Event]:
    async with database.session() as session:
        return list((await session.execute(select(Event).order_by(Event.message_id))).scalars())


async def test_batch_is_stored_and_answers_success(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace_id, headers = await _source_headers(database)
    batch = [track("Product Viewed", messageId="m-1"), identify(userId="u-1", messageId="m-2")]
    response = await client.post("/v1/batch", json={"batch": batch}, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    stored = await _stored(database)
    assert [(e.message_id, e.type, e.name, e.workspace_id) for e in stored] == [
        ("m-1", "track", "Product Viewed", workspace_id),
        ("m-2", "identify", None, workspace_id),
    ]


async def test_resent_batch_is_stored_once(client: httpx.AsyncClient, database: Database) -> None:
    _, headers = await _source_headers(database)
    body = {
        "batch": [
            track("Order Completed", messageId="dup-1"),
            track("Cart Viewed", messageId="dup-2"),
        ]
    }
    for _ in range(3):
        assert (await client.post("/v1/batch", json=body, headers=headers)).status_code == 200
    assert [event.message_id for event in await _stored(database)] == ["dup-1", "dup-2"]


async def test_one_job_per_batch_in_the_same_transaction(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    batch = [track("Product Viewed") for _ in range(50)]
    await client.post("/v1/batch", json={"batch": batch}, headers=headers)
    async with database.session() as session:
        jobs = list(
            (await session.execute(select(Job).where(Job.name == "events.process_batch"))).scalars()
        )
    assert len(jobs) == 1
    assert len(jobs[0].payload["event_ids"]) == 50


async def test_a_group_commit_queues_a_job_for_each_500_calls_of_a_workspace(
    settings: Settings, database: Database
) -> None:
    # Many small requests committed together share a job: a job's fixed cost is most of what
    # processing a request of a few calls costs.
    configure_keyring(settings.secret_keys())
    first, second = await make_workspace(database), await make_workspace(database)
    dialect = "postgresql" if database.is_postgres else "sqlite"
    calls = [track("Product Viewed") for _ in range(PROCESS_JOB_CALLS + 160)]
    rows = prepare(orjson.dumps({"batch": calls}), "", None, NOW, dialect).rows
    ids = [row[0] for row in rows]
    requests = [
        (Sender(first.id, None, True), rows[:300]),
        (Sender(second.id, None, True), rows[300:310]),
        (Sender(first.id, None, True), rows[310:]),
    ]
    async with database.session() as session:
        await ingestion(settings).store(session, requests)
    async with database.session() as session:
        jobs = (
            await session.execute(
                select(Job).where(Job.name == "events.process_batch").order_by(Job.id)
            )
        ).scalars()
        queued = [(job.workspace_id, job.payload["event_ids"]) for job in jobs]
    mine = ids[:300] + ids[310:]
    assert queued == [
        (first.id, mine[:PROCESS_JOB_CALLS]),
        (first.id, mine[PROCESS_JOB_CALLS:]),
        (second.id, ids[300:310]),
    ]
    assert len(await _stored(database)) == len(calls)


async def test_gzip_body_is_accepted(client: httpx.AsyncClient, database: Database) -> None:
    _, headers = await _source_headers(database)
    body = gzip.compress(orjson.dumps({"batch": [track("Signed Up", messageId="gz-1")]}))
    response = await client.post(
        "/v1/batch",
        content=body,
        headers={**headers, "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert [event.message_id for event in await _stored(database)] == ["gz-1"]


async def test_gzip_bomb_is_400(client: httpx.AsyncClient, database: Database) -> None:
    _, headers = await _source_headers(database)
    body = gzip.compress(b'{"batch": [' + b" " * 600_000 + b"]}")
    response = await client.post(
        "/v1/batch", content=body, headers={**headers, "Content-Encoding": "gzip"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "BatchTooLarge",
        "detail": "The decompressed body exceeds 500 KB.",
    }


async def test_missing_write_key_is_401(client: httpx.AsyncClient, database: Database) -> None:
    await _source_headers(database)
    response = await client.post("/v1/batch", json={"batch": [track("A")]})
    assert response.status_code == 401
    assert response.json()["error"] == "InvalidWriteKey"
    assert await _stored(database) == []


async def test_unknown_write_key_is_401(client: httpx.AsyncClient, database: Database) -> None:
    response = await client.post(
        "/v1/batch", json={"batch": [track("A")]}, headers=write_key_auth("wk_nope")
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "InvalidWriteKey",
        "detail": "Unknown write key, or its source is disabled.",
    }


async def test_write_key_in_body_is_accepted(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    response = await client.post(
        "/v1/batch", json={"writeKey": source.write_key, "batch": [track("A", messageId="b-1")]}
    )
    assert response.status_code == 200
    assert [event.source_id for event in await _stored(database)] == [source.id]


async def test_invalid_json_is_400_naming_the_problem(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    response = await client.post("/v1/batch", content=b"{not json", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "MalformedRequest"
    assert response.json()["detail"].startswith("The body is not valid JSON")


async def test_bad_call_in_batch_is_rejected_good_ones_kept(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    batch = [
        track("Good", messageId="ok-1"),
        {"type": "track", "messageId": "bad-1", "userId": "u"},
        track("Good", messageId="ok-2"),
    ]
    response = await client.post("/v1/batch", json={"batch": batch}, headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "accepted": 2,
        "rejected": [
            {
                "index": 1,
                "messageId": "bad-1",
                "reason": "track calls need a non-empty `event` name",
            }
        ],
    }
    assert [event.message_id for event in await _stored(database)] == ["ok-1", "ok-2"]


async def test_batch_of_only_bad_calls_is_400(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    batch = [{"type": "track", "event": "A", "messageId": "x"}, {"type": "launch", "userId": "u"}]
    response = await client.post("/v1/batch", json={"batch": batch}, headers=headers)
    assert response.status_code == 400
    assert response.json()["rejected"] == [
        {"index": 0, "messageId": "x", "reason": "userId or anonymousId is required"},
        {
            "index": 1,
            "messageId": None,
            "reason": (
                "type must be one of identify, track, page, screen, group, alias, got 'launch'"
            ),
        },
    ]


async def test_more_than_2500_calls_is_400(client: httpx.AsyncClient, database: Database) -> None:
    _, headers = await _source_headers(database)
    batch = [{"type": "track", "event": "E", "userId": "u"}] * 2501
    response = await client.post("/v1/batch", json={"batch": batch}, headers=headers)
    assert response.status_code == 400
    assert response.json()["detail"] == "A batch may not hold more than 2500 calls."


async def test_batch_over_500_kb_is_400(client: httpx.AsyncClient, database: Database) -> None:
    _, headers = await _source_headers(database)
    batch = [track("E", properties={"blob": "x" * 20_000}) for _ in range(30)]
    response = await client.post("/v1/batch", json={"batch": batch}, headers=headers)
    assert response.status_code == 400
    assert response.json()["detail"] == "A batch may not exceed 500 KB."


async def test_call_over_32_kb_in_batch_is_rejected(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    batch = [
        track("Big", messageId="big", properties={"blob": "x" * 33_000}),
        track("Small", messageId="small"),
    ]
    response = await client.post("/v1/batch", json={"batch": batch}, headers=headers)
    assert response.json()["rejected"] == [
        {"index": 0, "messageId": "big", "reason": "a call may not exceed 32 KB"}
    ]
    assert [event.message_id for event in await _stored(database)] == ["small"]


async def test_single_call_over_32_kb_is_400(client: httpx.AsyncClient, database: Database) -> None:
    _, headers = await _source_headers(database)
    response = await client.post(
        "/v1/track", json=track("Big", properties={"blob": "x" * 33_000}), headers=headers
    )
    assert response.status_code == 400


async def test_single_endpoints_take_their_type_from_the_path(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    for path, body in [
        ("identify", {"userId": "u-1", "traits": {"plan": "gold"}, "messageId": "s-1"}),
        ("track", {"userId": "u-1", "event": "Signed In", "messageId": "s-2"}),
        ("page", {"anonymousId": "a-1", "name": "Home", "messageId": "s-3"}),
        ("screen", {"anonymousId": "a-1", "name": "Cart", "messageId": "s-4"}),
        ("group", {"userId": "u-1", "groupId": "g-1", "messageId": "s-5"}),
        ("alias", {"userId": "u-1", "previousId": "a-1", "messageId": "s-6"}),
    ]:
        response = await client.post(f"/v1/{path}", json=body, headers=headers)
        assert response.status_code == 200, response.text
    stored = await _stored(database)
    assert [(e.type, e.name) for e in stored] == [
        ("identify", None),
        ("track", "Signed In"),
        ("page", "Home"),
        ("screen", "Cart"),
        ("group", None),
        ("alias", None),
    ]


async def test_single_malformed_call_is_400_with_reason(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    response = await client.post("/v1/alias", json={"userId": "u-1"}, headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "error": "MalformedRequest",
        "detail": "alias calls need `previousId`",
    }


async def test_clock_skew_is_corrected(client: httpx.AsyncClient, database: Database) -> None:
    set_clock(lambda: NOW)
    _, headers = await _source_headers(database)
    # The device clock runs 1 hour fast: it says the call happened 10 s before sending.
    body = {
        "batch": [track("Tapped", messageId="skew", timestamp="2026-11-23T12:59:50+00:00")],
        "sentAt": "2026-11-23T13:00:00+00:00",
    }
    await client.post("/v1/batch", json=body, headers=headers)
    [event] = await _stored(database)
    assert event.timestamp == datetime(2026, 11, 23, 11, 59, 50, tzinfo=UTC)
    assert event.received_at == NOW
    assert event.original_timestamp == datetime(2026, 11, 23, 12, 59, 50, tzinfo=UTC)


async def test_channel_comes_from_properties_then_context(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    batch = [
        track("A", messageId="c-1", properties={"channel": "Store"}),
        track("B", messageId="c-2", context={"library": {"name": "analytics.js"}}),
        track("C", messageId="c-3", context={"app": {"name": "Shop"}}),
        track("D", messageId="c-4", context={"library": {"name": "analytics-python"}}),
        track("E", messageId="c-5", properties={"channel": "carrier pigeon"}),
    ]
    await client.post("/v1/batch", json={"batch": batch}, headers=headers)
    assert [e.channel for e in await _stored(database)] == [
        "store",
        "web",
        "mobile",
        "server",
        "other",
    ]


async def test_original_call_is_kept_sealed(client: httpx.AsyncClient, database: Database) -> None:
    _, headers = await _source_headers(database)
    message = identify(userId="u-9", messageId="orig", traits={"email": "ada@example.com"})
    await client.post("/v1/batch", json={"batch": [message]}, headers=headers)
    [event] = await _stored(database)
    assert b"ada@example.com" not in event.payload
    from rapport.events.processing import message_of

    assert message_of(event)["traits"] == {"email": "ada@example.com"}
    assert message_of(event)["messageId"] == "orig"


async def test_events_counts_api(client: httpx.AsyncClient, database: Database) -> None:
    from tests.fixtures.identity import bearer, make_api_key

    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    batch = [track("A"), track("B"), identify(userId="u"), {"type": "page", "anonymousId": "a"}]
    await client.post("/v1/batch", json={"batch": batch}, headers=write_key_auth(source.write_key))
    response = await client.get(
        "/api/v1/events/counts", headers=bearer(await make_api_key(database, workspace))
    )
    assert response.json() == {
        "identify": 1,
        "track": 2,
        "page": 1,
        "screen": 0,
        "group": 0,
        "alias": 0,
    }
    assert (await _count(database)) == 4


async def _count(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(Event))).scalar_one())


async def test_nul_characters_and_impossible_times_are_rejected_not_500(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    batch = [
        track("A", userId="bad\u0000id", messageId="nul-1"),
        track("B", messageId="far", timestamp="0001-01-01T00:00:00Z"),
        track("Name\u0000With NUL", messageId="ok-nul"),
    ]
    body = {"batch": batch, "sentAt": "9999-12-31T00:00:00Z"}
    response = await client.post("/v1/batch", json=body, headers=headers)
    assert response.json()["rejected"] == [
        {"index": 0, "messageId": "nul-1", "reason": "`userId` may not contain NUL characters"},
        {"index": 1, "messageId": "far", "reason": "date value out of range"},
    ]
    assert [(e.message_id, e.name) for e in await _stored(database)] == [("ok-nul", "NameWith NUL")]


async def test_a_batch_sent_at_that_is_not_a_date_is_400(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    body = {"batch": [track("Viewed")], "sentAt": "yesterday"}
    response = await client.post("/v1/batch", json=body, headers=headers)
    assert (response.status_code, response.json()["error"]) == (400, "MalformedRequest")
    assert await _stored(database) == []


async def test_a_call_context_that_is_not_an_object_beside_a_batch_context_is_rejected_alone(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    body = {
        "batch": [
            track("Viewed", messageId="c-1", context="web"),
            track("Viewed", messageId="c-2"),
        ],
        "context": {"ip": "1.2.3.4"},
    }
    response = await client.post("/v1/batch", json=body, headers=headers)
    assert response.json() == {
        "success": True,
        "accepted": 1,
        "rejected": [
            {"index": 0, "messageId": "c-1", "reason": "`context` must be an object, not a string"}
        ],
    }
    assert [event.message_id for event in await _stored(database)] == ["c-2"]


async def test_a_timestamp_at_the_edge_of_the_calendar_is_rejected_not_a_500(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)
    edge = track("Viewed", messageId="edge-1", timestamp="0001-01-01T00:00:00+14:00")
    body = {"batch": [edge, track("Viewed", messageId="fine-1")]}
    response = await client.post("/v1/batch", json=body, headers=headers)
    assert response.status_code == 200
    assert [r["messageId"] for r in response.json()["rejected"]] == ["edge-1"]
    assert [event.message_id for event in await _stored(database)] == ["fine-1"]


async def test_a_body_past_the_wire_limit_is_refused_before_it_is_read(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, headers = await _source_headers(database)

    async def flood() -> AsyncIterator[bytes]:
        for _ in range(2048):
            yield b" " * 1024

    response = await client.post("/v1/batch", content=flood(), headers=headers)
    assert (response.status_code, response.json()["error"]) == (400, "BatchTooLarge")
    assert await _stored(database) == []
