"""A gzip body must be one whole gzip member: cut short or followed by anything, it is 400."""

from __future__ import annotations

import gzip

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from rapport.core.db import Database
from rapport.events.models import Event
from tests.fixtures.events import track, write_key_auth
from tests.fixtures.identity import make_source, make_workspace

WHOLE = gzip.compress(orjson.dumps({"batch": [track("Signed Up", messageId="gz-1")]}))
TRUNCATED = "The gzip body is truncated."
TRAILING = "The gzip body has data after its end; send one gzip member."


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (WHOLE[:-8], TRUNCATED),  # its CRC-32 and length cut off
        (WHOLE[:-1], TRUNCATED),
        (WHOLE[: len(WHOLE) // 2], TRUNCATED),
        (WHOLE + b"garbage", TRAILING),
        (WHOLE + b"\0" * 16, TRAILING),
        (WHOLE + gzip.compress(b""), TRAILING),  # a second member
    ],
    ids=["no-trailer", "last-byte-cut", "half", "garbage", "zero-padding", "second-member"],
)
async def test_an_incomplete_or_overlong_gzip_batch_is_400(
    client: httpx.AsyncClient, database: Database, body: bytes, detail: str
) -> None:
    source = await make_source(database, await make_workspace(database))
    headers = {**write_key_auth(source.write_key), "Content-Encoding": "gzip"}
    response = await client.post("/v1/batch", content=body, headers=headers)
    assert (response.status_code, response.json()) == (
        400,
        {"error": "MalformedRequest", "detail": detail},
    )
    async with database.session() as session:
        assert (await session.execute(select(func.count()).select_from(Event))).scalar_one() == 0
