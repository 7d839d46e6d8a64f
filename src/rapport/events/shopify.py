"""Shopify-style webhooks, verified by their HMAC header: `orders/create` (recorded here) and
`products/update` and `products/delete` (read here; the knowledge domain keeps the product's
fact sheet)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
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


# The fields of Shopify's product payload that Rapport reads, by JSON type.
PRODUCT_SHAPE = Shape(
    {
        "id": ID, "title": TEXT, "body_html": TEXT, "product_type": TEXT, "vendor": TEXT,
        "options": ARRAY, "variants": ARRAY, "updated_at": TEXT,
    },
    arrays={
        "options": Shape({"name": TEXT, "values": ARRAY}),
        "variants": Shape({"sku": ID, "price": AMOUNT}),
    },
)  # fmt: skip


@dataclass(frozen=True)
class ShopProduct:
    """A verified `products/update` webhook, read and checked: what a fact sheet is made of."""

    workspace_id: str
    product_key: str
    title: str
    body_html: str
    product_type: str
    vendor: str
    options: list[tuple[str, list[str]]]
    skus: list[str]
    prices: list[Decimal]
    # When the store last changed it (deliveries can come late or twice: an older one loses).
    updated_at: datetime | None = None


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


def read_product(workspace_id: str, body: bytes) -> ShopProduct:
    """Read and check a product payload (pure CPU work: no session is open meanwhile)."""
    product = load_object(body)
    try:
        check(product, PRODUCT_SHAPE)
    except ValueError as error:
        raise MalformedRequest(str(error)) from error
    key = text(product.get("id"))
    if key is None:
        raise MalformedRequest("The product has no `id`.")
    try:
        updated_at = time_field(product, "updated_at")
    except ValueError as error:
        raise MalformedRequest(str(error)) from error
    options = []
    for option in product.get("options") or []:
        values = [text(value, 500) for value in option.get("values") or []]
        options.append((text(option.get("name")) or "", [v for v in values if v is not None]))
    variants = product.get("variants") or []
    return ShopProduct(
        workspace_id=workspace_id,
        product_key=key,
        title=text(product.get("title"), 1_000) or "",
        body_html=str(product.get("body_html") or "").replace("\x00", ""),
        product_type=text(product.get("product_type")) or "",
        vendor=text(product.get("vendor")) or "",
        options=options,
        skus=[sku for v in variants if (sku := text(v.get("sku"))) is not None],
        prices=[price for v in variants if (price := _price(v.get("price"))) is not None],
        updated_at=updated_at,
    )


def _price(value: Any) -> Decimal | None:
    """Read a variant's price; an unreadable one is no price (not a price of 0)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        readable = Decimal(str(value)).is_finite()
    except (InvalidOperation, ValueError):
        return None
    return money(value) if readable else None


def read_product_key(body: bytes) -> str:
    """Read the product id of a `products/delete` payload."""
    key = text(load_object(body).get("id"))
    if key is None:
        raise MalformedRequest("The product has no `id`.")
    return key


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
        """Check an order webhook's signature and read its order."""
        return read_order(await self.verified(database, write_key, body, given), body)

    async def verified(self, database: Database, write_key: str, body: bytes, given: str) -> str:
        """Check a webhook's signature; return its source's workspace. Only the look-up of
        the source's secret opens a unit of work, and it is closed before the body is checked."""
        async with database.session() as session:
            source = await sources.by_write_key(session, write_key)
            if source is None:
                raise InvalidWriteKey("Unknown write key, or its source is disabled.")
            secret = await sources.webhook_secret(session, source.workspace_id, source.id)
        if secret is None or not hmac.compare_digest(
            signature(secret, body).encode(), given.encode()
        ):
            raise InvalidSignature("X-Shopify-Hmac-Sha256 does not match the body.")
        return source.workspace_id

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
