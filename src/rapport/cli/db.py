"""`rapport db upgrade`."""

from __future__ import annotations

import typer

from rapport.cli.common import console, run, settings
from rapport.core.db import Database
from rapport.db.migrate import upgrade as run_upgrade
from rapport.identity.audit import audit

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply database migrations (safe to run again)."""
    with console.status("Applying migrations…"):
        run_upgrade(settings().database_url, revision)
    run(seal_audit_boundary)
    console.print("[green]Database is up to date.[/green]")


async def seal_audit_boundary(database: Database) -> None:
    """MAC the audit log's legacy boundary (records from before keyed MACs), once."""
    async with database.session() as session:
        await audit.seal_legacy_boundary(session)
