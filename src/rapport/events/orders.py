"""Orders and products from E-commerce v2 events, imports and shop webhooks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.ids import new_ids
from rapport.core.outbox import publish_many
from rapport.customers.service import customers
from rapport.events.enums import ORDER_EVENTS, OrderStatus
from rapport.events.events import ORDER_COMPLETED, ORDER_REFUNDED
from rapport.events.models import Order
from rapport.events.order_repository import (
    OrderRepository,
    ProductCount,
    ProductRepository,
    ProductRow,
)

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 12
MAX_QUANTITY = 1_000_000


def money(value: Any) -> Decimal:
    """Read an amount, whatever its JSON type; unreadable amounts count as 0."""
    if value is None or isinstance(value, bool):
        return Decimal(0)
    try:
        amount = Decimal(str(value))
        # NaN, infinities and amounts past Numeric(14, 2) would fail the insert later.
        if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
            return Decimal(0)
        return amount.quantize(CENT)
    except (InvalidOperation, ValueError):
        return Decimal(0)


def text(value: Any, length: int = 255) -> str | None:
    """Read an optional short string."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    cleaned = str(value).replace("\x00", "")[:length]
    return cleaned or None


@dataclass
class ItemInput:
    product_key: str
    sku: str | None = None
    name: str | None = None
    quantity: int = 1
    price: Decimal = Decimal(0)
    category: str | None = None


@dataclass
class OrderInput:
    order_key: str
    status: OrderStatus
    origin: str
    channel: str
    placed_at: datetime
    customer_id: str | None = None
    store_id: str | None = None
    currency: str = "USD"
    total: Decimal | None = None
    discount: Decimal = Decimal(0)
    shipping: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    refunded: Decimal | None = None
    items: list[ItemInput] = field(default_factory=list)


class _Draft:
    """A new order's columns, kept in memory until one INSERT writes a chunk's new orders."""

    def __init__(self, order_id: str, workspace_id: str, data: OrderInput) -> None:
        self.id, self.workspace_id, self.created_at = order_id, workspace_id, utcnow()
        self.order_key, self.status = data.order_key, str(data.status)
        self.origin, self.channel = data.origin, data.channel
        self.placed_at = self.updated_at = data.placed_at
        self.customer_id: str | None = None
        self.store_id: str | None = None
        self.currency = "USD"
        self.total = self.discount = self.shipping = self.tax = self.refunded = Decimal(0)


def items_of(products: Any) -> list[ItemInput]:
    """Read Segment's `products[]`."""
    items = []
    for product in products if isinstance(products, list) else []:
        if not isinstance(product, dict):
            continue
        key = text(product.get("product_id")) or text(product.get("sku"))
        if key is None:
            continue
        quantity = product.get("quantity", 1)
        items.append(
            ItemInput(
                product_key=key,
                sku=text(product.get("sku")),
                name=text(product.get("name"), 500),
                quantity=quantity
                if isinstance(quantity, int)
                and not isinstance(quantity, bool)
                and 0 < quantity <= MAX_QUANTITY
                else 1,
                price=money(product.get("price")),
                category=text(product.get("category")),
            )
        )
    return items


def order_from_event(
    name: str, properties: dict[str, Any], at: datetime, channel: str, customer_id: str | None
) -> OrderInput | None:
    """Read an E-commerce v2 order event; None when it names no order."""
    order_key = text(properties.get("order_id")) or text(properties.get("checkout_id"))
    if order_key is None:
        return None
    status = ORDER_EVENTS[name]
    amount = properties.get("total", properties.get("revenue"))
    return OrderInput(
        order_key=order_key,
        status=status,
        origin="event",
        channel=channel,
        placed_at=at,
        customer_id=customer_id,
        store_id=text(properties.get("store_id")),
        currency=(text(properties.get("currency"), 3) or "USD").upper(),
        total=None if amount is None or status == OrderStatus.refunded else money(amount),
        discount=money(properties.get("discount")),
        shipping=money(properties.get("shipping")),
        tax=money(properties.get("tax")),
        refunded=money(amount) if status == OrderStatus.refunded and amount is not None else None,
        items=items_of(properties.get("products")),
    )


class OrderService:
    async def apply(self, session: AsyncSession, workspace_id: str, data: OrderInput) -> Order:
        """Create or update one order (the one-order case of `apply_many`)."""
        [order_id] = await self.apply_many(session, workspace_id, [data])
        order = await OrderRepository(session, workspace_id).get(order_id)
        assert order is not None  # written just now
        return order

    async def apply_many(
        self, session: AsyncSession, workspace_id: str, inputs: list[OrderInput]
    ) -> list[str]:
        """Create or update orders, in input order, with a few statements in all (orders and
        products read once, new orders and lines written in one statement each); publish
        order.completed / order.refunded once each; return the orders' ids."""
        repository = OrderRepository(session, workspace_id)
        known = await repository.by_keys(sorted({data.order_key for data in inputs}))
        stored = {order.id for order in known.values()}
        fresh = iter(new_ids(len(inputs)))
        drafts: dict[str, _Draft] = {}
        applied, lines, items, events = [], {}, [], []
        for data in inputs:
            order: Order | _Draft | None = known.get(data.order_key) or drafts.get(data.order_key)
            previous = None if order is None else order.status
            if order is None:
                order = drafts[data.order_key] = _Draft(next(fresh), workspace_id, data)
            self._update(order, data)
            if data.items:
                lines[order.id] = data.items
                items.extend(data.items)
            if order.total == 0 and data.total is None and data.items:
                order.total = money(
                    sum((item.price * item.quantity for item in data.items), Decimal(0))
                )
            events.extend(_order_events(workspace_id, order, previous))
            applied.append(order.id)
        await repository.insert_new([vars(draft) for draft in drafts.values()])
        await publish_many(session, workspace_id, events)
        await self._write_lines(repository, stored, lines)
        await self._products(session, workspace_id, items)
        return applied

    async def _write_lines(
        self, repository: OrderRepository, stored: set[str], lines: dict[str, list[ItemInput]]
    ) -> None:
        """Write the orders' new lines; a stored order whose lines are the same keeps them
        (so importing a file again rewrites nothing)."""
        current = await repository.lines_of(sorted(stored & lines.keys()))
        for order_id, rows in current.items():
            if Counter(rows) == Counter(_lines({order_id: lines[order_id]})):
                del lines[order_id]
        await repository.replace_items(sorted(stored & lines.keys()), _lines(lines))

    def _update(self, order: Order | _Draft, data: OrderInput) -> None:
        if data.customer_id is not None:
            order.customer_id = data.customer_id
        if data.total is not None:
            order.total = data.total
        if data.status == OrderStatus.refunded:
            amount = data.refunded if data.refunded is not None else order.total
            order.refunded = min(order.total, order.refunded + amount)
        if data.status != OrderStatus.updated:
            order.status = str(data.status)
        order.discount = data.discount or order.discount
        order.shipping = data.shipping or order.shipping
        order.tax = data.tax or order.tax
        order.currency = data.currency or order.currency
        order.store_id = data.store_id or order.store_id
        order.updated_at = data.placed_at

    async def _products(
        self, session: AsyncSession, workspace_id: str, items: list[ItemInput]
    ) -> None:
        """Create or refresh the products of some order lines: one read, one write of each."""
        if not items:
            return
        repository = ProductRepository(session, workspace_id)
        latest = _latest(items)
        stored = await repository.details(sorted(latest))
        new, changed = [], []
        ids = iter(new_ids(len(latest) - len(stored)))
        for key, said in latest.items():
            row = stored.get(key)
            details = _said(row or ProductRow(next(ids), key, None, None, None, None), said)
            if row is None:
                new.append(details)
            elif details != row:
                changed.append(details)
        await repository.write_details(new, changed)

    async def count_products(
        self, session: AsyncSession, workspace_id: str, counted: list[tuple[str, ItemInput]]
    ) -> None:
        """Add a chunk's product views and adds ((counter, what the event said), in order),
        every product written once by one statement; details said later win."""
        if not counted:
            return
        said = _latest([item for _, item in counted])
        totals = {key: {"views": 0, "adds": 0} for key in said}
        for counter, item in counted:
            totals[item.product_key][counter] += 1
        await ProductRepository(session, workspace_id).add_counts(
            [
                ProductCount(key, row.sku, row.name, row.category, **totals[key])
                for key, row in said.items()
            ]
        )

    async def refresh_customer(
        self, session: AsyncSession, workspace_id: str, customer_id: str
    ) -> None:
        """Recompute a profile's order-based traits (orders, revenue, last order)."""
        await customers.recompute(session, workspace_id, [customer_id])

    async def refresh_customers(
        self, session: AsyncSession, workspace_id: str, customer_ids: list[str]
    ) -> None:
        """Recompute the order-based traits of the live profiles these profiles belong to."""
        await customers.recompute(session, workspace_id, customer_ids)


def _order_events(
    workspace_id: str, order: Order | _Draft, previous: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """Return the domain events a change of an order makes (order.completed when it is first
    seen completed or updated, order.refunded when it becomes refunded), name and data."""
    data = {
        "workspace": workspace_id,
        "order_id": order.id,
        "order_key": order.order_key,
        "customer_id": order.customer_id,
        "total": str(order.total),
        "currency": order.currency,
    }
    events: list[tuple[str, dict[str, Any]]] = []
    if order.status in ("completed", "updated") and previous is None:
        events.append((ORDER_COMPLETED, data))
    if order.status == "refunded" and previous != "refunded":
        events.append((ORDER_REFUNDED, {"refunded": str(order.refunded), **data}))
    return events


def _lines(lines: dict[str, list[ItemInput]]) -> list[tuple[Any, ...]]:
    """Return order lines as rows of ITEM_COLUMNS from order_id on."""
    return [
        (order_id, item.product_key, item.sku, item.name, item.quantity, item.price)
        for order_id, items in lines.items()
        for item in items
    ]


def _latest(items: list[ItemInput]) -> dict[str, ProductRow]:
    """Return what the items say about each product, the last value of each detail winning
    (what refreshing a product item by item would leave)."""
    said: dict[str, list[Any]] = {}
    for item in items:
        known = said.get(item.product_key)
        if known is None:
            said[item.product_key] = [item.sku, item.name, item.category, item.price]
            continue
        # Unrolled: imports call this for every line of a chunk.
        if item.sku:
            known[0] = item.sku
        if item.name:
            known[1] = item.name
        if item.category:
            known[2] = item.category
        if item.price:
            known[3] = item.price
    return {key: ProductRow("", key, *details) for key, details in said.items()}


def _said(row: ProductRow, said: ProductRow) -> ProductRow:
    """Return a product's details with what was said about it (what it leaves out is kept)."""
    return row._replace(
        sku=said.sku or row.sku,
        name=said.name or row.name,
        category=said.category or row.category,
        price=said.price or row.price,
    )


orders = OrderService()
