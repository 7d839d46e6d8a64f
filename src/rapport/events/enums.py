"""Call types, channels and order states."""

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
