"""The release-check commands: sources create, events count, import orders (real subprocesses)."""

from __future__ import annotations

import csv
import gzip
from decimal import Decimal
from pathlib import Path

import httpx

from rapport.config import Settings
from rapport.core.db import Database
from rapport.customers.service import customers
from tests.fixtures.cli import cli, run_cli
from tests.fixtures.events import identify, process_all, track, write_key_auth
from tests.fixtures.identity import make_workspace
from tests.fixtures.shared_data import shared_data

RETAIL = shared_data("online_retail_slice", "online_retail_first49999rows.csv.gz")


def rapport(settings: Settings, *args: str) -> list[str]:
    """Run the CLI against the test database; return its stdout lines."""
    return run_cli(settings, *args)


async def test_sources_create_then_events_count(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    workspace = await make_workspace(database)
    write_key = rapport(
        settings, "sources", "create", "--workspace", workspace.slug, "--name", "web shop"
    )[-1]
    assert write_key.startswith("wk_")
    batch = [
        identify(userId="u-1"),
        track("A", userId="u-1"),
        track("B", userId="u-1"),
        {"type": "page", "userId": "u-1"},
    ]
    assert (
        await client.post("/v1/batch", json={"batch": batch}, headers=write_key_auth(write_key))
    ).status_code == 200
    assert (
        rapport(settings, "events", "count", "--workspace", workspace.slug)[-1]
        == "identify=1 track=2 page=1 screen=0 group=0 alias=0"
    )


def _expected_for(path: Path, customer: str) -> tuple[int, int, Decimal]:
    with path.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    invoices = {row["InvoiceNo"] for row in rows}
    theirs = [
        row
        for row in rows
        if row["CustomerID"] == customer and not row["InvoiceNo"].startswith("C")
    ]
    revenue = sum((Decimal(row["UnitPrice"]) * int(row["Quantity"]) for row in theirs), Decimal(0))
    return (
        len(invoices),
        len({row["InvoiceNo"] for row in theirs}),
        revenue.quantize(Decimal("0.01")),
    )


async def test_import_orders_from_online_retail_csv(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    sample = tmp_path / "orders.csv"
    with gzip.open(RETAIL, "rt", newline="") as source:
        sample.write_text("".join(line for _, line in zip(range(301), source, strict=False)))
    invoices, orders_17850, revenue_17850 = _expected_for(sample, "17850")
    assert rapport(settings, "import", "orders", str(sample), "--workspace", workspace.slug)[
        -1
    ] == str(invoices)
    await process_all(database)
    async with database.session() as session:
        [customer_id] = await customers.search(session, workspace.id, "17850")
        profile = await customers.get(session, workspace.id, customer_id)
    assert (profile.orders_count, profile.revenue) == (orders_17850, revenue_17850)
    assert profile.traits["country"].value == "United Kingdom"


async def test_import_rejects_a_file_without_the_columns(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    workspace = await make_workspace(database)
    bad = tmp_path / "bad.csv"
    bad.write_text("order,amount\n1,2\n")
    done = cli(settings, "import", "orders", str(bad), "--workspace", workspace.slug)
    assert done.returncode == 1
    assert "The file lacks the column(s): InvoiceNo, StockCode" in done.stderr
