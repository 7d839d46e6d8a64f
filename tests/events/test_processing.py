"""Processing a chunk of stored calls: plain calls resolved together, failures set aside."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from rapport.core.db import Database
from rapport.core.jobs import Job, JobStatus
from rapport.core.outbox import DomainEvent
from rapport.customers import resolution
from rapport.customers import service as customers_service
from rapport.customers.events import CUSTOMER_IDENTIFIED
from rapport.customers.models import Customer
from rapport.events import processing
from rapport.events.models import Event, Product
from rapport.events.processing import PROCESS_CHUNK, PROCESS_WALKS, QUIET_CHUNK, processor
from tests.fixtures.customers import Shop, make_shop
from tests.fixtures.events import identify, process_all, track, write_key_auth
from tests.fixtures.identity import make_api_key
from tests.fixtures.statements import statements_sent


@pytest.fixture(autouse=True)
def live_traffic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of PROCESS_CHUNK calls, as while requests come in (a chunk takes QUIET_CHUNK
    calls once the server has been quiet for a second: how long a test took must not
    decide how its calls are chunked)."""
    monkeypatch.setattr(processing, "quiet", lambda seconds: False)


def at(day: int, hour: int = 12) -> str:
    """Return an ISO time in May 2026."""
    return f"2026-05-{day:02d}T{hour:02d}:00:00+00:00"


def view(anonymous_id: str, day: int, hour: int = 12, **fields: Any) -> dict[str, Any]:
    """Return a plain Product Viewed call at a given time."""
    return track("Product Viewed", anonymousId=anonymous_id, timestamp=at(day, hour), **fields)


async def store(shop: Shop, *calls: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    """Send calls in one batch without processing them."""
    response = await shop.client.post(
        "/v1/batch", json={"batch": list(calls)}, headers=headers or write_key_auth(shop.write_key)
    )
    assert response.status_code == 200, response.text


async def activity(shop: Shop, customer_id: str) -> tuple[str, str, list[str]]:
    """Return a profile's first seen, last seen and channels."""
    async with shop.database.session() as session:
        customer = await customers_service.customers.get(session, shop.workspace.id, customer_id)
    return str(customer.first_seen_at), str(customer.last_seen_at), customer.channels


async def the_processing_job(database: Database) -> Job:
    """Return the one processing job stored calls queued."""
    async with database.session() as session:
        [job] = (
            await session.execute(select(Job).where(Job.name == "events.process_batch"))
        ).scalars()
    return job


async def stored(database: Database, message_id: str) -> Event:
    """Return a stored call by its messageId."""
    async with database.session() as session:
        return (
            await session.execute(select(Event).where(Event.message_id == message_id))
        ).scalar_one()


async def outcome(database: Database, message_id: str) -> tuple[str | None, bool]:
    """Return the profile a stored call resolved to and whether it was processed."""
    event = await stored(database, message_id)
    return event.customer_id, event.processed


async def test_a_failing_call_is_kept_unprocessed_and_the_rest_of_its_chunk_is_recorded_exactly(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_apply = resolution.apply_traits

    def apply_or_fail(
        customer: Customer, traits: dict[str, Any], source: str, at: datetime
    ) -> bool:
        if traits.get("plan") == "poison":
            raise RuntimeError("simulated defect in one call")
        return real_apply(customer, traits, source, at)

    monkeypatch.setattr(resolution, "apply_traits", apply_or_fail)
    shop = await make_shop(client, database)
    await shop.send(view("a", 1), view("b", 1))
    await store(
        shop,
        view("a", 2, messageId="a-before"),
        view("b", 3, properties={"channel": "store"}),
        identify(
            userId="u-fail", anonymousId="c", timestamp=at(4), traits={"plan": "poison"},
            messageId="failing",
        ),
        view("a", 5, properties={"channel": "mobile"}, messageId="a-after"),
        view("c", 6, messageId="c-after"),
    )  # fmt: skip
    await process_all(database)
    a, b, c = [await shop.profile_of_anonymous(name) for name in ("a", "b", "c")]
    assert await outcome(database, "failing") == (None, False)
    assert await shop.find("u-fail") == []
    assert [await outcome(database, m) for m in ("a-before", "a-after", "c-after")] == [
        (a, True),
        (a, True),
        (c, True),
    ]
    assert await activity(shop, a) == (
        "2026-05-01 12:00:00+00:00",
        "2026-05-05 12:00:00+00:00",
        ["mobile", "other"],
    )
    assert await activity(shop, b) == (
        "2026-05-01 12:00:00+00:00",
        "2026-05-03 12:00:00+00:00",
        ["other", "store"],
    )
    assert await activity(shop, c) == (
        "2026-05-06 12:00:00+00:00",
        "2026-05-06 12:00:00+00:00",
        ["other"],
    )


async def test_an_unreadable_call_is_kept_unprocessed_and_the_rest_of_its_chunk_is_processed(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await store(
        shop,
        view("d", 1, messageId="before"),
        view("e", 2, messageId="unreadable"),
        view("d", 3, messageId="after"),
    )
    async with database.session() as session:
        await session.execute(
            update(Event).where(Event.message_id == "unreadable").values(payload=b"tampered")
        )
    await process_all(database)
    d = await shop.profile_of_anonymous("d")
    assert [await outcome(database, m) for m in ("before", "unreadable", "after")] == [
        (d, True),
        (None, False),
        (d, True),
    ]
    assert await activity(shop, d) == (
        "2026-05-01 12:00:00+00:00",
        "2026-05-03 12:00:00+00:00",
        ["other"],
    )
    async with database.session() as session:
        jobs = (await session.execute(select(Job.status))).scalars().all()
    assert set(jobs) == {JobStatus.done}


async def test_touches_of_a_profile_in_one_chunk_keep_the_earliest_and_latest_time_and_channels(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="u-t", anonymousId="t", timestamp=at(10)))
    await shop.send(
        view("t", 12, properties={"channel": "mobile"}),
        view("t", 8, properties={"channel": "web"}),
        {"type": "page", "name": "Home", "anonymousId": "t", "timestamp": at(11)},
        {"type": "screen", "name": "Cart", "userId": "u-t", "timestamp": at(9, 8)},
    )
    profile = await shop.profile("u-t")
    assert await activity(shop, profile.id) == (
        "2026-05-08 12:00:00+00:00",
        "2026-05-12 12:00:00+00:00",
        ["mobile", "other", "web"],
    )


async def test_calls_of_a_new_visitor_in_one_chunk_share_one_new_profile(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(view("new", 3, messageId="n1"), view("new", 1, messageId="n2"))
    profile = await shop.profile_of_anonymous("new")
    assert [await outcome(database, m) for m in ("n1", "n2")] == [(profile, True), (profile, True)]
    assert await activity(shop, profile) == (
        "2026-05-01 12:00:00+00:00",
        "2026-05-03 12:00:00+00:00",
        ["other"],
    )
    async with database.session() as session:
        profiles = (await session.execute(select(func.count()).select_from(Customer))).scalar_one()
        announced = (
            await session.execute(
                select(func.count()).where(DomainEvent.name == CUSTOMER_IDENTIFIED)
            )
        ).scalar_one()
    assert (profiles, announced) == (1, 0)


async def test_an_unknown_user_id_on_a_track_call_makes_a_known_profile_announced_once(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        track("Product Viewed", userId="u-k", anonymousId="k", timestamp=at(1)),
        track("Product Viewed", userId="u-k", timestamp=at(2)),
    )
    profile = await shop.profile("u-k")
    assert await shop.profile_of_anonymous("k") == profile.id
    async with database.session() as session:
        announced = (
            (
                await session.execute(
                    select(DomainEvent).where(DomainEvent.name == CUSTOMER_IDENTIFIED)
                )
            )
            .scalars()
            .all()
        )
    assert [event.data["customer_id"] for event in announced] == [profile.id]


async def test_a_call_after_an_identify_in_its_chunk_finds_the_identifiers_it_added(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    tablet = {"device": {"id": "tablet-1"}}
    await shop.send(
        view("laptop", 1),
        identify(userId="u-dev", anonymousId="laptop", context=tablet, timestamp=at(2)),
        view("tablet-browser", 3, context=tablet, messageId="later"),
    )
    profile = await shop.profile("u-dev")
    assert await shop.profile_of_anonymous("tablet-browser") == profile.id
    assert await outcome(database, "later") == (profile.id, True)
    assert sorted(i.value for i in profile.identifiers) == [
        "laptop",
        "tablet-1",
        "tablet-browser",
        "u-dev",
    ]


async def test_a_call_after_a_merge_in_its_chunk_touches_the_profile_that_remains(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        identify(userId="old-id", anonymousId="old-browser", timestamp=at(1)),
        identify(userId="new-id", timestamp=at(2)),
    )
    loser = (await shop.profile("old-id")).id
    headers = {"Authorization": f"Bearer {await make_api_key(database, shop.workspace)}"}
    await store(
        shop,
        {"type": "alias", "previousId": "old-id", "userId": "new-id", "timestamp": at(3)},
        view("old-browser", 4, properties={"channel": "mobile"}, messageId="after-merge"),
        headers=headers,
    )
    await process_all(database)
    winner = await shop.profile("new-id")
    assert winner.id != loser
    assert await outcome(database, "after-merge") == (winner.id, True)
    assert await activity(shop, winner.id) == (
        "2026-05-01 12:00:00+00:00",
        "2026-05-04 12:00:00+00:00",
        ["mobile", "other"],
    )
    async with database.session() as session:
        merged = await session.get(Customer, loser)
    assert merged is not None
    assert (str(merged.last_seen_at), merged.merged_into_id) == (
        "2026-05-01 12:00:00+00:00",
        winner.id,
    )


async def test_many_visitors_over_several_chunks_get_one_profile_each_and_exact_counts(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    visitors = 120
    calls = [
        view(f"v-{n % visitors}", 1 + n // visitors, properties={"product_id": f"p-{n % 7}"})
        for n in range(3 * visitors)  # each visitor on days 1, 2 and 3
    ]
    assert len(calls) > PROCESS_CHUNK  # so the calls span chunks
    await shop.send(*calls)
    async with database.session() as session:
        seen = (
            await session.execute(
                select(Customer.first_seen_at, Customer.last_seen_at, Customer.channels)
            )
        ).all()
        unprocessed = (
            await session.execute(select(func.count()).where(Event.processed.is_(False)))
        ).scalar_one()
        views = dict((await session.execute(select(Product.product_key, Product.views))).all())
    assert (len(seen), unprocessed) == (visitors, 0)
    assert {(str(first), str(last), tuple(channels)) for first, last, channels in seen} == {
        ("2026-05-01 12:00:00+00:00", "2026-05-03 12:00:00+00:00", ("other",))
    }
    assert views == {f"p-{k}": len(range(k, len(calls), 7)) for k in range(7)}


async def test_product_counters_add_up_over_chunks_and_keep_details_left_out(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    mug = {"product_id": "p-1", "sku": "M-1", "name": "Mug"}
    await shop.send(
        view("a", 1, properties=mug),
        track("Product Added", anonymousId="a", timestamp=at(1), properties={"product_id": "p-1"}),
        view("b", 1, 13, properties={"product_id": "p-1", "name": "Big mug"}),
    )
    await shop.send(
        view("c", 2, properties={"product_id": "p-1", "category": "Kitchen"}),
        track("Product Added", anonymousId="c", timestamp=at(2), properties={"sku": "T-9"}),
    )
    async with database.session() as session:
        rows = await session.execute(
            select(
                Product.product_key,
                Product.sku,
                Product.name,
                Product.category,
                Product.views,
                Product.adds,
            ).order_by(Product.product_key)
        )
        products = [tuple(row) for row in rows]
    assert products == [
        ("T-9", "T-9", None, None, 0, 1),
        ("p-1", "M-1", "Big mug", "Kitchen", 3, 1),
    ]


WRITES = ("insert", "update", "delete", "savepoint")


async def test_a_chunk_reads_its_calls_before_it_writes_and_queues_the_rest_last(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A chunk takes the writer (SQLite's one lock) only once it has read its calls: a
    follow-up job queued first would hold it through the reads, stalling the live path."""
    shop = await make_shop(client, database)
    await store(shop, *(view(f"v-{n}", 1) for n in range(PROCESS_CHUNK + 5)))
    job = await the_processing_job(database)
    with statements_sent(database) as statements:
        async with database.session() as session:
            await processor.process(session, shop.workspace.id, job.payload["event_ids"])
    read = next(n for n, text in enumerate(statements) if text.startswith("select id, source_id"))
    writes = [text for text in statements if text.startswith(WRITES)]
    assert [text for text in statements[:read] if text.startswith(WRITES)] == []
    assert (writes[-1], "update events set" in writes) == ("insert into jobs", True)


@pytest.mark.parametrize("quiet", [False, True])
async def test_a_chunk_takes_a_whole_request_only_while_no_live_work_runs(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch, quiet: bool
) -> None:
    shop = await make_shop(client, database)
    await store(shop, *(view(f"v-{n}", 1) for n in range(PROCESS_CHUNK + 5)))
    monkeypatch.setattr(processing, "quiet", lambda seconds: quiet)
    job = await the_processing_job(database)
    async with database.session() as session:
        await processor.process(session, shop.workspace.id, job.payload["event_ids"])
    async with database.session() as session:
        left = (
            await session.execute(select(func.count()).where(Event.processed.is_(False)))
        ).scalar_one()
        follow_ups = (
            await session.execute(
                select(func.count()).where(Job.name == "events.process_batch", Job.id != job.id)
            )
        ).scalar_one()
    assert PROCESS_CHUNK + 5 <= QUIET_CHUNK
    assert (left, follow_ups) == ((0, 0) if quiet else (5, 1))


async def test_a_transaction_walks_the_graph_a_few_times_and_queues_the_rest_in_order(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Each walk holds the workspace's lock (SQLite's writer) for milliseconds: a chunk of
    identify calls stops after PROCESS_WALKS of them, plain calls before them included."""
    shop = await make_shop(client, database)
    calls = [view("early", 1, messageId="plain-0")]
    calls += [
        identify(userId=f"u-{n}", anonymousId=f"a-{n}", timestamp=at(2), messageId=f"id-{n}")
        for n in range(PROCESS_WALKS + 3)
    ]
    await store(shop, *calls)
    job = await the_processing_job(database)
    async with database.session() as session:
        await processor.process(session, shop.workspace.id, job.payload["event_ids"])
    done = [(await outcome(database, call["messageId"]))[1] for call in calls]
    assert done == [True] * (1 + PROCESS_WALKS) + [False] * 3
    async with database.session() as session:
        queued = (
            await session.execute(
                select(Job).where(
                    Job.name == "events.process_batch", Job.status == JobStatus.queued
                )
            )
        ).scalars()
        [follow_up] = [other for other in queued if other.id != job.id]
    async with database.session() as session:
        ids = {
            event.message_id: event.id for event in (await session.execute(select(Event))).scalars()
        }
    assert follow_up.payload["chunk"] == 2 * (1 + PROCESS_WALKS)  # small: walks likely follow
    assert follow_up.payload["event_ids"] == [
        ids[f"id-{n}"] for n in range(PROCESS_WALKS, PROCESS_WALKS + 3)
    ]
    await process_all(database)
    assert all([(await outcome(database, call["messageId"]))[1] for call in calls])


async def profile_count(database: Database) -> int:
    """Return how many profiles exist."""
    async with database.session() as session:
        return (await session.execute(select(func.count()).select_from(Customer))).scalar_one()


async def lookup_key(database: Database, message_id: str) -> str | None:
    """Return the lookup key a call was stored with."""
    return (await stored(database, message_id)).lookup_key


async def test_a_call_told_by_one_anonymous_id_alone_is_stored_with_that_ids_graph_key(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await store(
        shop,
        view("anon-1", 1, messageId="view"),
        {"type": "page", "name": "Home", "anonymousId": " anon-1 ", "messageId": "page"},
        {"type": "screen", "name": "Cart", "anonymousId": "anon-1", "messageId": "screen"},
        track("Order Completed", anonymousId="anon-1", messageId="order", properties={}),
        view("anon-1", 1, userId="u-1", messageId="user"),
        view("anon-1", 1, context={"traits": {"email": "a@example.com"}}, messageId="traits"),
        view("anon-1", 1, context={"device": {"id": "phone-1"}}, messageId="device"),
        view(
            "anon-1",
            1,
            context={"consent": {"categoryPreferences": {"marketing": True}}},
            messageId="consent",
        ),
        identify(anonymousId="anon-1", traits={"name": "Ann"}, messageId="identify"),
        view("undefined", 1, messageId="blocked"),
    )
    key = resolution.prepare([resolution.Observed("anonymous_id", "anon-1")])[0][1][1]
    keys = {m: await lookup_key(database, m) for m in ("view", "page", "screen", "order")}
    assert keys == {"view": key, "page": key, "screen": key, "order": key}  # " anon-1 " too
    for message_id in ("user", "traits", "device", "consent", "identify", "blocked"):
        assert await lookup_key(database, message_id) is None, message_id


async def test_a_returning_visitors_keyed_call_is_resolved_without_being_decrypted(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(view("back", 1, messageId="first"))
    profile = await shop.profile_of_anonymous("back")
    page = {"type": "page", "name": "Home", "anonymousId": "back", "timestamp": at(5)}
    await store(shop, {**page, "messageId": "page"}, view("back", 6, messageId="goods"))
    async with database.session() as session:  # neither payload opens any more
        await session.execute(
            update(Event).where(Event.message_id.in_(["page", "goods"])).values(payload=b"x")
        )
    await process_all(database)
    # The page call needs only its key; the product call is read for its product, and fails.
    assert await outcome(database, "page") == (profile, True)
    assert await outcome(database, "goods") == (None, False)
    assert (await activity(shop, profile))[1] == "2026-05-05 12:00:00+00:00"
    # Found when shown: the timeline lists the page call without its properties.
    headers = {"Authorization": f"Bearer {await make_api_key(database, shop.workspace)}"}
    response = await client.get(f"/api/v1/customers/{profile}/timeline", headers=headers)
    assert response.status_code == 200, response.text
    assert [(item["name"], item["properties"]) for item in response.json()["items"]] == [
        ("Home", {}),
        ("Product Viewed", {}),
    ]


async def test_a_new_visitors_keyed_call_is_read_for_the_identifier_it_stores(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    page = {"type": "page", "name": "Home", "timestamp": at(2)}
    await store(
        shop,
        {**page, "anonymousId": "fresh", "messageId": "fresh"},
        {**page, "anonymousId": "broken", "messageId": "broken"},
    )
    async with database.session() as session:
        await session.execute(
            update(Event).where(Event.message_id == "broken").values(payload=b"tampered")
        )
    await process_all(database)
    fresh = await shop.profile_of_anonymous("fresh")
    assert await outcome(database, "fresh") == (fresh, True)
    async with database.session() as session:
        profile = await customers_service.customers.get(session, shop.workspace.id, fresh)
    assert [(i.kind, i.value) for i in profile.identifiers] == [("anonymous_id", "fresh")]
    # Unreadable, a new visitor's call is kept as a failure, its visitor not made up.
    assert await outcome(database, "broken") == (None, False)
    assert await profile_count(database) == 1


async def test_a_stored_key_the_graph_does_not_know_is_checked_against_the_call_itself(
    client: httpx.AsyncClient, database: Database
) -> None:
    """A key that no longer matches the call (say the blind index's key changed since it was
    stored) never makes a profile of its own: the call is read and its identity walked."""
    shop = await make_shop(client, database)
    await shop.send(view("known", 1))
    profile = await shop.profile_of_anonymous("known")
    page = {"type": "page", "name": "Home", "anonymousId": "known", "timestamp": at(3)}
    await store(shop, {**page, "messageId": "stale"})
    async with database.session() as session:
        await session.execute(
            update(Event).where(Event.message_id == "stale").values(lookup_key="0" * 64)
        )
    await process_all(database)
    assert await outcome(database, "stale") == (profile, True)
    assert await profile_count(database) == 1


async def test_keyed_and_whole_reads_of_the_same_calls_come_to_the_same_customers(
    client: httpx.AsyncClient, database: Database
) -> None:
    """The same calls, stored in two workspaces, one of them with every lookup key cleared
    (read whole, as before keys existed): every call resolves alike, and profiles, activity,
    products, orders and announcements agree."""
    keyed, whole = await make_shop(client, database), await make_shop(client, database)

    def page(anonymous_id: str, day: int, message_id: str, kind: str = "page") -> dict[str, Any]:
        return {
            "type": kind,
            "name": "Home",
            "anonymousId": anonymous_id,
            "timestamp": at(day),
            "messageId": message_id,
        }

    order = {"order_id": "o-1", "total": 30, "products": [{"product_id": "p-1"}]}
    calls = [
        view("r", 1, properties={"product_id": "p-1"}, messageId="r-view"),
        page("r", 2, "r-page"),
        page("r", 3, "r-screen", kind="screen"),
        identify(userId="u-r", anonymousId="r", timestamp=at(4), messageId="r-identify"),
        page("r", 5, "r-after"),
        track("Order Completed", anonymousId="r", timestamp=at(6), messageId="r-order",
              properties=order),
        page("n1", 2, "n1"),
        view("n2", 3, properties={"product_id": "p-2"}, messageId="n2"),
        view("n2", 2, messageId="n2-again"),
        identify(userId="u-m1", anonymousId="m1", timestamp=at(1), messageId="m1-identify"),
        identify(userId="u-m2", anonymousId="m2", timestamp=at(2), messageId="m2-identify"),
        view("undefined", 4, messageId="blocked"),
    ]  # fmt: skip
    merge = {"type": "alias", "previousId": "u-m1", "userId": "u-m2", "timestamp": at(3)}
    after_merge = view("m1", 5, properties={"channel": "mobile"}, messageId="m1-after")
    stored_keys = 0
    # The merge is sent once the first calls are processed: jobs of one workspace may run in
    # either order (side by side on PostgreSQL), and the alias must follow the identifies.
    for batch, secret in (
        (calls, False),
        ([{**merge, "messageId": "merge"}, after_merge], True),
    ):
        for shop in (keyed, whole):
            key = await make_api_key(database, shop.workspace) if secret else None
            await store(shop, *batch, headers={"Authorization": f"Bearer {key}"} if key else None)
        async with database.session() as session:
            await session.execute(
                update(Event)
                .where(Event.workspace_id == whole.workspace.id)
                .values(lookup_key=None)
            )
            stored_keys += (
                await session.execute(
                    select(func.count(Event.lookup_key)).where(
                        Event.workspace_id == keyed.workspace.id, Event.processed.is_(False)
                    )
                )
            ).scalar_one()
        await process_all(database)
    assert stored_keys == 9  # the anonymous-only calls: r x5, n1, n2 x2, m1-after

    async def state(shop: Shop) -> dict[str, Any]:
        async with database.session() as session:
            ws = shop.workspace.id
            rows = (
                await session.execute(
                    select(Event.message_id, Event.customer_id, Event.processed).where(
                        Event.workspace_id == ws
                    )
                )
            ).all()
            profiles = {
                customer.id: (
                    str(customer.first_seen_at),
                    str(customer.last_seen_at),
                    tuple(customer.channels),
                    customer.merged_into_id is not None,
                    customer.orders_count,
                )
                for customer in (
                    await session.execute(select(Customer).where(Customer.workspace_id == ws))
                ).scalars()
            }
            products = dict(
                (
                    await session.execute(
                        select(Product.product_key, Product.views).where(Product.workspace_id == ws)
                    )
                ).all()
            )
            announced = sorted(
                (
                    await session.execute(
                        select(DomainEvent.name).where(DomainEvent.workspace_id == ws)
                    )
                ).scalars()
            )
        # Profiles named by the first call that resolved to them, so both shops compare.
        names: dict[str, str] = {}
        for message_id, customer_id, _ in sorted(rows):
            if customer_id is not None:
                names.setdefault(customer_id, message_id)
        return {
            "calls": {m: (names.get(c) if c else None, done) for m, c, done in rows},
            "profiles": sorted((names.get(p, "unseen"), facts) for p, facts in profiles.items()),
            "products": products,
            "announced": announced,
        }

    assert await state(keyed) == await state(whole)


async def test_calls_whose_stored_keys_do_not_match_count_as_walks_of_their_transaction(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Keys that all stopped matching (a release changed how ids are read and left them)
    make every call walk the graph: a transaction stops after PROCESS_WALKS of them."""
    shop = await make_shop(client, database)
    await shop.send(view("known", 1))
    page = {"type": "page", "name": "Home", "anonymousId": "known"}
    calls = [{**page, "timestamp": at(2 + n), "messageId": f"stale-{n}"} for n in range(8)]
    await store(shop, *calls)
    async with database.session() as session:
        await session.execute(
            update(Event).where(Event.message_id.like("stale-%")).values(lookup_key="0" * 64)
        )
        [job] = (
            await session.execute(
                select(Job).where(
                    Job.name == "events.process_batch", Job.status == JobStatus.queued
                )
            )
        ).scalars()
    async with database.session() as session:
        await processor.process(session, shop.workspace.id, job.payload["event_ids"])
    done = [(await outcome(database, call["messageId"]))[1] for call in calls]
    assert done == [True] * PROCESS_WALKS + [False] * (8 - PROCESS_WALKS)
    await process_all(database)
    profile = await shop.profile_of_anonymous("known")
    assert [await outcome(database, call["messageId"]) for call in calls] == [(profile, True)] * 8
