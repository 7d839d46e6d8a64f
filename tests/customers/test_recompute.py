"""A merge and its undo recompute both profiles in their own transaction: order totals and
activity are right as soon as they commit, with no job left to finish them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from rapport.core.db import Database
from rapport.core.jobs import Job
from rapport.customers.merges import merges
from tests.fixtures.customers import Shop, make_shop
from tests.fixtures.events import track


def order(user_id: str, day: int, order_key: str, total: int, channel: str) -> dict[str, Any]:
    """Return an Order Completed call of a signed-in user on a day of May 2026."""
    return track(
        "Order Completed",
        userId=user_id,
        timestamp=f"2026-05-{day:02d}T12:00:00+00:00",
        properties={"order_id": order_key, "total": total},
        context={"library": {"name": channel}},
    )


async def state(shop: Shop, query: str) -> tuple[int, Decimal, str, str, list[str]]:
    """Return a profile's orders, revenue, first and last seen, and channels."""
    profile = await shop.profile(query)
    return (
        profile.orders_count,
        profile.revenue,
        str(profile.first_seen_at),
        str(profile.last_seen_at),
        profile.channels,
    )


async def queued(database: Database) -> list[str]:
    """Return the names of the jobs waiting to run."""
    async with database.session() as session:
        rows = await session.execute(select(Job.name).where(Job.status == "queued"))
        return sorted(str(row[0]) for row in rows)


async def test_a_merge_and_its_undo_leave_both_profiles_recomputed_at_commit(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(order("ann", 1, "A-1", 10, "web"))
    await shop.send(order("bob", 5, "B-1", 5, "web"))
    [ann], [bob] = await shop.find("ann"), await shop.find("bob")
    before = await state(shop, "bob")

    async with database.session() as session:
        done = await merges.merge(
            session, shop.workspace.id, winner_id=ann, loser_id=bob, reason="staff", actor="test"
        )
    assert await state(shop, "ann") == (
        2,
        Decimal("15.00"),
        "2026-05-01 12:00:00+00:00",
        "2026-05-05 12:00:00+00:00",
        before[4],
    )
    async with database.session() as session:
        await merges.unmerge(session, shop.workspace.id, done.id, "test")

    assert await state(shop, "ann") == (
        1,
        Decimal("10.00"),
        "2026-05-01 12:00:00+00:00",
        "2026-05-01 12:00:00+00:00",
        before[4],
    )
    assert await state(shop, "bob") == before
    assert "events.refresh_merged_customers" not in await queued(database)
