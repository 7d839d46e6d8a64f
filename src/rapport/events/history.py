"""A profile's history as staff read it: events and orders in one keyset-paged timeline,
each with its key properties (product, URL, amount)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from rapport.core.clock import as_utc
from rapport.core.pagination import decode_cursor, encode_cursor
from rapport.events.enums import CallType
from rapport.events.models import Event
from rapport.events.repository import Keyset
from rapport.events.schemas import Highlight, HistoryItem, OrderRead
from rapport.events.sealed import open_payload_or_none

ORDER = "order"
# What a timeline can be narrowed to: one call type, or the orders.
HISTORY_TYPES = (*(str(kind) for kind in CallType), ORDER)
AMOUNT_KEYS = ("total", "revenue", "value", "price")
PRODUCT_KEYS = ("name", "product_id", "sku")
SHOWN_PRODUCTS = 3
LONGEST = 200
TIMES = "\u00d7"  # the multiplication sign, as in "6 x Mug" on paper
RowT = TypeVar("RowT")
SortKey = tuple[datetime, str]


@dataclass(frozen=True)
class Window(Generic[RowT]):
    """One page of a time-ordered list, newest first, with the keys either side of it."""

    items: list[RowT]
    older: SortKey | None
    newer: SortKey | None


def page_of(
    rows: list[RowT], key: Keyset | None, limit: int, sort_key: Callable[[RowT], SortKey]
) -> Window[RowT]:
    """Keep one page of rows read on one side of a cursor (limit + 1 of each kind), newest
    first, and say whether older and newer pages exist."""
    older_side = key is None or key.older
    ordered = sorted(rows, key=sort_key, reverse=older_side)
    page, more = ordered[:limit], len(ordered) > limit
    if not older_side:
        page.reverse()
    if not page:
        return Window([], None, None)
    has_older = more if older_side else True
    has_newer = key is not None if older_side else more
    return Window(
        page,
        sort_key(page[-1]) if has_older else None,
        sort_key(page[0]) if has_newer else None,
    )


def encode_key(kind: str, moment: SortKey | None, *, older: bool) -> str | None:
    """Return the cursor of the page older or newer than a row (None without a row)."""
    if moment is None:
        return None
    side = "older" if older else "newer"
    return encode_cursor(kind, [side, as_utc(moment[0]).isoformat(), moment[1]])


def decode_key(kind: str, cursor: str | None) -> Keyset | None:
    """Read a cursor made by `encode_key` for this list (anything else is a 400)."""
    return None if cursor is None else decode_cursor(kind, cursor, _keyset)


def _keyset(values: list[Any]) -> Keyset:
    side, moment, row_id = values
    if side not in ("older", "newer") or not isinstance(moment, str):
        raise TypeError("a history cursor holds a side, a time and an id")
    if not isinstance(row_id, str):
        raise TypeError("a history cursor holds a side, a time and an id")
    return Keyset(as_utc(datetime.fromisoformat(moment)), row_id, side == "older")


def event_item(event: Event) -> HistoryItem:
    """Return an event as a timeline entry, with its key properties (none when the stored
    call no longer opens)."""
    message = open_payload_or_none(event.id, event.payload) or {}
    properties = message.get("traits" if event.type == "identify" else "properties")
    properties = properties if isinstance(properties, dict) else {}
    return HistoryItem(
        id=event.id,
        type=event.type,
        name=event.name,
        channel=event.channel,
        timestamp=as_utc(event.timestamp),
        source_id=event.source_id,
        highlights=[Highlight(label=k, value=v) for k, v in highlights(event.type, properties)],
    )


def order_item(order: OrderRead) -> HistoryItem:
    """Return an order as a timeline entry: its amount, status and lines."""
    lines = ", ".join(
        f"{item.quantity} {TIMES} {item.name or item.product_key}" for item in order.items
    )
    shown = [("Amount", amount_text(order.total, order.currency)), ("Status", order.status)]
    if lines:
        shown.append(("Items", _clip(lines)))
    return HistoryItem(
        id=order.id,
        type=ORDER,
        name=order.order_key,
        channel=order.channel,
        timestamp=as_utc(order.placed_at),
        source_id=None,
        highlights=[Highlight(label=label, value=value) for label, value in shown],
    )


def highlights(call_type: str, properties: dict[str, Any]) -> list[tuple[str, str]]:
    """Pick the properties staff look for first: product, URL, amount, order, search."""
    found: list[tuple[str, str]] = []
    product = _products(properties)
    if product:
        found.append(("Product", product))
    for label, names in (
        ("URL", ("url", "path")),
        ("Order", ("order_id",)),
        ("Search", ("query",)),
    ):
        value = next((properties[n] for n in names if _text(properties.get(n))), None)
        if value is not None:
            found.append((label, _clip(str(value))))
    amount = next((properties[k] for k in AMOUNT_KEYS if _number(properties.get(k))), None)
    if amount is not None:
        currency = properties.get("currency")
        found.append(("Amount", amount_text(amount, currency if _text(currency) else None)))
    if call_type == "identify" and properties:
        found.append(("Traits", _clip(", ".join(sorted(map(str, properties))))))
    return found


def amount_text(amount: Any, currency: str | None) -> str:
    """Show an amount with two decimals and its currency."""
    try:
        shown = f"{Decimal(str(amount)):,.2f}"
    except (InvalidOperation, ValueError):
        shown = str(amount)
    return _clip(f"{shown} {currency.upper()}" if currency else shown)


def _products(properties: dict[str, Any]) -> str | None:
    listed = properties.get("products")
    if isinstance(listed, list):
        found = [_product(entry) for entry in listed if isinstance(entry, dict)]
        names = [name for name in found if name]
        more = len(names) - SHOWN_PRODUCTS
        shown = ", ".join(names[:SHOWN_PRODUCTS]) + (f" and {more} more" if more > 0 else "")
        return _clip(shown) if names else None
    if _text(properties.get("product_id")) or _text(properties.get("sku")):
        return _product(properties)
    return None


def _product(entry: dict[str, Any]) -> str | None:
    value = next((entry[key] for key in PRODUCT_KEYS if _text(entry.get(key))), None)
    return _clip(str(value)) if value is not None else None


def _text(value: Any) -> bool:
    return (isinstance(value, str) and bool(value.strip())) or _number(value)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _clip(text: str) -> str:
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"
