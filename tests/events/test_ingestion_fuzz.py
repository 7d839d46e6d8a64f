"""Arbitrary JSON at every /v1 endpoint and the Shopify webhook: a 200 or a shaped 400,
never a 5xx (Segment's libraries retry a 5xx forever)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rapport.core.db import Database
from rapport.events.enums import CallType
from rapport.events.shapes import Kinds, Shape
from rapport.events.shopify import ORDER_SHAPE, signature
from rapport.events.wire import BATCH_SHAPE, CALL_SHAPE
from rapport.identity.keys import sources
from tests.fixtures.events import write_key_auth
from tests.fixtures.identity import make_source, make_workspace
from tests.fixtures.server import LiveServer

EXAMPLES = 30
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

# JSON as orjson writes it: integers within 64 bits, finite floats.
integers = st.integers(min_value=-(2**63), max_value=2**64 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = (
    st.none()
    | st.booleans()
    | integers
    | floats
    | st.text(max_size=12)
    | st.sampled_from(["", "\x00", "2026-11-20T10:00:00Z", "9999-12-31T23:59:59-05:00", "track"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
dates = st.sampled_from(["2026-11-20T10:00:00Z", "2026-11-20", "9999-12-31T23:59:59-05:00", "x"])
# Values for fields whose type alone says little (a date, a call type, a quantity).
SPECIAL = {
    "type": st.sampled_from([str(kind) for kind in CallType]),
    "quantity": st.integers(min_value=-1, max_value=2**40),
    **dict.fromkeys(["timestamp", "originalTimestamp", "sentAt", "created_at"], dates),
}


def _typed(kinds: Kinds) -> st.SearchStrategy[Any]:
    """Values of the JSON types a field takes."""
    options = {
        dict: st.dictionaries(st.text(max_size=6), json_values, max_size=3),
        list: st.lists(json_values, max_size=3),
        str: st.text(max_size=12),
        int: integers,
        float: floats,
        bool: st.booleans(),
    }
    return st.one_of([options[kind] for kind in sorted(kinds, key=str)])


def _shaped(shape: Shape) -> st.SearchStrategy[dict[str, Any]]:
    """Objects holding any of a shape's fields, each mostly of its type, else any JSON."""
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, kinds in shape.fields.items():
        typed = SPECIAL.get(name, _typed(kinds))
        if name in shape.objects:
            typed = _shaped(shape.objects[name])
        elif name in shape.arrays:
            typed = st.lists(_shaped(shape.arrays[name]) | json_values, max_size=3)
        optional[name] = typed | typed | json_values
    return st.fixed_dictionaries({}, optional=optional)


calls = st.builds(
    lambda base, extra: {**base, **extra},
    st.fixed_dictionaries(
        {"userId": st.text(min_size=1, max_size=8), "event": st.text(min_size=1, max_size=8)}
    ),
    _shaped(CALL_SHAPE),
)
batches = st.builds(
    lambda extra, batch: {**extra, "batch": batch},
    _shaped(BATCH_SHAPE),
    st.lists(calls | json_values, max_size=4),
)
orders = st.builds(
    lambda base, extra: {**base, **extra},
    st.fixed_dictionaries({"id": st.integers(min_value=1)}),
    _shaped(ORDER_SHAPE),
)


def _assert_answered(response: httpx.Response) -> None:
    assert response.status_code in (200, 400), (response.status_code, response.text)
    body = response.json()
    if response.status_code == 400:
        assert (type(body["error"]), type(body["detail"])) == (str, str), body


def _fuzz_endpoint(client: httpx.Client, path: str, bodies: st.SearchStrategy[Any]) -> None:
    @given(body=bodies)
    @FUZZ_SETTINGS
    def post(body: Any) -> None:
        _assert_answered(client.post(path, content=orjson.dumps(body)))

    post()


def _fuzz_ingestion(base_url: str, write_key: str) -> None:
    with httpx.Client(base_url=base_url, headers=write_key_auth(write_key)) as client:
        _fuzz_endpoint(client, "/v1/batch", batches | json_values)
        for call_type in CallType:
            _fuzz_endpoint(client, f"/v1/{call_type}", calls | json_values)


def _fuzz_shopify(base_url: str, write_key: str, secret: str) -> None:
    with httpx.Client(base_url=base_url) as client:

        @given(order=orders | json_values)
        @FUZZ_SETTINGS
        def webhook(order: Any) -> None:
            body = orjson.dumps(order)
            answer = client.post(
                f"/v1/webhooks/shopify/{write_key}/orders-create",
                content=body,
                headers={"X-Shopify-Hmac-Sha256": signature(secret, body)},
            )
            _assert_answered(answer)

        webhook()


async def test_arbitrary_json_at_the_segment_endpoints_is_never_a_5xx(
    live_server: LiveServer, database: Database
) -> None:
    source = await make_source(database, await make_workspace(database))
    await asyncio.to_thread(_fuzz_ingestion, live_server.url, source.write_key)


async def test_arbitrary_signed_json_at_the_shopify_webhook_is_never_a_5xx(
    live_server: LiveServer, database: Database
) -> None:
    source = await make_source(database, await make_workspace(database), "shopify")
    async with database.session() as session:
        secret = await sources.webhook_secret(session, source.workspace_id, source.id)
    assert secret is not None
    await asyncio.to_thread(_fuzz_shopify, live_server.url, source.write_key, secret)
