"""Address change, return and invoice through the dialogue; a failed action hands off."""

from __future__ import annotations

from sqlalchemy import func, select

from rapport.core.crypto import keyring
from rapport.core.db import Database
from rapport.events.models import Order
from rapport.events.order_actions import address_aad, order_actions
from rapport.messaging.models import OutboundEmail
from rapport.worker.runner import Worker
from tests.fixtures.assistant import (
    conversation_row,
    enable_assistant,
    make_buyer,
    make_order,
    open_conversation,
    say,
    thread,
)
from tests.fixtures.identity import make_workspace


async def _setup(
    database: Database, first: str, shipped: bool = False
) -> tuple[str, str, str, str]:
    workspace = await make_workspace(database)
    await enable_assistant(database, workspace.id)
    buyer = await make_buyer(database, workspace.id, "ana@example.com")
    order_key = await make_order(database, workspace.id, buyer, shipped=shipped)
    conversation_id = await open_conversation(database, workspace.id, first, buyer)
    await Worker(database, concurrency=1).run_pending()
    return workspace.id, buyer, order_key, conversation_id


async def test_the_address_changes_after_yes(database: Database) -> None:
    workspace_id, _, order_key, conversation_id = await _setup(database, "change my address")
    await say(database, workspace_id, conversation_id, order_key)
    await say(database, workspace_id, conversation_id, "12 Rue de Rivoli, 75001 Paris")
    async with database.session() as session:
        before = (
            await session.execute(select(Order).where(Order.order_key == order_key))
        ).scalar_one()
    assert before.shipping_address is None
    await say(database, workspace_id, conversation_id, "Yes!")
    async with database.session() as session:
        order = (
            await session.execute(select(Order).where(Order.order_key == order_key))
        ).scalar_one()
    assert order.shipping_address is not None
    assert keyring().decrypt(order.shipping_address, address_aad(order.id)) == (
        "12 Rue de Rivoli, 75001 Paris"
    )


async def test_the_invoice_needs_the_orders_email_and_a_yes(database: Database) -> None:
    workspace_id, _, order_key, conversation_id = await _setup(
        database, "send me the invoice", shipped=True
    )
    await say(database, workspace_id, conversation_id, f"it's {order_key}")
    await say(database, workspace_id, conversation_id, "ana@example.com")
    async with database.session() as session:
        count = select(func.count()).select_from(OutboundEmail)
        assert (await session.execute(count)).scalar_one() == 0
    await say(database, workspace_id, conversation_id, "confirm")
    async with database.session() as session:
        purposes = (await session.execute(select(OutboundEmail.purpose))).scalars().all()
    assert list(purposes) == ["invoice"]


async def test_a_shipped_order_gets_a_return_not_a_cancellation(database: Database) -> None:
    workspace_id, _, order_key, conversation_id = await _setup(
        database, "cancel order", shipped=True
    )
    await say(database, workspace_id, conversation_id, order_key)
    assert (await thread(database, conversation_id))[-1][2] == (
        f"Order {order_key} has already shipped, so it can't be cancelled; I can start a return."
    )
    await say(database, workspace_id, conversation_id, "return it please")
    await say(database, workspace_id, conversation_id, "yes")
    async with database.session() as session:
        order = (
            await session.execute(select(Order).where(Order.order_key == order_key))
        ).scalar_one()
    assert order.return_requested_at is not None


async def test_an_action_that_fails_hands_off(database: Database) -> None:
    workspace_id, _, order_key, conversation_id = await _setup(database, "cancel my order")
    await say(database, workspace_id, conversation_id, order_key)
    async with database.session() as session:  # the shop ships it before the customer says yes
        await order_actions.mark_shipped(session, workspace_id, order_key)
    await say(database, workspace_id, conversation_id, "yes")
    conversation = await conversation_row(database, conversation_id)
    note = (await thread(database, conversation_id))[-1]
    assert conversation.status == "open"
    assert note[:2] == ("assistant", True)
    assert note[2].startswith(
        "Assistant handed this conversation off (action_failed): an action on the order failed."
    )
    assert note[2].endswith(f", English.\nIn hand: order {order_key}.")
