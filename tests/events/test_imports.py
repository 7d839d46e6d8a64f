"""CSV order imports, and the batched order writes they share with /v1 order events: the
totals the file says, idempotent, bad rows by line number, customers and orders in the console."""

from __future__ import annotations

import csv
import gzip
import itertools
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from rapport.config import Settings
from rapport.core.db import Database
from rapport.core.outbox import DomainEvent
from rapport.customers.models import Customer, Identifier
from rapport.customers.service import customers
from rapport.domains import load_tasks
from rapport.events.enums import OrderStatus
from rapport.events.errors import ImportFileInvalid
from rapport.events.imports import COLUMNS, imports, read_invoices
from rapport.events.models import Order, OrderItem, Product
from rapport.events.orders import ItemInput, OrderInput, orders
from rapport.events.service import events
from rapport.identity.enums import Role
from tests.events.test_cli import RETAIL
from tests.fixtures.cli import cli
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in

# Rows after the slice's first 200: a returning customer in a later chunk (with a new
# country), a credit note, a row without a customer, and a product whose price changes.
EXTRA = [
    ["900001", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "2", "2011-02-01 10:00:00",
     "2.95", "17850", "France"],
    ["900001", "NEW-1", "", "1", "2011-02-01 10:00:00", "0", "17850", "France"],
    ["C900002", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "-1", "2011-02-02 10:00:00",
     "2.95", "17850", "France"],
    ["900003", "71053", "WHITE METAL LANTERN", "3", "2011-02-03 10:00:00", "3.39", "", "Spain"],
]  # fmt: skip


@pytest.fixture(autouse=True)
def _domains() -> None:
    """Load the domains' tasks, as every process does: an import recomputes profiles from the
    facts the events domain registers (run alone, this file would otherwise find none)."""
    load_tasks()


def _write(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def _sample(tmp_path: Path) -> Path:
    with gzip.open(RETAIL, "rt", newline="") as source:
        rows = list(itertools.islice(csv.reader(source), 1, 201))
    return _write(tmp_path / "orders.csv", rows + EXTRA)


async def _import(database: Database, workspace_id: str, path: Path, chunk: int = 4) -> int:
    """Import a file a few invoices per transaction, as the command does."""
    imported = 0
    with path.open(newline="") as stream:
        invoices = read_invoices(stream)
        while batch := list(itertools.islice(invoices, chunk)):
            async with database.session() as session:
                imported += await imports.import_invoices(session, workspace_id, batch)
    return imported


async def _counts(database: Database, workspace_id: str) -> dict[str, int]:
    counted = {}
    async with database.session() as session:
        for model in (Order, OrderItem, Product, Customer, Identifier, DomainEvent):
            statement = select(func.count()).where(model.workspace_id == workspace_id)
            counted[model.__name__] = int((await session.execute(statement)).scalar_one())
    return counted


def _expected(path: Path) -> dict[str, tuple[int, Decimal, datetime | None, str]]:
    """Read what the file says of each customer: paid orders (credit notes do not count),
    revenue, last order, and the country of the latest invoice."""
    with path.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    expected = {}
    for customer in {row["CustomerID"] for row in rows} - {""}:
        theirs = [row for row in rows if row["CustomerID"] == customer]
        paid = [row for row in theirs if not row["InvoiceNo"].startswith("C")]
        revenue = sum((Decimal(r["UnitPrice"]) * abs(int(r["Quantity"])) for r in paid), Decimal(0))
        last = max(
            (datetime.fromisoformat(r["InvoiceDate"]).replace(tzinfo=UTC) for r in paid),
            default=None,
        )
        country = max(theirs, key=lambda row: row["InvoiceDate"])["Country"]
        expected[customer] = (len({r["InvoiceNo"] for r in paid}), revenue, last, country)
    return expected


async def test_import_gives_the_totals_the_file_says(database: Database, tmp_path: Path) -> None:
    workspace = await make_workspace(database)
    path = _sample(tmp_path)
    with path.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert await _import(database, workspace.id, path) == len({r["InvoiceNo"] for r in rows})
    counted = await _counts(database, workspace.id)
    assert (counted["Order"], counted["OrderItem"], counted["Product"], counted["Customer"]) == (
        len({row["InvoiceNo"] for row in rows}),
        len(rows),
        len({row["StockCode"] for row in rows}),
        len({row["CustomerID"] for row in rows} - {""}),
    )
    async with database.session() as session:
        for customer, expected in _expected(path).items():
            [customer_id] = await customers.search(session, workspace.id, customer)
            profile = await customers.get(session, workspace.id, customer_id)
            country = profile.traits["country"].value
            found = (profile.orders_count, profile.revenue, profile.last_order_at, country)
            assert found == expected, customer
        price = select(Product.price).where(
            Product.workspace_id == workspace.id, Product.product_key == "85123A"
        )
        assert (await session.execute(price)).scalar_one() == Decimal("2.95")


async def test_importing_the_same_file_again_adds_nothing(
    database: Database, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    path = _sample(tmp_path)
    await _import(database, workspace.id, path)
    before = await _counts(database, workspace.id)
    lines = select(OrderItem.id).where(OrderItem.workspace_id == workspace.id)
    async with database.session() as session:
        [customer_id] = await customers.search(session, workspace.id, "17850")
        profile = await customers.get(session, workspace.id, customer_id)
        line_ids = set((await session.execute(lines)).scalars())
    await _import(database, workspace.id, path, chunk=9)
    assert await _counts(database, workspace.id) == before
    async with database.session() as session:
        assert await customers.get(session, workspace.id, customer_id) == profile
        # Nothing was rewritten either: the same lines are kept.
        assert set((await session.execute(lines)).scalars()) == line_ids


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (
            ["536366", "22633", "HAND WARMER", "lots", "2010-12-01 08:28:00", "1.85", "1", "UK"],
            "Line 4: Quantity 'lots' is not a number of items.",
        ),
        (
            ["536366", "22633", "HAND WARMER", "6", "yesterday", "1.85", "1", "UK"],
            "Line 4: InvoiceDate 'yesterday' is not a date.",
        ),
        (
            ["", "22633", "HAND WARMER", "6", "2010-12-01 08:28:00", "1.85", "1", "UK"],
            "Line 4: InvoiceNo is empty.",
        ),
    ],
)
async def test_a_bad_row_is_reported_by_its_line_and_its_chunk_is_not_written(
    database: Database, tmp_path: Path, bad_row: list[str], message: str
) -> None:
    workspace = await make_workspace(database)
    good = ["536365", "85123A", "HEART", "6", "2010-12-01 08:26:00", "2.55", "1", "UK"]
    path = _write(tmp_path / "bad.csv", [good, good, bad_row])
    with pytest.raises(ImportFileInvalid) as raised:
        await _import(database, workspace.id, path, chunk=1)
    assert raised.value.message == message
    counted = await _counts(database, workspace.id)
    assert (counted["Order"], counted["OrderItem"]) == (1, 2)


async def test_the_command_reports_a_bad_row_by_its_line(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    good = ["536365", "85123A", "HEART", "6", "2010-12-01 08:26:00", "2.55", "1", "UK"]
    bad = ["536366", "22633", "HAND WARMER", "1e999", "2010-12-01 08:28:00", "1.85", "1", "UK"]
    # Saved by a spreadsheet: a byte order mark before the header.
    path = _write(tmp_path / "bad.csv", [good, bad], encoding="utf-8-sig")
    done = cli(settings, "import", "orders", str(path), "--workspace", workspace.slug)
    assert done.returncode == 1
    assert "Line 3: Quantity '1e999' is not a number of items." in done.stderr


async def test_imported_customers_and_orders_show_in_the_console(
    client: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    await _import(database, workspace.id, _sample(tmp_path))
    async with database.session() as session:
        [customer_id] = await customers.search(session, workspace.id, "17850")
    staff = await make_staff(database, workspace, Role.agent)
    headers = session_headers((await sign_in(database, staff)).token)
    link = f'href="/console/customers/{customer_id}"'
    for query in ("17850", "900001", "536365"):
        found = await client.get("/console/customers", params={"q": query}, headers=headers)
        assert found.text.count('href="/console/customers/') == 1, query
        assert link in found.text, query
    recent = await client.get("/console/customers", headers=headers)
    assert link in recent.text
    page = await client.get(f"/console/customers/{customer_id}", headers=headers)
    assert page.status_code == 200
    keys = ["900001", "536365", "C900002"]
    assert [key for key in keys if f">{key}</td>" in page.text] == keys


async def test_a_batch_naming_an_order_twice_applies_both_in_turn(database: Database) -> None:
    workspace = await make_workspace(database)
    at = datetime(2026, 5, 1, 10, tzinfo=UTC)
    mug = ItemInput("p-1", name="Mug", quantity=2, price=Decimal("5.00"))
    completed = OrderInput(
        "A-1", OrderStatus.completed, "event", "web", at, total=Decimal("10.00"), items=[mug]
    )
    refunded = OrderInput("A-1", OrderStatus.refunded, "event", "web", at, refunded=Decimal("4.00"))
    async with database.session() as session:
        applied = await orders.apply_many(session, workspace.id, [completed, refunded])
    assert applied[0] is applied[1]
    async with database.session() as session:
        order = await events.order(session, workspace.id, "A-1")
        published = await session.execute(
            select(DomainEvent.name).where(DomainEvent.workspace_id == workspace.id)
        )
        names = sorted(published.scalars())
    assert (order.status, order.total, order.refunded) == (
        "refunded",
        Decimal("10.00"),
        Decimal("4.00"),
    )
    assert [(i.product_key, i.quantity, i.price) for i in order.items] == [
        ("p-1", 2, Decimal("5.00"))
    ]
    assert names == ["order.completed", "order.refunded"]
