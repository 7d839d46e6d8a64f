"""Undoing a merge gives the winner back its own traits; staff merges and undos are audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from rapport.config import Settings
from rapport.core.db import Database
from rapport.customers.merges import merges
from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.identity.audit import audit
from rapport.identity.models import AuditEvent
from tests.events.test_cli import rapport
from tests.fixtures.customers import Shop, make_shop
from tests.fixtures.events import identify, process_all
from tests.fixtures.identity import bearer, make_api_key

MARCH = datetime(2026, 3, 1, tzinfo=UTC)


def day(number: int) -> datetime:
    """Return a moment on the given day of March 2026."""
    return MARCH.replace(day=number)


async def observe(shop: Shop, user_id: str, at: datetime, **traits: Any) -> str:
    """Tell the graph what a user's own event says about them; return their profile."""
    signal = IdentitySignal(
        identifiers=[Observed("user_id", user_id)],
        at=at,
        channel="web",
        source="web",
        traits=traits,
    )
    async with shop.database.session() as session:
        customer_id = await customers.observe(session, shop.workspace.id, signal)
    assert customer_id is not None
    return customer_id


async def merge(shop: Shop, winner_id: str, loser_id: str) -> str:
    """Merge two profiles as staff would; return the merge id."""
    async with shop.database.session() as session:
        done = await merges.merge(
            session,
            shop.workspace.id,
            winner_id=winner_id,
            loser_id=loser_id,
            reason="staff",
            actor="test",
        )
    return done.id


async def unmerge(shop: Shop, merge_id: str) -> None:
    """Undo a merge."""
    async with shop.database.session() as session:
        await merges.unmerge(session, shop.workspace.id, merge_id, "test")


async def traits_of(shop: Shop, customer_id: str) -> dict[str, Any]:
    """Return a profile's trait values."""
    async with shop.database.session() as session:
        profile = await customers.get(session, shop.workspace.id, customer_id)
    return {name: trait.value for name, trait in profile.traits.items()}


async def audit_rows(database: Database, action: str) -> list[AuditEvent]:
    """Return the audit records of one action, oldest first."""
    async with database.session() as session:
        rows = await session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
        return list(rows.scalars())


async def test_undo_gives_the_winner_back_the_traits_the_merge_replaced(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    winner = await observe(shop, "win", day(1), plan="free", city="Oslo")
    loser = await observe(shop, "lose", day(2), plan="gold", name="Lena Loser")
    merge_id = await merge(shop, winner, loser)
    assert await traits_of(shop, winner) == {"plan": "gold", "city": "Oslo", "name": "Lena Loser"}
    await unmerge(shop, merge_id)
    assert await traits_of(shop, winner) == {"plan": "free", "city": "Oslo"}
    assert await traits_of(shop, loser) == {"plan": "gold", "name": "Lena Loser"}
    assert await shop.find("Lena Loser") == [loser]


async def test_undo_keeps_what_the_winner_was_told_after_the_merge(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    winner = await observe(shop, "win", day(1), plan="free", city="Oslo")
    loser = await observe(shop, "lose", day(2), plan="gold", city="Rome")
    merge_id = await merge(shop, winner, loser)
    await observe(shop, "win", day(5), plan="platinum")
    await unmerge(shop, merge_id)
    assert await traits_of(shop, winner) == {"plan": "platinum", "city": "Oslo"}


async def test_undo_keeps_the_winners_value_when_it_was_newer(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    loser = await observe(shop, "lose", day(1), plan="gold")
    winner = await observe(shop, "win", day(2), plan="free")
    merge_id = await merge(shop, winner, loser)
    assert await traits_of(shop, winner) == {"plan": "free"}
    await unmerge(shop, merge_id)
    assert await traits_of(shop, winner) == {"plan": "free"}


async def test_undoing_an_earlier_merge_first_still_ends_with_the_winners_own_value(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    winner = await observe(shop, "win", day(1), plan="free")
    first = await observe(shop, "first", day(2), plan="silver")
    second = await observe(shop, "second", day(3), plan="gold")
    first_merge = await merge(shop, winner, first)
    second_merge = await merge(shop, winner, second)
    await unmerge(shop, first_merge)
    assert await traits_of(shop, winner) == {"plan": "gold"}
    await unmerge(shop, second_merge)
    assert await traits_of(shop, winner) == {"plan": "free"}


async def test_what_a_merge_replaced_is_stored_sealed(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    winner = await observe(shop, "win", day(1), name="Wanda Winner")
    loser = await observe(shop, "lose", day(2), name="Lena Loser")
    merge_id = await merge(shop, winner, loser)
    async with database.session() as session:
        [row] = await merges.history(session, shop.workspace.id, loser)
    assert row.id == merge_id
    assert row.trait_changes is not None
    assert b"Wanda" not in row.trait_changes and b"Lena" not in row.trait_changes


async def test_an_api_merge_and_its_undo_are_audited_without_personal_data(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    winner = await observe(shop, "win", day(1), email="wanda@example.com")
    loser = await observe(shop, "lose", day(2), email="lena@example.com", name="Lena Loser")
    headers = bearer(await make_api_key(database, shop.workspace))
    created = await client.post(
        "/api/v1/customer-merges", json={"winner_id": winner, "loser_id": loser}, headers=headers
    )
    merge_id = created.json()["id"]
    await client.post(f"/api/v1/customer-merges/{merge_id}/undo", headers=headers)
    [merged] = await audit_rows(database, "customer.merged")
    [unmerged] = await audit_rows(database, "customer.unmerged")
    actor = created.json()["actor"].split(":", 1)[1]
    assert [
        (row.workspace_id, str(row.actor_type), row.actor_id, row.target_type, row.target_id)
        for row in (merged, unmerged)
    ] == [(shop.workspace.id, "api_key", actor, "customer", winner)] * 2
    assert merged.details == {
        "merge_id": merge_id,
        "loser_id": loser,
        "identifiers_moved": 1,
        "traits_taken": 2,
    }
    assert unmerged.details == {
        "merge_id": merge_id,
        "loser_id": loser,
        "identifiers_returned": 1,
        "traits_restored": 2,
    }
    written = orjson.dumps([merged.details, unmerged.details]).decode()
    assert "example.com" not in written and "Lena" not in written
    async with database.session() as session:
        assert (await audit.verify(session)).first_broken_seq is None


async def test_a_merge_the_graph_makes_on_its_own_is_not_audited(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="old-id"), identify(userId="new-id"))
    secret = await make_api_key(database, shop.workspace)
    await shop.send(
        {"type": "alias", "previousId": "old-id", "userId": "new-id", "messageId": "al-9"},
        headers=bearer(secret),
    )
    await process_all(database)
    assert await shop.find("old-id") == await shop.find("new-id")
    assert await audit_rows(database, "customer.merged") == []


async def test_a_cli_merge_and_unmerge_are_audited_as_the_command_line(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    shop = await make_shop(client, database)
    winner = await observe(shop, "win", day(1), plan="free")
    loser = await observe(shop, "lose", day(2), plan="gold")
    where = ("--workspace", shop.workspace.slug)
    merge_id = rapport(settings, "customers", "merge", winner, loser, *where)[-1]
    assert rapport(settings, "customers", "unmerge", merge_id, *where) == [
        f"unmerged {loser} from {winner}"
    ]
    rows = [
        *await audit_rows(database, "customer.merged"),
        *await audit_rows(database, "customer.unmerged"),
    ]
    assert [(str(row.actor_type), row.actor_id, row.workspace_id) for row in rows] == [
        ("system", "cli", shop.workspace.id)
    ] * 2
    assert [row.details["merge_id"] for row in rows] == [merge_id, merge_id]
    assert await traits_of(shop, winner) == {"plan": "free"}
