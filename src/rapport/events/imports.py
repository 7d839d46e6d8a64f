"""Import orders from CSV files in the UCI Online Retail column layout."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.events.enums import Channel, OrderOrigin, OrderStatus
from rapport.events.errors import ImportFileInvalid
from rapport.events.orders import ItemInput, OrderInput, money, orders

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
CSV_SOURCE = "import:csv"


@dataclass
class Invoice:
    """The rows of one invoice."""

    number: str
    rows: list[dict[str, str]]


def read_invoices(stream: IO[str]) -> Iterator[Invoice]:
    """Group consecutive CSV rows by invoice number, checking the header first."""
    reader = csv.DictReader(stream)
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise ImportFileInvalid(f"The file lacks the column(s): {', '.join(missing)}.")
    current: Invoice | None = None
    for row in reader:
        number = (row.get("InvoiceNo") or "").strip()
        if current is not None and current.number != number:
            yield current
            current = None
        current = current or Invoice(number, [])
        current.rows.append(row)
    if current is not None:
        yield current


def _placed_at(value: str, line: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise ImportFileInvalid(f"Invoice {line}: InvoiceDate {value!r} is not a date.") from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _items(invoice: Invoice) -> list[ItemInput]:
    items = []
    for row in invoice.rows:
        try:
            quantity = abs(int(float(row["Quantity"])))
        except ValueError as error:
            raise ImportFileInvalid(
                f"Invoice {invoice.number}: Quantity {row['Quantity']!r} is not a number."
            ) from error
        code = row["StockCode"].strip() or "unknown"
        items.append(
            ItemInput(
                product_key=code,
                sku=code,
                name=row["Description"].strip() or None,
                quantity=quantity,
                price=money(row["UnitPrice"]),
            )
        )
    return items


class ImportService:
    async def import_invoices(
        self, session: AsyncSession, workspace_id: str, invoices: Iterable[Invoice]
    ) -> int:
        """Import invoices as orders (credit notes, numbered C..., as cancelled orders)."""
        count = 0
        for invoice in invoices:
            await self.import_invoice(session, workspace_id, invoice)
            count += 1
        return count

    async def import_invoice(
        self, session: AsyncSession, workspace_id: str, invoice: Invoice
    ) -> None:
        """Import one invoice as an order, resolving its customer by CustomerID."""
        first = invoice.rows[0]
        placed_at = _placed_at(first["InvoiceDate"], invoice.number)
        customer_id = await self._customer(session, workspace_id, first, placed_at)
        items = _items(invoice)
        status = (
            OrderStatus.cancelled
            if invoice.number.upper().startswith("C")
            else OrderStatus.completed
        )
        total = sum((item.price * item.quantity for item in items), Decimal(0))
        await orders.apply(
            session,
            workspace_id,
            OrderInput(
                order_key=invoice.number,
                status=status,
                origin=str(OrderOrigin.csv),
                channel=str(Channel.web),
                placed_at=placed_at,
                customer_id=customer_id,
                currency="GBP",
                total=total,
                items=items,
            ),
        )
        if customer_id is not None:
            await orders.refresh_customer(session, workspace_id, customer_id)

    async def _customer(
        self, session: AsyncSession, workspace_id: str, row: dict[str, str], at: datetime
    ) -> str | None:
        number = (row.get("CustomerID") or "").strip()
        if not number:
            return None
        signal = IdentitySignal(
            identifiers=[Observed("user_id", number.removesuffix(".0"))],
            at=at,
            channel=str(Channel.web),
            source=CSV_SOURCE,
            traits={"country": row["Country"].strip()},
        )
        return await customers.observe(session, workspace_id, signal)


imports = ImportService()
