"""`rapport db upgrade`."""

from __future__ import annotations

import typer

from rapport.cli.common import console, settings
from rapport.db.migrate import upgrade as run_upgrade

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply database migrations (safe to run again)."""
    with console.status("Applying migrations…"):
        run_upgrade(settings().database_url, revision)
    console.print("[green]Database is up to date.[/green]")
