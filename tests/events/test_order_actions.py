"""Order after-sales operations: cancel before shipping, address before dispatch (sealed),
a return once after shipping, the invoice email; who may see an order."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rapport.core.crypto import keyring
from rapport.core.db import Database
from rapport.events.models import Order
from rapport.events.order_actions import OrderActionRefused, address_aad, order_actions
from tests.fixtures.assistant import make_buyer, make_order
from tests.fixtures.identity import make_workspace


async def _order(database: Database, order_key: str) -> Order:
    async with database.session() as session:
        return (
            await session.execute(select(Order).where(Order.order_key == order_key))
        ).scalar_one()


async def test_a_shipped_order_cannot_be_cancelled(database: Database) -> None:
    workspace = await make_workspace(database)
    order_key = await make_order(
        database,
        workspace.id,
        await make_buyer(database, workspace.id, "a@example.com"),
        shipped=True,
    )
    with pytest.raises(OrderActionRefused, match="has shipped"):
        async with database.session() as session:
            await order_actions.cancel(session, workspace.id, order_key)
    assert (await _order(database, order_key)).status == "completed"


async def test_the_new_address_is_sealed_to_the_order(database: Database) -> None:
    workspace = await make_workspace(database)
    order_key = await make_order(
        database, workspace.id, await make_buyer(database, workspace.id, "a@example.com")
    )
    async with database.session() as session:
        await order_actions.change_address(session, workspace.id, order_key, " 1 Main  St,\nParis ")
    order = await _order(database, order_key)
    assert order.shipping_address is not None and b"Main" not in order.shipping_address
    assert keyring().decrypt(order.shipping_address, address_aad(order.id)) == "1 Main St, Paris"


async def test_a_return_needs_a_shipped_order_and_is_requested_once(database: Database) -> None:
    workspace = await make_workspace(database)
    buyer = await make_buyer(database, workspace.id, "a@example.com")
    unshipped = await make_order(database, workspace.id, buyer)
    shipped = await make_order(database, workspace.id, buyer, shipped=True)
    with pytest.raises(OrderActionRefused, match="Only a shipped order"):
        async with database.session() as session:
            await order_actions.request_return(session, workspace.id, unshipped)
    async with database.session() as session:
        facts = await order_actions.request_return(session, workspace.id, shipped)
    assert facts.return_requested is True
    with pytest.raises(OrderActionRefused, match="already requested"):
        async with database.session() as session:
            await order_actions.request_return(session, workspace.id, shipped)


@pytest.mark.parametrize(
    ("given", "visible"),
    [
        ("owner", True),
        ("owner email", True),
        ("OWNER@Example.com", True),
        ("other email", False),
        ("other customer", False),
        ("nothing", False),
    ],
)
async def test_only_the_owner_may_see_an_order(
    database: Database, given: str, visible: bool
) -> None:
    workspace = await make_workspace(database)
    owner = await make_buyer(database, workspace.id, "owner@example.com")
    other = await make_buyer(database, workspace.id, "other@example.com")
    order_key = await make_order(database, workspace.id, owner)
    customer_id = {"owner": owner, "other customer": other}.get(given)
    email = {"owner email": "owner@example.com", "other email": "other@example.com"}.get(
        given, given if "@" in given else None
    )
    async with database.session() as session:
        found = await order_actions.visible_to(
            session, workspace.id, order_key, customer_id=customer_id, email=email
        )
    assert (found is not None) == visible


async def test_an_order_of_another_workspace_is_not_found(database: Database) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    order_key = await make_order(
        database, theirs.id, await make_buyer(database, theirs.id, "a@example.com")
    )
    async with database.session() as session:
        found = await order_actions.visible_to(
            session, mine.id, order_key, customer_id=None, email="a@example.com"
        )
    assert found is None
