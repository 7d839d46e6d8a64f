"""`rapport audit verify`."""

from __future__ import annotations

import typer

from rapport.cli.common import console, run
from rapport.core.db import Database
from rapport.identity.audit import ChainReport, audit

app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Check every link of the audit chain; exit 1 and name the first broken record."""

    async def work(database: Database) -> ChainReport:
        async with database.session() as session:
            return await audit.verify(session)

    with console.status("Verifying the audit chain…"):
        report = run(work)
    if report.first_broken_seq is None:
        console.print(f"[green]Audit chain intact:[/green] {report.checked} records verified.")
        return
    console.print(
        f"[red]Audit chain broken at record {report.first_broken_seq}[/red] "
        f"({report.checked} records before it verified)."
    )
    raise typer.Exit(1)
