"""Shopify-style `orders/create` webhooks, verified by their HMAC header."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.events.enums import Channel, OrderOrigin, OrderStatus
from rapport.events.errors import InvalidSignature, MalformedRequest
from rapport.events.ingest import authenticate
from rapport.events.orders import ItemInput, OrderInput, money, orders, text
from rapport.events.wire import MAX_BATCH_BYTES, load_object
from rapport.identity.keys import sources

SHOPIFY_SOURCE = "shopify"


def signature(secret: str, body: bytes) -> str:
    """Return Shopify's X-Shopify-Hmac-Sha256 value for a body: base64(HMAC-SHA256)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return utcnow()
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _signal(order: dict[str, Any], at: datetime) -> IdentitySignal:
    buyer = order.get("customer") if isinstance(order.get("customer"), dict) else {}
    assert isinstance(buyer, dict)
    identifiers = [Observed("email", str(order.get("email") or buyer.get("email") or ""))]
    identifiers.append(Observed("phone", str(order.get("phone") or buyer.get("phone") or "")))
    if buyer.get("id") is not None:
        identifiers.append(Observed("external:shopify_customer", str(buyer["id"])))
    traits = {
        key: buyer[key] for key in ("first_name", "last_name", "email", "phone") if buyer.get(key)
    }
    return IdentitySignal(
        identifiers=identifiers,
        at=at,
        channel=str(Channel.web),
        source=SHOPIFY_SOURCE,
        traits=traits,
    )


def _items(order: dict[str, Any]) -> list[ItemInput]:
    lines = order.get("line_items")
    items = []
    for line in lines if isinstance(lines, list) else []:
        if isinstance(line, dict) and (
            key := text(line.get("product_id")) or text(line.get("sku"))
        ):
            quantity = line.get("quantity")
            items.append(
                ItemInput(
                    product_key=key,
                    sku=text(line.get("sku")),
                    name=text(line.get("title"), 500),
                    quantity=quantity if isinstance(quantity, int) else 1,
                    price=money(line.get("price")),
                )
            )
    return items


class ShopifyService:
    async def order_created(
        self, session: AsyncSession, write_key: str, body: bytes, given: str
    ) -> str:
        """Verify and record an `orders/create` webhook; return Rapport's order id."""
        sender = await authenticate(session, write_key, None)
        secret = None
        if sender.source_id is not None:
            secret = await sources.webhook_secret(session, sender.workspace_id, sender.source_id)
        if secret is None or not hmac.compare_digest(
            signature(secret, body).encode(), given.encode()
        ):
            raise InvalidSignature("X-Shopify-Hmac-Sha256 does not match the body.")
        if len(body) > MAX_BATCH_BYTES:
            raise MalformedRequest("The order is too large.")
        order = load_object(body)
        key = text(order.get("id")) or text(order.get("name"))
        if key is None:
            raise MalformedRequest("The order has no `id`.")
        at = _time(order.get("created_at"))
        customer_id = await customers.observe(session, sender.workspace_id, _signal(order, at))
        saved = await orders.apply(
            session,
            sender.workspace_id,
            OrderInput(
                order_key=key,
                status=OrderStatus.completed,
                origin=str(OrderOrigin.shopify),
                channel=str(Channel.web),
                placed_at=at,
                customer_id=customer_id,
                currency=(text(order.get("currency"), 3) or "USD").upper(),
                total=money(order.get("total_price")),
                discount=money(order.get("total_discounts")),
                tax=money(order.get("total_tax")),
                items=_items(order),
            ),
        )
        if customer_id is not None:
            await orders.refresh_customer(session, sender.workspace_id, customer_id)
        return saved.id


shopify = ShopifyService()
