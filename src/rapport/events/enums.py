"""Call types, channels, order states, and the calls that carry orders and product counts."""

from __future__ import annotations

import enum


class CallType(enum.StrEnum):
    identify = "identify"
    track = "track"
    page = "page"
    screen = "screen"
    group = "group"
    alias = "alias"


class Channel(enum.StrEnum):
    web = "web"
    mobile = "mobile"
    store = "store"
    chat = "chat"
    email = "email"
    sms = "sms"
    phone = "phone"
    server = "server"
    other = "other"


class OrderStatus(enum.StrEnum):
    completed = "completed"
    updated = "updated"
    refunded = "refunded"
    cancelled = "cancelled"


class OrderOrigin(enum.StrEnum):
    event = "event"
    csv = "csv"
    shopify = "shopify"


# Track calls that describe an order (E-commerce v2), and the product counter each product
# call adds to.
ORDER_EVENTS = {
    "Order Completed": OrderStatus.completed,
    "Order Updated": OrderStatus.updated,
    "Order Refunded": OrderStatus.refunded,
    "Order Cancelled": OrderStatus.cancelled,
}
PRODUCT_COUNTERS = {"Product Viewed": "views", "Product Added": "adds"}
