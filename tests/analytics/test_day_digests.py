"""Day digests (`analytics.digests`): a window read from them gives the figures its rows give,
a digest is read (not just stored), a later write into a digested day removes its digest in
the same transaction, a write between a digest's snapshot and its store keeps it out, only
closed days are digested, and a calendar change is never answered from the old one's
digests; an order's change removes its day's digest only when the digest's content changes.
On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import delete, func, insert, select, text, update

from rapport.analytics import digests
from rapport.analytics.models import DayDigest
from rapport.analytics.service import MetricsFilters, metrics
from rapport.analytics.tasks import DIGEST_SOURCES, schedule_digests
from rapport.analytics.windows import local_days
from rapport.core.db import Database
from rapport.core.ids import new_id
from rapport.core.jobs import JobStatus
from rapport.events.enums import OrderStatus
from rapport.events.models import Order
from rapport.events.orders import OrderInput, orders
from rapport.identity.models import Workspace
from rapport.support.enums import Channel, MetricKind
from rapport.support.models import Conversation, MetricEvent
from rapport.support.routing_calendar import calendars
from rapport.support.routing_schemas import CalendarUpdate
from rapport.worker.runner import Worker
from tests.fixtures.jobs import all_jobs
from tests.fixtures.metrics import play_desk_day

DAY, NEXT = date(2026, 3, 2), date(2026, 3, 3)
DAY_START = datetime(2026, 3, 2, tzinfo=UTC)
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
AFTER_DST = datetime(2026, 4, 5, 12, tzinfo=UTC)  # London's 2026-03-29 lasted 23 hours


async def _figures(database: Database, workspace_id: str) -> list[object]:
    """Every view of the desk's day the dashboard shows, and one with a filter."""
    window = {"first_day": DAY - timedelta(days=1), "end_day": NEXT + timedelta(days=1)}
    async with database.session() as session:
        found: list[object] = [
            await metrics.summary(session, workspace_id, **window),
            await metrics.series(session, workspace_id, **window),
            await metrics.summary(
                session, workspace_id, **window, filters=MetricsFilters(channel=Channel.chat)
            ),
        ]
        for by in ("channel", "team", "agent"):
            found.append(await metrics.breakdown(session, workspace_id, by=by, **window))
    return found


async def _digest_all(database: Database, workspace_id: str, now: datetime = NOW) -> int:
    """Run the job's step until no closed day is left; return the digests stored."""
    while True:
        async with database.session() as session:
            calendar = await calendars.load(session, workspace_id)
            left = 0
            for source in DIGEST_SOURCES:
                left += await digests.digest_days(session, workspace_id, source, calendar, now)
        if not left:
            break
    return await _count(database, workspace_id)


async def _count(database: Database, workspace_id: str) -> int:
    async with database.session() as session:
        query = select(func.count()).where(DayDigest.workspace_id == workspace_id)
        return (await session.execute(query)).scalar_one()


async def test_a_window_from_digests_gives_what_its_rows_give(database: Database) -> None:
    desk, _, _ = await play_desk_day(database)
    from_rows = await _figures(database, desk.workspace_id)
    # From the day of the first event to the last day ended six hours before NOW.
    assert await _digest_all(database, desk.workspace_id) == 18
    assert await _figures(database, desk.workspace_id) == from_rows
    assert from_rows[0].first_response_count == 3  # type: ignore[attr-defined]


async def test_the_figures_come_from_the_digest(database: Database) -> None:
    desk, _, _ = await play_desk_day(database)
    await _digest_all(database, desk.workspace_id)
    empty = digests.pack(
        {name: np.zeros(0, dtype=np.int64) for name in ("at", "conversation", "team", "staff")}
        | {"kind": np.zeros(0, np.int8), "channel": np.zeros(0, np.int8)}
        | {"seconds": np.zeros(0), "business": np.zeros(0), "quick": np.zeros(0, np.bool_)},
        {"conversations": [], "teams": [], "staff": []},
    )
    async with database.session() as session:
        await session.execute(
            update(DayDigest)
            .where(DayDigest.workspace_id == desk.workspace_id, DayDigest.starts_at == DAY_START)
            .values(payload=empty)
        )
    async with database.session() as session:
        found = await metrics.summary(session, desk.workspace_id, first_day=DAY, end_day=NEXT)
    assert (found.first_response_count, found.resolutions) == (0, 0)
    assert found.volume == 6  # volume counts conversations, not digested events


async def test_a_later_write_into_a_digested_day_removes_its_digest(database: Database) -> None:
    desk, _, _ = await play_desk_day(database)
    digested = await _digest_all(database, desk.workspace_id)
    event_id = await _add_event(database, desk.workspace_id, DAY_START + timedelta(hours=20))
    assert await _count(database, desk.workspace_id) == digested - 1
    async with database.session() as session:
        found = await metrics.summary(session, desk.workspace_id, first_day=DAY, end_day=NEXT)
    assert found.first_response_count == 4
    # Digested again, then the event deleted: the digest goes with it.
    assert await _digest_all(database, desk.workspace_id) == digested
    async with database.session() as session:
        await session.execute(delete(MetricEvent).where(MetricEvent.id == event_id))
    assert await _count(database, desk.workspace_id) == digested - 1
    async with database.session() as session:
        found = await metrics.summary(session, desk.workspace_id, first_day=DAY, end_day=NEXT)
    assert found.first_response_count == 3


async def test_a_digest_built_before_a_write_is_not_stored(database: Database) -> None:
    desk, _, _ = await play_desk_day(database)
    day = (DAY_START, DAY_START + timedelta(days=1))
    old = digests.Fingerprint(3, "a")
    async with database.session() as session:
        await digests.hold_writer(session, desk.workspace_id, "support")
        await digests.store(
            session, desk.workspace_id, "support", "v", day, b"x", old, digests.Fingerprint(4, "b")
        )
    assert await _count(database, desk.workspace_id) == 0
    async with database.session() as session:
        await digests.hold_writer(session, desk.workspace_id, "support")
        await digests.store(session, desk.workspace_id, "support", "v", day, b"x", old, old)
    assert await _count(database, desk.workspace_id) == 1


async def test_a_write_into_a_past_day_waits_for_a_digest_being_stored(
    database: Database,
) -> None:
    """The write's trigger runs after the store commits, so it removes the new digest."""
    desk, _, _ = await play_desk_day(database)
    day = (DAY_START, DAY_START + timedelta(days=1))
    same = digests.Fingerprint(1, "a")
    async with database.session() as session:
        await digests.hold_writer(session, desk.workspace_id, "support")
        await digests.store(session, desk.workspace_id, "support", "v", day, b"x", same, same)
        writing = asyncio.create_task(
            _add_event(database, desk.workspace_id, DAY_START + timedelta(hours=20))
        )
        await asyncio.sleep(0.5)
        assert not writing.done()  # held off until the digest is stored
    await writing
    assert await _count(database, desk.workspace_id) == 0


async def _add_event(database: Database, workspace_id: str, at: datetime) -> str:
    """Record a first response at `at` in one of the workspace's conversations."""
    async with database.session() as session:
        conversation = (
            (
                await session.execute(
                    select(Conversation.id).where(Conversation.workspace_id == workspace_id)
                )
            )
            .scalars()
            .first()
        )
        event_id = new_id()
        await session.execute(
            insert(MetricEvent).values(
                id=event_id, workspace_id=workspace_id, conversation_id=conversation,
                kind=MetricKind.first_response, seconds=60.0, channel=Channel.api, data={},
                created_at=at,
            )
        )  # fmt: skip
    return event_id


async def test_only_days_closed_six_hours_ago_are_digested(database: Database) -> None:
    desk, _, _ = await play_desk_day(database)
    day_end = DAY_START + timedelta(days=1)
    assert await _digest_all(database, desk.workspace_id, day_end + timedelta(hours=5)) == 0
    assert await _digest_all(database, desk.workspace_id, day_end + timedelta(hours=7)) == 1


async def test_a_new_calendar_is_not_answered_from_the_old_ones_digests(
    database: Database,
) -> None:
    desk, _, _ = await play_desk_day(database)
    await _digest_all(database, desk.workspace_id)
    async with database.session() as session:
        hours = [{"start": "09:00", "end": "09:05"}]
        body = CalendarUpdate.model_validate({"weekly_hours": {"monday": hours}})
        await calendars.replace(session, desk.workspace_id, body)
    from_rows = await _figures(database, desk.workspace_id)
    summary = from_rows[0]
    assert summary.first_response_business_seconds_mean < 1000.0  # type: ignore[attr-defined]
    await _digest_all(database, desk.workspace_id)
    assert await _figures(database, desk.workspace_id) == from_rows


def test_a_payload_holds_numbers_and_names_only() -> None:
    payload = digests.pack({"at": np.array([1, 2], dtype=np.int64)}, {"staff": ["a", "b"]})
    unpacked = digests.unpack(payload)
    assert unpacked.arrays["at"].tolist() == [1, 2] and unpacked.names == {"staff": ["a", "b"]}
    objects = digests.pack({"at": np.array(["x"], dtype=object)}, {})
    with pytest.raises(ValueError, match="unknown type"):
        digests.unpack(objects)
    negative = payload.replace(b'"<i8",2', b'"<i8",-1')
    for broken in (payload[:-1], payload + b"\0", payload[:3], negative, b"\xff" * 8):
        with pytest.raises(ValueError):
            digests.unpack(broken)


async def _order_digests(database: Database, workspace_id: str) -> int:
    async with database.session() as session:
        query = select(func.count()).where(
            DayDigest.workspace_id == workspace_id, DayDigest.source == "orders"
        )
        return (await session.execute(query)).scalar_one()


async def test_an_order_change_removes_its_days_digest_only_when_it_counts(
    database: Database,
) -> None:
    """Shipping an old order or refunding part of it leaves its day's digest; a full refund,
    a new customer or another placing time removes it, as a new old order does."""
    desk, _, _ = await play_desk_day(database)
    placed = DAY_START + timedelta(hours=10)
    inputs = [
        OrderInput(
            order_key=key, status=OrderStatus.completed, origin="csv", channel="web",
            placed_at=placed, customer_id="ann", total=Decimal(50),
        )
        for key in ("o1", "o2")
    ]  # fmt: skip
    async with database.session() as session:
        await orders.apply_many(session, desk.workspace_id, inputs)
    await _digest_all(database, desk.workspace_id)
    kept = await _order_digests(database, desk.workspace_id)
    assert kept > 0

    async def change(**values: object) -> int:
        async with database.session() as session:
            await session.execute(
                update(Order)
                .where(Order.workspace_id == desk.workspace_id, Order.order_key == "o1")
                .values(**values)
            )
        left = await _order_digests(database, desk.workspace_id)
        await _digest_all(database, desk.workspace_id)
        return kept - left

    assert await change(fulfillment_status="fulfilled", shipped_at=placed) == 0
    assert await change(refunded=Decimal(20)) == 0
    assert await change(refunded=Decimal(50), status="refunded") == 1
    assert await change(refunded=Decimal(0), status="completed") == 1
    assert await change(customer_id="bob") == 1
    assert await change(placed_at=placed + timedelta(days=1)) == 2  # its old day and new day
    async with database.session() as session:
        late = OrderInput(
            order_key="o3", status=OrderStatus.completed, origin="csv", channel="web",
            placed_at=placed, customer_id="cy", total=Decimal(5),
        )  # fmt: skip
        await orders.apply_many(session, desk.workspace_id, [late])
    assert await _order_digests(database, desk.workspace_id) == kept - 1


async def test_the_scheduled_jobs_digest_every_source_to_the_last_closed_day(
    database: Database,
) -> None:
    desk, _, _ = await play_desk_day(database)
    desk.clock.now = NOW  # the desk's clock is Rapport's
    async with database.session() as session:
        await schedule_digests(session)
    worker = Worker(database, concurrency=1)
    while await worker.run_pending():
        pass
    async with database.session() as session:
        query = (
            select(DayDigest.source, func.count())
            .where(DayDigest.workspace_id == desk.workspace_id)
            .group_by(DayDigest.source)
        )
        counted = dict((await session.execute(query)).all())
    # Every day from the first event's to the last ended six hours before NOW; no orders.
    assert counted == {"support": 18}
    digesting = [job for job in await all_jobs(database) if job.name.startswith("analytics.")]
    assert digesting and all(job.status == JobStatus.done for job in digesting)


async def test_a_time_zone_change_digests_the_new_days(database: Database) -> None:
    """A digest is matched by its start and end: after a change of time zone every local day
    of the new zone gets one, even one starting when an old day started (order digests
    depend on no setting, so only their bounds tell them apart)."""
    desk, _, _ = await play_desk_day(database)
    inputs = [
        OrderInput(
            order_key=f"o{day}", status=OrderStatus.completed, origin="csv", channel="web",
            placed_at=DAY_START + timedelta(days=day, hours=12), customer_id="ann",
            total=Decimal(5),
        )
        for day in range(30)
    ]  # fmt: skip
    async with database.session() as session:
        await orders.apply_many(session, desk.workspace_id, inputs)
    for zone in ("Europe/London", "UTC"):
        async with database.session() as session:
            stored = await session.get(Workspace, desk.workspace_id)
            assert stored is not None
            stored.time_zone = zone
        await _digest_all(database, desk.workspace_id, AFTER_DST)
    async with database.session() as session:
        query = select(DayDigest.starts_at, DayDigest.ends_at).where(DayDigest.source == "orders")
        kept = set((await session.execute(query)).all())
    # London's 2026-03-29 (00:00Z to 23:00Z) replaced by UTC's.
    assert kept == set(local_days(DAY_START, AFTER_DST - digests.MARGIN, "UTC"))


async def test_an_unreadable_digest_is_read_from_its_rows(database: Database) -> None:
    desk, _, _ = await play_desk_day(database)
    from_rows = await _figures(database, desk.workspace_id)
    await _digest_all(database, desk.workspace_id)
    async with database.session() as session:
        payload = (
            await session.execute(
                select(DayDigest.payload).where(
                    DayDigest.workspace_id == desk.workspace_id,
                    DayDigest.source == "support",
                    DayDigest.starts_at == DAY_START,
                )
            )
        ).scalar_one()
    for broken in (payload[:-3], payload + b"\0", _renamed(payload)):
        async with database.session() as session:
            await session.execute(
                update(DayDigest)
                .where(
                    DayDigest.workspace_id == desk.workspace_id, DayDigest.starts_at == DAY_START
                )
                .values(payload=broken)
            )
        assert await _figures(database, desk.workspace_id) == from_rows


def _renamed(payload: bytes) -> bytes:
    """Return the payload with its first conversation code pointing past its names."""
    unpacked = digests.unpack(payload)
    arrays = {name: np.array(array) for name, array in unpacked.arrays.items()}
    arrays["conversation"][0] = len(unpacked.names["conversations"])
    return digests.pack(arrays, unpacked.names)


async def test_truncating_a_source_table_drops_its_digests(database: Database) -> None:
    if not database.is_postgres:
        pytest.skip("SQLite has no TRUNCATE (its DELETE runs the row triggers)")
    desk, _, _ = await play_desk_day(database)
    await _digest_all(database, desk.workspace_id)
    async with database.session() as session:
        await session.execute(text("TRUNCATE conversation_metric_events"))
    async with database.session() as session:
        query = select(func.count()).where(DayDigest.source == "support")
        assert (await session.execute(query)).scalar_one() == 0
