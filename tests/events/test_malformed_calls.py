"""Every field of Segment's spec is checked by type: a bad call is refused alone, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from rapport.core.db import Database
from rapport.events.models import Event
from tests.fixtures.events import track, write_key_auth
from tests.fixtures.identity import make_source, make_workspace


async def _headers(database: Database) -> dict[str, str]:
    source = await make_source(database, await make_workspace(database))
    return write_key_auth(source.write_key)


async def _stored(database: Database) -> list[tuple[str, str]]:
    async with database.session() as session:
        rows = await session.execute(select(Event.message_id, Event.channel).order_by(Event.id))
        return [(message_id, channel) for message_id, channel in rows.tuples()]


def _deep(levels: int) -> list[Any]:
    nested: list[Any] = []
    for _ in range(levels):
        nested = [nested]
    return nested


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"context": {"library": {"name": 5}}},
            "`context.library.name` must be a string, not a number",
        ),
        (
            {"context": {"library": {"name": ["analytics-python"]}}},
            "`context.library.name` must be a string, not an array",
        ),
        ({"context": {"library": [1]}}, "`context.library` must be an object, not an array"),
        ({"context": [1]}, "`context` must be an object, not an array"),
        ({"context": {"active": "yes"}}, "`context.active` must be true or false, not a string"),
        ({"properties": "cheap"}, "`properties` must be an object, not a string"),
        ({"event": 5}, "`event` must be a string, not a number"),
        ({"groupId": {}}, "`groupId` must be a number or a string, not an object"),
        ({"originalTimestamp": 5}, "`originalTimestamp` must be a string, not a number"),
        ({"nested": _deep(300)}, "the call cannot be stored: Recursion limit reached"),
    ],
)
async def test_a_single_call_with_a_mistyped_field_is_400(
    client: httpx.AsyncClient, database: Database, fields: dict[str, Any], reason: str
) -> None:
    body = {"userId": "u", "event": "e", **fields}
    response = await client.post("/v1/track", json=body, headers=await _headers(database))
    assert (response.status_code, response.json()) == (
        400,
        {"error": "MalformedRequest", "detail": reason},
    )
    assert await _stored(database) == []


async def test_null_fields_count_as_absent(client: httpx.AsyncClient, database: Database) -> None:
    body = {
        "userId": "u",
        "event": "e",
        "messageId": "nulls-1",
        "context": {"library": {"name": None}, "page": None},
        "properties": None,
        "timestamp": None,
    }
    response = await client.post("/v1/track", json=body, headers=await _headers(database))
    assert (response.status_code, response.json()) == (200, {"success": True})
    assert await _stored(database) == [("nulls-1", "other")]


async def test_a_call_of_no_known_type_is_rejected_and_the_rest_of_its_batch_stored(
    client: httpx.AsyncClient, database: Database
) -> None:
    batch = [
        {"type": {}, "userId": "u", "event": "e", "messageId": "bad-type"},
        track("Viewed", messageId="good-1", context={"library": {"name": "analytics-python"}}),
        {"type": None, "userId": "u", "messageId": {"not": "an id"}},
    ]
    response = await client.post(
        "/v1/batch", json={"batch": batch}, headers=await _headers(database)
    )
    assert (response.status_code, response.json()) == (
        200,
        {
            "success": True,
            "accepted": 1,
            "rejected": [
                {
                    "index": 0,
                    "messageId": "bad-type",
                    "reason": "`type` must be a string, not an object",
                },
                {
                    "index": 2,
                    "messageId": None,
                    "reason": "`messageId` must be a number or a string, not an object",
                },
            ],
        },
    )
    assert await _stored(database) == [("good-1", "server")]


async def test_a_mistyped_batch_context_refuses_the_batch_with_400(
    client: httpx.AsyncClient, database: Database
) -> None:
    body = {"batch": [track("Viewed")], "context": {"library": {"name": 5}}}
    response = await client.post("/v1/batch", json=body, headers=await _headers(database))
    assert (response.status_code, response.json()) == (
        400,
        {
            "error": "MalformedRequest",
            "detail": "`context.library.name` must be a string, not a number",
        },
    )
    assert await _stored(database) == []


async def test_a_batch_context_that_is_a_list_is_400(
    client: httpx.AsyncClient, database: Database
) -> None:
    body = {"batch": [track("Viewed")], "context": [{"ip": "1.2.3.4"}]}
    response = await client.post("/v1/batch", json=body, headers=await _headers(database))
    assert (response.status_code, response.json()["detail"]) == (
        400,
        "`context` must be an object, not an array",
    )
