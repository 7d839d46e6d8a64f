"""After-sales operations on an order: who may see it, cancel before shipping, change the
address before dispatch, request a return, its invoice as an email."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc, utcnow
from rapport.core.crypto import keyring
from rapport.core.outbox import publish
from rapport.customers.errors import CustomerNotFound
from rapport.customers.service import customers
from rapport.errors import Conflict
from rapport.events.enums import OrderStatus
from rapport.events.events import ORDER_FULFILLED
from rapport.events.models import Order
from rapport.events.order_repository import OrderRepository

UNFULFILLED = "unfulfilled"
SHIPPED = "shipped"
DELIVERED = "delivered"
FULFILLMENT_STATUSES = (UNFULFILLED, SHIPPED, DELIVERED)
MAX_ADDRESS = 300
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


class OrderActionRefused(Conflict):
    """The order's state does not allow this (shipped, cancelled, already requested)."""


@dataclass(frozen=True)
class OrderFacts:
    """What a customer may be told about their own order."""

    order_key: str
    status: str
    fulfillment_status: str
    total: Decimal
    currency: str
    placed_at: datetime
    shipped_at: datetime | None
    return_requested: bool


def address_aad(order_id: str) -> str:
    """Return the associated data that binds a sealed shipping address to its order."""
    return f"orders.shipping_address:{order_id}"


class OrderActions:
    async def visible_to(
        self,
        session: AsyncSession,
        workspace_id: str,
        order_key: str,
        *,
        customer_id: str | None,
        email: str | None,
    ) -> OrderFacts | None:
        """Return the order if this customer may see it: their profile placed it, or the
        email given is that of the profile that placed it; otherwise None (never a hint)."""
        order = await OrderRepository(session, workspace_id).by_key(order_key)
        if order is None or order.customer_id is None:
            return None
        if await self._owns(session, workspace_id, order.customer_id, customer_id, email):
            return _facts(order)
        return None

    async def mark_shipped(
        self, session: AsyncSession, workspace_id: str, order_key: str, *, delivered: bool = False
    ) -> OrderFacts:
        """Record that the shop shipped (or delivered) an order."""
        order = await self._locked(session, workspace_id, order_key)
        previous = order.fulfillment_status
        order.fulfillment_status = DELIVERED if delivered else SHIPPED
        order.shipped_at = order.shipped_at or utcnow()
        order.updated_at = utcnow()
        if order.fulfillment_status != previous:
            publish(
                session, ORDER_FULFILLED, workspace_id=workspace_id, order_id=order.id,
                customer_id=order.customer_id, fulfillment_status=order.fulfillment_status,
                origin=order.origin,
            )  # fmt: skip
        return _facts(order)

    async def cancel(self, session: AsyncSession, workspace_id: str, order_key: str) -> OrderFacts:
        """Cancel an order that has not shipped."""
        order = await self._locked(session, workspace_id, order_key)
        if order.status == OrderStatus.cancelled:
            raise OrderActionRefused("The order is already cancelled.")
        if order.fulfillment_status != UNFULFILLED:
            raise OrderActionRefused("The order has shipped; ask for a return instead.")
        order.status, order.updated_at = str(OrderStatus.cancelled), utcnow()
        return _facts(order)

    async def change_address(
        self, session: AsyncSession, workspace_id: str, order_key: str, address: str
    ) -> OrderFacts:
        """Replace the shipping address of an order not dispatched yet (sealed at rest)."""
        order = await self._locked(session, workspace_id, order_key)
        if order.status == OrderStatus.cancelled or order.fulfillment_status != UNFULFILLED:
            raise OrderActionRefused("The order has been dispatched or cancelled.")
        cleaned = " ".join(address.split())[:MAX_ADDRESS]
        order.shipping_address = keyring().encrypt(cleaned, address_aad(order.id))
        order.updated_at = utcnow()
        return _facts(order)

    async def request_return(
        self, session: AsyncSession, workspace_id: str, order_key: str
    ) -> OrderFacts:
        """Record a return and refund request for a shipped order (once)."""
        order = await self._locked(session, workspace_id, order_key)
        if order.fulfillment_status == UNFULFILLED or order.status == OrderStatus.cancelled:
            raise OrderActionRefused("Only a shipped order can be returned; cancel it instead.")
        if order.return_requested_at is not None:
            raise OrderActionRefused("A return is already requested for this order.")
        order.return_requested_at = order.updated_at = utcnow()
        return _facts(order)

    async def invoice(
        self, session: AsyncSession, workspace_id: str, order_key: str, email: str
    ) -> EmailMessage:
        """Return the order's invoice as an email to `email` (the caller verified it and
        queues it with messaging, which sits above this layer)."""
        if not _EMAIL.match(email):
            raise OrderActionRefused("That does not look like an email address.")
        order = await self._locked(session, workspace_id, order_key)
        if order.status == OrderStatus.cancelled:
            raise OrderActionRefused("The order is cancelled; it has no invoice.")
        message = EmailMessage()
        message["To"] = email
        message["Subject"] = f"Your invoice for order {order.order_key}"
        message.set_content(_invoice_text(order))
        return message

    async def _locked(self, session: AsyncSession, workspace_id: str, order_key: str) -> Order:
        found = await OrderRepository(session, workspace_id).by_keys([order_key])
        if order_key not in found:
            raise OrderActionRefused("No such order.")
        return found[order_key]

    async def _owns(
        self,
        session: AsyncSession,
        workspace_id: str,
        owner_id: str,
        customer_id: str | None,
        email: str | None,
    ) -> bool:
        if customer_id is not None and owner_id in await _group(session, workspace_id, customer_id):
            return True
        if email is None or not _EMAIL.match(email):
            return False
        for candidate in await customers.search(session, workspace_id, email.strip().lower()):
            if owner_id in await _group(session, workspace_id, candidate):
                return True
        return False


async def _group(session: AsyncSession, workspace_id: str, customer_id: str) -> list[str]:
    try:
        return await customers.group_ids(session, workspace_id, customer_id)
    except CustomerNotFound:  # a profile gone since: it owns nothing
        return []


def _facts(order: Order) -> OrderFacts:
    return OrderFacts(
        order_key=order.order_key,
        status=order.status,
        fulfillment_status=order.fulfillment_status or UNFULFILLED,
        total=Decimal(order.total or 0),
        currency=order.currency,
        placed_at=as_utc(order.placed_at),
        shipped_at=None if order.shipped_at is None else as_utc(order.shipped_at),
        return_requested=order.return_requested_at is not None,
    )


def _invoice_text(order: Order) -> str:
    placed = as_utc(order.placed_at).date().isoformat()
    return (
        f"Order {order.order_key}, placed {placed}\n"
        f"Total: {Decimal(order.total or 0):.2f} {order.currency}\n"
        f"Tax: {Decimal(order.tax or 0):.2f} {order.currency}\n"
    )


order_actions = OrderActions()
