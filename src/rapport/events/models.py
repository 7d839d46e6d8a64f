"""Event store, orders and products."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.db import Base, TenantMixin

MONEY = Numeric(14, 2)


class Event(TenantMixin, Base):
    """One Segment call, stored once as received; only `customer_id` is filled later."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("workspace_id", "message_id"),
        Index("ix_events_customer_timeline", "workspace_id", "customer_id", "timestamp"),
        Index("ix_events_name_time", "workspace_id", "name", "timestamp"),
    )

    # No index of its own: the unique (workspace_id, message_id) index serves workspace scans,
    # and every index costs ingestion throughput.
    workspace_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    source_id: Mapped[str | None] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(255))
    # Keyed hashes of userId/anonymousId (often an email): the values themselves stay only in
    # the encrypted payload, while the hashes still group a person's raw calls.
    user_index: Mapped[str | None] = mapped_column(String(64))
    anonymous_index: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    timestamp: Mapped[datetime]
    received_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    original_timestamp: Mapped[datetime | None]
    # The original JSON, sealed with AES-GCM (it carries traits such as email and address).
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    customer_id: Mapped[str | None] = mapped_column(String(32))
    processed: Mapped[bool] = mapped_column(Boolean, default=False)
    # For a page, screen or track call whose whole identity is one anonymous id (no traits or
    # consent): that id's lookup key in the identity graph (a keyed hash, as the graph stores
    # it), so processing resolves the call without reading who it is about, and decrypts it
    # only for an order or a product. NULL for any other call, which is read whole.
    lookup_key: Mapped[str | None] = mapped_column(String(64))


class ProcessingFailure(TenantMixin, Base):
    """A stored call whose processing failed: the call stays unprocessed until re-processed."""

    __tablename__ = "event_processing_failures"
    __table_args__ = (UniqueConstraint("workspace_id", "event_id"),)

    event_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[str | None] = mapped_column(String(32))
    # The error's class and where it was raised, never its message (it may quote a value).
    error: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_failed_at: Mapped[datetime]


class Product(TenantMixin, Base):
    """A product seen in e-commerce events or imports."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("workspace_id", "product_key"),)

    product_key: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(500))
    category: Mapped[str | None] = mapped_column(String(255))
    price: Mapped[Decimal | None] = mapped_column(MONEY)
    views: Mapped[int] = mapped_column(Integer, default=0)
    adds: Mapped[int] = mapped_column(Integer, default=0)


# Both cover what the CX metrics read of an order (migration 0030).
PLACED_INDEX = (
    "workspace_id", "placed_at", "customer_id", "status", "total", "refunded",
)  # fmt: skip
CUSTOMER_INDEX = (
    "workspace_id", "customer_id", "placed_at", "status", "total", "refunded",
)  # fmt: skip


class Order(TenantMixin, Base):
    """An order from any touchpoint (event, CSV import, shop webhook)."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("workspace_id", "order_key"),
        Index("ix_orders_customer", *CUSTOMER_INDEX),
        # The CX metrics read the orders placed in a window and its inactivity threshold
        # before it, from this index alone (migration 0030).
        Index("ix_orders_placed", *PLACED_INDEX),
    )

    order_key: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    discount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    shipping: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    refunded: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    placed_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Fulfilment and after-sales (events/order_actions.py); the address is sealed to its row.
    fulfillment_status: Mapped[str] = mapped_column(
        String(16), default="unfulfilled", server_default="unfulfilled"
    )
    shipped_at: Mapped[datetime | None]
    shipping_address: Mapped[bytes | None] = mapped_column(LargeBinary)
    return_requested_at: Mapped[datetime | None]


class OrderItem(TenantMixin, Base):
    """One line of an order."""

    __tablename__ = "order_items"

    order_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    product_key: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    price: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
