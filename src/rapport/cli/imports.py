"""`rapport import orders FILE.csv` (UCI Online Retail columns), with a progress bar."""

from __future__ import annotations

import gzip
import itertools
import sys
from pathlib import Path
from typing import IO

import typer
from rich.progress import Progress

from rapport.cli.common import console, out, run
from rapport.core.collector import quiet_collector
from rapport.core.db import Database
from rapport.events.imports import imports, read_invoices
from rapport.identity.service import workspaces

app = typer.Typer(help="Import data from files.", no_args_is_help=True)
# Orders per unit of work: some 4,000 lines, read before it writes, then written in tens of
# milliseconds, so the server's own writes never wait long for SQLite's writer.
INVOICES_PER_COMMIT = 200


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")  # a spreadsheet's BOM is not a column


@app.command()
def orders(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV file (.csv or .csv.gz)."
    ),
    workspace: str = typer.Option(..., help="Workspace slug."),
) -> None:
    """Import orders from a CSV with the columns InvoiceNo, StockCode, Description, Quantity,
    InvoiceDate, UnitPrice, CustomerID, Country; prints the number of orders as the last line."""
    with _open(file) as stream:
        rows = sum(1 for _ in stream) - 1

    async def work(database: Database) -> int:
        # What the process loaded by now (modules, the domains' tasks, mappers) lives as long
        # as it does: left out of the collector's full passes, which an import triggers a few
        # times and which otherwise walk all of it (about 0.3 s each, measured on 50,000
        # lines: 0.9 s of collection in all, 0.05 s frozen).
        quiet_collector()
        async with database.session() as session:
            workspace_id = (await workspaces.get_by_slug(session, workspace)).id
        imported = 0
        with _open(file) as stream, Progress(console=console) as progress:
            task = progress.add_task("Importing orders", total=max(rows, 0))
            invoices = read_invoices(stream)
            while chunk := list(itertools.islice(invoices, INVOICES_PER_COMMIT)):
                async with database.session() as session:
                    imported += await imports.import_invoices(session, workspace_id, chunk)
                progress.advance(task, sum(len(invoice.rows) for invoice in chunk))
        return imported

    out.print(run(work))


# Past survey answers from another tool (their own module, beside the orders). Left out when
# the command line is `rapport import orders`: that module brings in the feedback domain and
# scipy, some 0.7 s of CPU at every start of an order import.
if sys.argv[1:3] != ["import", "orders"]:
    from rapport.cli.survey_imports import survey_responses

    app.command("survey-responses")(survey_responses)
