"""Shopify-style `orders/create` webhooks, verified by their HMAC header."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.events.enums import Channel, OrderOrigin, OrderStatus
from rapport.events.errors import InvalidSignature, InvalidWriteKey, MalformedRequest
from rapport.events.orders import MAX_QUANTITY, ItemInput, OrderInput, money, orders, text
from rapport.events.shapes import AMOUNT, ARRAY, ID, NUMBER, OBJECT, TEXT, Shape, check
from rapport.events.wire import MAX_BATCH_BYTES, load_object, time_field
from rapport.identity.keys import sources

SHOPIFY_SOURCE = "shopify"
# The fields of Shopify's order payload that Rapport reads, by JSON type.
ORDER_SHAPE = Shape(
    {
        "id": ID, "name": TEXT, "email": TEXT, "phone": TEXT, "created_at": TEXT,
        "currency": TEXT, "total_price": AMOUNT, "total_tax": AMOUNT,
        "total_discounts": AMOUNT, "customer": OBJECT, "line_items": ARRAY,
    },
    objects={
        "customer": Shape(
            {"id": ID, "email": TEXT, "phone": TEXT, "first_name": TEXT, "last_name": TEXT}
        )
    },
    arrays={
        "line_items": Shape(
            {"product_id": ID, "sku": ID, "title": TEXT, "quantity": NUMBER, "price": AMOUNT}
        )
    },
)  # fmt: skip


@dataclass(frozen=True)
class ShopOrder:
    """A verified `orders/create` webhook, read and checked, ready to be recorded."""

    workspace_id: str
    signal: IdentitySignal
    order: OrderInput


def signature(secret: str, body: bytes) -> str:
    """Return Shopify's X-Shopify-Hmac-Sha256 value for a body: base64(HMAC-SHA256)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def read_order(workspace_id: str, body: bytes) -> ShopOrder:
    """Read and check an order payload (pure CPU work: no session is open meanwhile)."""
    if len(body) > MAX_BATCH_BYTES:
        raise MalformedRequest("The order is too large.")
    order = load_object(body)
    try:
        check(order, ORDER_SHAPE)
        at = time_field(order, "created_at") or utcnow()
        items = _items(order)
    except ValueError as error:
        raise MalformedRequest(str(error)) from error
    key = text(order.get("id")) or text(order.get("name"))
    if key is None:
        raise MalformedRequest("The order has no `id`.")
    placed = OrderInput(
        order_key=key,
        status=OrderStatus.completed,
        origin=str(OrderOrigin.shopify),
        channel=str(Channel.web),
        placed_at=at,
        currency=(text(order.get("currency"), 3) or "USD").upper(),
        total=money(order.get("total_price")),
        discount=money(order.get("total_discounts")),
        tax=money(order.get("total_tax")),
        items=items,
    )
    return ShopOrder(workspace_id, _signal(order, at), placed)


def _signal(order: dict[str, Any], at: datetime) -> IdentitySignal:
    buyer = order.get("customer") or {}
    identifiers = [Observed("email", text(order.get("email") or buyer.get("email")) or "")]
    identifiers.append(Observed("phone", text(order.get("phone") or buyer.get("phone")) or ""))
    if (buyer_id := text(buyer.get("id"))) is not None:
        identifiers.append(Observed("external:shopify_customer", buyer_id))
    traits = {
        key: value
        for key in ("first_name", "last_name", "email", "phone")
        if (value := text(buyer.get(key), 500))
    }
    return IdentitySignal(
        identifiers=identifiers,
        at=at,
        channel=str(Channel.web),
        source=SHOPIFY_SOURCE,
        traits=traits,
    )


def _items(order: dict[str, Any]) -> list[ItemInput]:
    items = []
    for index, line in enumerate(order.get("line_items") or []):
        key = text(line.get("product_id")) or text(line.get("sku"))
        if key is None:
            continue
        quantity = 1 if line.get("quantity") is None else line["quantity"]
        if type(quantity) is not int or not 0 < quantity <= MAX_QUANTITY:
            raise ValueError(
                f"`line_items[{index}].quantity` must be a whole number from 1 to {MAX_QUANTITY}"
            )
        items.append(
            ItemInput(
                product_key=key,
                sku=text(line.get("sku")),
                name=text(line.get("title"), 500),
                quantity=quantity,
                price=money(line.get("price")),
            )
        )
    return items


class ShopifyService:
    async def verify(
        self, database: Database, write_key: str, body: bytes, given: str
    ) -> ShopOrder:
        """Check a webhook's signature and read its order; only the look-up of the source's
        secret opens a unit of work, and it is closed before the body is checked."""
        async with database.session() as session:
            source = await sources.by_write_key(session, write_key)
            if source is None:
                raise InvalidWriteKey("Unknown write key, or its source is disabled.")
            secret = await sources.webhook_secret(session, source.workspace_id, source.id)
        if secret is None or not hmac.compare_digest(
            signature(secret, body).encode(), given.encode()
        ):
            raise InvalidSignature("X-Shopify-Hmac-Sha256 does not match the body.")
        return read_order(source.workspace_id, body)

    async def record(self, session: AsyncSession, shop_order: ShopOrder) -> str:
        """Record a verified order for its customer; return Rapport's order id."""
        workspace_id = shop_order.workspace_id
        customer_id = await customers.observe(session, workspace_id, shop_order.signal)
        order = replace(shop_order.order, customer_id=customer_id)
        saved = await orders.apply(session, workspace_id, order)
        if customer_id is not None:
            await orders.refresh_customer(session, workspace_id, customer_id)
        return saved.id


shopify = ShopifyService()
