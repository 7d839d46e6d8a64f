"""Import orders from CSV files in the UCI Online Retail column layout, a chunk at a time."""

from __future__ import annotations

import csv
import functools
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import SeenTraits, customers
from rapport.events.enums import Channel, OrderOrigin, OrderStatus
from rapport.events.errors import ImportFileInvalid
from rapport.events.orders import MAX_QUANTITY, ItemInput, OrderInput, money, orders

COLUMNS = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
INVOICE, CODE, DESCRIPTION, QUANTITY, DATE, PRICE, CUSTOMER, COUNTRY = range(len(COLUMNS))
CSV_SOURCE = "import:csv"


@dataclass
class Invoice:
    """The rows of one invoice (their cells in COLUMNS order), with the file line of each."""

    number: str
    rows: list[tuple[str, ...]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


@dataclass
class _Sale:
    """One invoice read into an order, with the customer number and country it names."""

    order: OrderInput
    customer: str | None
    country: str


def read_invoices(stream: IO[str]) -> Iterator[Invoice]:
    """Group consecutive CSV rows by invoice number, checking the header first."""
    reader = csv.reader(stream)
    header = [name.strip() for name in next(reader, [])]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise ImportFileInvalid(f"The file lacks the column(s): {', '.join(missing)}.")
    cells = operator.itemgetter(*(header.index(column) for column in COLUMNS))
    current: Invoice | None = None
    for row in reader:
        if not row:
            continue
        try:
            values: tuple[str, ...] = cells(row)
        except IndexError:
            message = (
                f"Line {reader.line_num}: {len(row)} cells where the header has {len(header)}."
            )
            raise ImportFileInvalid(message) from None
        number = values[INVOICE].strip()
        if current is not None and current.number != number:
            yield current
            current = None
        current = current or Invoice(number)
        current.rows.append(values)
        current.lines.append(reader.line_num)
    if current is not None:
        yield current


def _placed_at(value: str, line: int) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise ImportFileInvalid(f"Line {line}: InvoiceDate {value!r} is not a date.") from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _quantity(value: str, line: int) -> int:
    try:
        quantity = abs(int(float(value)))
    except (ValueError, OverflowError):
        quantity = -1
    if not 0 <= quantity <= MAX_QUANTITY:
        raise ImportFileInvalid(f"Line {line}: Quantity {value!r} is not a number of items.")
    return quantity


def _clip(value: str, length: int) -> str | None:
    """Read an optional text cell, cut to its column's length."""
    return value.strip().replace("\x00", "")[:length] or None


@functools.lru_cache(maxsize=8192)
def _price(value: str) -> Decimal:
    """Read a UnitPrice cell (a file repeats a few thousand prices: each is read once)."""
    return money(value)


@functools.lru_cache(maxsize=16384)
def _product(code: str, description: str) -> tuple[str, str | None]:
    """Read a StockCode and Description pair (a file repeats a few thousand: each read once)."""
    return _clip(code, 255) or "unknown", _clip(description, 500)


def _items(invoice: Invoice) -> list[ItemInput]:
    items = []
    for row, line in zip(invoice.rows, invoice.lines, strict=True):
        code, name = _product(row[CODE], row[DESCRIPTION])
        quantity = _quantity(row[QUANTITY], line)
        items.append(ItemInput(code, code, name, quantity, _price(row[PRICE])))
    return items


def read_sale(invoice: Invoice) -> _Sale:
    """Read an invoice into an order (a credit note, numbered C..., as a cancelled order)."""
    if not invoice.number:
        raise ImportFileInvalid(f"Line {invoice.lines[0]}: InvoiceNo is empty.")
    first = invoice.rows[0]
    items = _items(invoice)
    status = (
        OrderStatus.cancelled if invoice.number.upper().startswith("C") else OrderStatus.completed
    )
    order = OrderInput(
        order_key=_clip(invoice.number, 255) or invoice.number,
        status=status,
        origin=str(OrderOrigin.csv),
        channel=str(Channel.web),
        placed_at=_placed_at(first[DATE], invoice.lines[0]),
        currency="GBP",
        total=sum((item.price * item.quantity for item in items), Decimal(0)),
        items=items,
    )
    number = first[CUSTOMER].strip().removesuffix(".0")
    return _Sale(order, number or None, first[COUNTRY].strip())


class ImportService:
    async def import_invoices(
        self, session: AsyncSession, workspace_id: str, invoices: Iterable[Invoice]
    ) -> int:
        """Import a chunk of invoices as orders: every row is read (and checked) before the
        first write, customers are resolved and orders written with a few statements."""
        sales = [read_sale(invoice) for invoice in invoices]
        if not sales:
            return 0
        await self._customers(session, workspace_id, sales)
        await orders.apply_many(session, workspace_id, [sale.order for sale in sales])
        customer_ids = {sale.order.customer_id for sale in sales if sale.order.customer_id}
        await orders.refresh_customers(session, workspace_id, sorted(customer_ids))
        return len(sales)

    async def _customers(
        self, session: AsyncSession, workspace_id: str, sales: list[_Sale]
    ) -> None:
        """Resolve each sale's customer by CustomerID (all the chunk's looked up at once) and
        record each profile's country once, the latest sale's winning."""
        named = [sale for sale in sales if sale.customer]
        resolved = await customers.resolve(session, workspace_id, [_signal(sale) for sale in named])
        countries: dict[str, SeenTraits] = {}
        for sale, outcome in zip(named, resolved, strict=True):
            if outcome.error is not None:
                raise outcome.error
            customer_id = sale.order.customer_id = outcome.customer_id
            seen = SeenTraits({"country": sale.country}, CSV_SOURCE, sale.order.placed_at)
            known = countries.get(customer_id or "")
            if customer_id and sale.country and (known is None or known.at <= seen.at):
                countries[customer_id] = seen
        await customers.profiles(session, workspace_id).record_traits(countries)


def _signal(sale: _Sale) -> IdentitySignal:
    """Return who a sale names and when, read like an Order Completed track call (so it takes
    resolution's quick path); its country is written apart, once per profile."""
    return IdentitySignal(
        identifiers=[Observed("user_id", sale.customer or "")],
        at=sale.order.placed_at,
        channel=str(Channel.web),
        source=CSV_SOURCE,
        reason="track",
    )


imports = ImportService()
