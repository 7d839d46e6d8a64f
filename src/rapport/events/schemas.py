"""Events schemas: timeline items, counts, orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from rapport.core.pagination import Page
from rapport.core.schemas import ReadModel


class TimelineItem(BaseModel):
    id: str = Field(description="Stored event id.")
    message_id: str = Field(description="The sender's messageId (unique per workspace).")
    type: str = Field(description="identify, track, page, screen, group or alias.")
    name: str | None = Field(description="Event name (track) or page/screen name.")
    channel: str = Field(description="Touchpoint: web, mobile, store, chat, email, sms, ...")
    timestamp: datetime = Field(description="When it happened (clock-skew corrected).")
    received_at: datetime = Field(description="When Rapport received it.")
    source_id: str | None = Field(description="The source that sent it (null: secret key).")
    properties: dict[str, Any] = Field(description="The call's properties (or traits).")


TimelinePage = Page[TimelineItem]


class Highlight(BaseModel):
    label: str = Field(description="What the value is (Product, URL, Amount, ...).")
    value: str = Field(description="The value, as text.")


class HistoryItem(BaseModel):
    id: str = Field(description="Stored event id, or Rapport's order id.")
    type: str = Field(description="The call type (track, page, ...) or `order`.")
    name: str | None = Field(description="Event or page name; the shop's id of an order.")
    channel: str = Field(description="Touchpoint: web, mobile, store, ...")
    timestamp: datetime = Field(description="When it happened (an order: when placed).")
    source_id: str | None = Field(description="The source that sent the event.")
    highlights: list[Highlight] = Field(description="Its key properties (product, URL, amount).")


class HistoryPage(BaseModel):
    items: list[HistoryItem] = Field(description="Events and orders, newest first.")
    older_cursor: str | None = Field(description="Cursor of the older page; null on the oldest.")
    newer_cursor: str | None = Field(description="Cursor of the newer page; null on the newest.")


class EventCounts(BaseModel):
    identify: int = Field(description="Stored identify calls.")
    track: int = Field(description="Stored track calls.")
    page: int = Field(description="Stored page calls.")
    screen: int = Field(description="Stored screen calls.")
    group: int = Field(description="Stored group calls.")
    alias: int = Field(description="Stored alias calls.")


class OrderItemRead(ReadModel):
    product_key: str = Field(description="The shop's product id (or SKU).")
    sku: str | None = Field(description="Stock keeping unit.")
    name: str | None = Field(description="Product name.")
    quantity: int = Field(description="Units ordered.")
    price: Decimal = Field(description="Unit price.")


class OrderRead(ReadModel):
    id: str = Field(description="Rapport's order id.")
    order_key: str = Field(description="The shop's order id.")
    customer_id: str | None = Field(description="The profile that placed it.")
    status: str = Field(description="completed, updated, refunded or cancelled.")
    origin: str = Field(description="event, csv or shopify.")
    channel: str = Field(description="Where it was placed (web, store, ...).")
    store_id: str | None = Field(description="Store id for in-store sales.")
    currency: str = Field(description="ISO 4217 currency code.")
    total: Decimal = Field(description="Order total.")
    refunded: Decimal = Field(description="Amount refunded so far.")
    placed_at: datetime = Field(description="When the order was placed.")
    items: list[OrderItemRead] = Field(description="Order lines.")


class OrdersPage(BaseModel):
    items: list[OrderRead] = Field(description="Orders, newest first.")
    older_cursor: str | None = Field(description="Cursor of the older page; null on the oldest.")
    newer_cursor: str | None = Field(description="Cursor of the newer page; null on the newest.")


class Revenue(BaseModel):
    currency: str = Field(description="ISO 4217 currency code.")
    orders: int = Field(description="Orders placed in this currency.")
    amount: Decimal = Field(description="Their totals, net of refunds.")


class DayFigures(BaseModel):
    events: int = Field(description="Calls received since the start of the day.")
    customers: int = Field(description="Distinct customers those calls were resolved to.")
    orders: int = Field(description="Orders placed since the start of the day (not cancelled).")
    revenue: list[Revenue] = Field(description="Their revenue, per currency.")


class SourceActivity(BaseModel):
    events_today: int = Field(description="Calls received from the source since the day began.")
    last_event_at: datetime | None = Field(description="When its newest call arrived.")
