"""Lines/s of `rapport import orders` on SQLite and PostgreSQL, against a plain executemany.

Run alone: `.venv/bin/python bench/imports.py [--lines N] [--postgres URL]`
(URL of a PostgreSQL database whose role may CREATE DATABASE; defaults to
$RAPPORT_TEST_DATABASE_URL when set). It builds a CSV of N lines by repeating the UCI Online
Retail slice in /work/shared/data (each copy's invoice and customer numbers shifted, so every
copy is new orders of new customers), migrates a fresh database, and runs the real command
(`rapport import orders`, a separate process) on it, then again on the same file (which must
add nothing). The baseline is a plain import of the same file into the same database: read
it with csv.DictReader into order and line rows, then one driver-level executemany per table
and chunk of orders (no customers, products or deduplication); its insert part alone is the
ceiling. Prints one figure per line.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import io
import itertools
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from benchdb import on_each_backend
from rapport.cli.imports import INVOICES_PER_COMMIT
from rapport.core.clock import utcnow
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.core.ids import new_ids
from rapport.customers.models import Customer
from rapport.db.migrate import upgrade
from rapport.domains import load_tasks
from rapport.events.imports import imports, read_invoices
from rapport.events.models import Order, OrderItem, Product
from rapport.events.rows import encode_time_for
from rapport.identity.audit import SYSTEM
from rapport.identity.service import workspaces

ROOT = Path(__file__).resolve().parents[1]
SLICE = (
    ROOT.parent / "shared/data/online_retail_slice/online_retail_first49999rows.csv.gz"
    if (ROOT.parent / "shared").exists()
    else Path("/work/shared/data/online_retail_slice/online_retail_first49999rows.csv.gz")
)
SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
ORDER_COLUMNS = (
    "id", "workspace_id", "created_at", "order_key", "customer_id", "status", "origin",
    "channel", "currency", "total", "discount", "shipping", "tax", "refunded", "placed_at",
    "updated_at",
)  # fmt: skip
ITEM_COLUMNS = (
    "id", "workspace_id", "created_at", "order_id", "product_key", "sku", "name", "quantity",
    "price",
)  # fmt: skip


def shifted_rows(lines: int) -> Iterator[dict[str, str]]:
    """Yield `lines` rows: the slice, again and again, each copy's numbers shifted."""
    with gzip.open(SLICE, "rt", newline="") as stream:
        rows = list(csv.DictReader(stream))
    for copy in itertools.count():
        for row in rows:
            if lines == 0:
                return
            lines -= 1
            number = row["InvoiceNo"]
            prefix = "C" if number.startswith("C") else ""
            shifted = int(number.removeprefix("C")) + copy * 1_000_000
            customer = row["CustomerID"]
            yield {
                **row,
                "InvoiceNo": f"{prefix}{shifted}",
                "CustomerID": str(int(customer) + copy * 100_000) if customer else "",
            }


def write_file(path: Path, lines: int) -> None:
    """Write the CSV the command imports."""
    rows = list(shifted_rows(lines))
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


async def create_workspace(url: str, slug: str) -> str:
    database = Database(url)
    async with database.session() as session:
        workspace = await workspaces.create(session, slug=slug, name="Bench", actor=SYSTEM)
    await database.dispose()
    return workspace.id


async def counts(url: str, workspace_id: str) -> tuple[int, ...]:
    """Count the workspace's orders, order lines, products and customers."""
    database = Database(url)
    found = []
    async with database.session() as session:
        for model in (Order, OrderItem, Product, Customer):
            statement = select(func.count()).where(model.workspace_id == workspace_id)
            found.append(int((await session.execute(statement)).scalar_one()))
    await database.dispose()
    return tuple(found)


def run_import(url: str, path: Path, slug: str, data_dir: str) -> tuple[float, float]:
    """Run `rapport import orders` in its own process; return its wall and CPU seconds."""
    env = {
        **os.environ,
        "RAPPORT_DATABASE_URL": url,
        "RAPPORT_SECRET_KEY": SECRET,
        "RAPPORT_DATA_DIR": data_dir,
        "RAPPORT_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).parent / "rapport"), "import", "orders", str(path)]
    cpu, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        [*command, "--workspace", slug], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stderr[-2000:]}")
    return elapsed, _children_cpu() - cpu


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def plain_rows(
    path: Path, workspace_id: str, dialect: str
) -> list[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Read the file into the same orders and lines as plain rows, a chunk of orders each."""
    with path.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    encode = encode_time_for(dialect)
    amount: Any = Decimal if dialect == "postgresql" else float
    now = encode(utcnow())
    invoices = [list(group) for _, group in itertools.groupby(rows, lambda r: r["InvoiceNo"])]
    chunks = []
    for start in range(0, len(invoices), INVOICES_PER_COMMIT):
        orders, items = [], []
        for invoice in invoices[start : start + INVOICES_PER_COMMIT]:
            first, ids = invoice[0], new_ids(len(invoice) + 1)
            placed = encode(datetime.fromisoformat(first["InvoiceDate"]).replace(tzinfo=UTC))
            total = sum((Decimal(r["UnitPrice"]) * abs(int(r["Quantity"])) for r in invoice), 0)
            key = first["InvoiceNo"]
            zero = amount(0)
            orders.append(
                (ids[0], workspace_id, now, key, None, "completed", "csv", "web", "GBP",
                 amount(total), zero, zero, zero, zero, placed, placed)
            )  # fmt: skip
            items.extend(
                (line_id, workspace_id, now, ids[0], r["StockCode"], r["StockCode"],
                 r["Description"], abs(int(r["Quantity"])), amount(Decimal(r["UnitPrice"])))
                for line_id, r in zip(ids[1:], invoice, strict=True)
            )  # fmt: skip
        chunks.append((orders, items))
    return chunks


async def plain_executemany(url: str, workspace_id: str, path: Path) -> tuple[float, float, float]:
    """Return the seconds a plain import takes to read the file into rows, then to insert
    them with one executemany per table and chunk, and the CPU seconds of both."""
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    marks = (lambda n: [f"${i}" for i in range(1, n + 1)]) if dialect == "postgresql" else None
    statements = []
    for table, columns in (("orders", ORDER_COLUMNS), ("order_items", ITEM_COLUMNS)):
        places = marks(len(columns)) if marks else ["?"] * len(columns)
        statements.append(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(places)})"  # noqa: S608
        )
    cpu, started = time.process_time(), time.perf_counter()
    chunks = plain_rows(path, workspace_id, dialect)
    read = time.perf_counter() - started
    database = Database(url, pool=False)
    started = time.perf_counter()
    for orders, items in chunks:
        async with database.session() as session:
            connection = await session.connection()
            await connection.exec_driver_sql(statements[0], orders)
            await connection.exec_driver_sql(statements[1], items)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    await database.dispose()
    return read, elapsed, cpu


async def chunk_times(url: str, workspace_id: str, path: Path, lines: int) -> list[float]:
    """Import the file's first `lines` lines in this process, a chunk per unit of work as the
    command does; return each unit of work's seconds (reading its rows included, so an upper
    bound of how long it held SQLite's writer)."""
    database = Database(url, pool=False)
    spent = []
    with path.open(newline="", encoding="utf-8") as stream:
        head = io.StringIO("".join(itertools.islice(stream, lines + 1)), newline="")
        invoices = read_invoices(head)
        while chunk := list(itertools.islice(invoices, INVOICES_PER_COMMIT)):
            started = time.perf_counter()
            async with database.session() as session:
                await imports.import_invoices(session, workspace_id, chunk)
            spent.append(time.perf_counter() - started)
    await database.dispose()
    return spent


def measure(label: str, url: str, lines: int, directory: str) -> None:
    upgrade(url)
    configure_keyring([SECRET.encode()])
    path = Path(directory) / "orders.csv"
    write_file(path, lines)
    slug = f"bench-{uuid.uuid4().hex[:6]}"
    workspace_id = asyncio.run(create_workspace(url, slug))
    first, first_cpu = run_import(url, path, slug, directory)
    after_first = asyncio.run(counts(url, workspace_id))
    again, _ = run_import(url, path, slug, directory)
    after_again = asyncio.run(counts(url, workspace_id))
    plain_workspace = asyncio.run(create_workspace(url, f"plain-{uuid.uuid4().hex[:6]}"))
    read, insert, plain_cpu = asyncio.run(plain_executemany(url, plain_workspace, path))
    print(f"{label} lines: {lines} ({after_first[0]} orders, {INVOICES_PER_COMMIT} per chunk)")
    print(
        f"{label} rapport import orders lines/s: {lines / first:,.0f} "
        f"({first:.1f} s, CPU {first_cpu:.1f} s, process start included)"
    )
    print(f"{label} same file again lines/s: {lines / again:,.0f} ({again:.1f} s)")
    verdict = "nothing added" if after_first == after_again else "ADDED ROWS"
    print(
        f"{label} orders, lines, products, customers after the first and the second import: "
        f"{after_first} {after_again} ({verdict})"
    )
    plain = read + insert
    print(
        f"{label} plain executemany import lines/s (csv read + executemany): {lines / plain:,.0f}"
    )
    print(f"{label} ratio import/plain executemany import: {plain / first:.2f}")
    # CPU seconds (both processes' threads, the database's own work included on SQLite) are
    # far less disturbed than wall time by other work on the machine.
    print(
        f"{label} CPU s import/plain executemany import: {first_cpu:.1f}/{plain_cpu:.1f}, "
        f"ratio {plain_cpu / first_cpu:.2f} (load {os.getloadavg()[0]:.1f})"
    )
    print(f"{label} insert-only ceiling lines/s (rows built beforehand): {lines / insert:,.0f}")
    print(f"{label} ratio import/insert-only ceiling: {insert / first:.2f}")
    timed = asyncio.run(chunk_times(url, plain_workspace, path, min(lines, 50_000)))
    print(
        f"{label} unit of work per chunk ms (rows read in it included): "
        f"median {statistics.median(timed) * 1000:.0f}, longest {max(timed) * 1000:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_DATABASE_URL"))
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    load_tasks()  # the in-process chunks publish and recompute as the CLI does
    print(f"cpus: {os.cpu_count()}")
    on_each_backend(
        lambda label, url, directory: measure(label, url, args.lines, directory),
        args.postgres,
        args.skip_sqlite,
    )


if __name__ == "__main__":
    main()
