"""The demo workspace's assistant: on for the chat widget, a custom intent of the shop's own
(gift wrapping), and a demo customer with two orders (one shipped, one not) to ask about,
cancel, or return (safe to run again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.assistant.custom_intents import custom_intents
from rapport.assistant.schemas import AssistantSettingsUpdate, CustomIntentWrite
from rapport.assistant.service import assistant
from rapport.core.clock import utcnow
from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.events.enums import OrderStatus
from rapport.events.order_actions import order_actions
from rapport.events.orders import ItemInput, OrderInput, orders
from rapport.identity.audit import SYSTEM
from rapport.support.enums import Channel

DEMO_CUSTOMER_EMAIL = "ana@demo.example.com"
DEMO_USER_ID = "demo-customer-1"  # the signed-in customer of /demo/shop


@dataclass(frozen=True)
class DemoOrder:
    """A sample order of the demo customer."""

    order_key: str
    days_ago: int
    shipped: bool
    item: str


DEMO_ORDERS = (
    DemoOrder("1001", 4, True, "Linen shirt"),
    DemoOrder("1002", 0, False, "Canvas tote bag"),
)
DEMO_INTENT = CustomIntentWrite(
    name="gift_wrap",
    examples=[
        "Can you gift wrap my order?",
        "Do you offer gift wrapping?",
        "Is gift wrap available?",
        "Can I add a gift message?",
        "Could you wrap it as a present?",
        "I'd like it wrapped for a birthday",
        "Pouvez-vous faire un paquet cadeau ?",
    ],
    answer='Yes! Tick "Gift wrap" at checkout: it is free, and we add a card with your message.',
    translations={
        "fr": "Oui ! Cochez « Paquet cadeau » au moment de payer : c'est gratuit, et nous "
        "ajoutons une carte avec votre message."
    },
)


async def seed_demo(session: AsyncSession, workspace_id: str) -> list[DemoOrder]:
    """Turn the assistant on for chat (unless set already), add the gift-wrap intent (unless
    the workspace has custom intents) and the demo customer's orders."""
    # First: its examples are embedded before the unit of work writes.
    if not (await custom_intents.listed(session, workspace_id)).items:
        await custom_intents.create(session, workspace_id, DEMO_INTENT, SYSTEM)
    stored = await assistant.all_settings(session, workspace_id)
    if not any(item.updated_at is not None for item in stored.items):
        body = AssistantSettingsUpdate(enabled=True, name="Rapport Assistant")
        await assistant.configure(session, workspace_id, Channel.chat, body, SYSTEM)
    signal = IdentitySignal(
        identifiers=[Observed("user_id", DEMO_USER_ID), Observed("email", DEMO_CUSTOMER_EMAIL)],
        at=utcnow(), channel="web", source="demo", trusted=True, traits={"name": "Ana Demo"},
    )  # fmt: skip
    customer_id = await customers.observe(session, workspace_id, signal)
    for sample in DEMO_ORDERS:
        await _order(session, workspace_id, customer_id, sample)
    if customer_id is not None:  # her profile's orders, revenue and last order, as she has
        await orders.refresh_customer(session, workspace_id, customer_id)
    return list(DEMO_ORDERS)


async def _order(
    session: AsyncSession, workspace_id: str, customer_id: str | None, sample: DemoOrder
) -> None:
    facts = await order_actions.visible_to(
        session, workspace_id, sample.order_key, customer_id=customer_id, email=None
    )
    if facts is not None:
        return  # placed by an earlier run (perhaps cancelled since: leave it so)
    data = OrderInput(
        order_key=sample.order_key, status=OrderStatus.completed, origin="event", channel="web",
        placed_at=utcnow() - timedelta(days=sample.days_ago), customer_id=customer_id,
        currency="EUR", total=Decimal("49.00"),
        items=[ItemInput(product_key=sample.item.lower().replace(" ", "-"), name=sample.item,
                         price=Decimal("49.00"))],
    )  # fmt: skip
    await orders.apply(session, workspace_id, data)
    if sample.shipped:
        await order_actions.mark_shipped(session, workspace_id, sample.order_key)
