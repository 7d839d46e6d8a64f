"""`rapport audit verify`, `checkpoint` and `public-key`."""

from __future__ import annotations

from pathlib import Path

import typer

from rapport.cli.common import console, out, run, settings
from rapport.core.db import Database
from rapport.identity.audit import ChainReport
from rapport.identity.checkpoints import (
    Checkpoint,
    audit_checkpoints,
    key_id_of,
    load_public_key,
    public_key_text,
    public_keys,
)

app = typer.Typer(
    help="The MAC-chained audit log and its signed checkpoints.", no_args_is_help=True
)


@app.command()
def verify(
    checkpoint: Path | None = typer.Option(
        None,
        exists=True,
        dir_okay=False,
        help="An exported checkpoint whose record the chain must still hold, unchanged.",
    ),
    public_key: str | None = typer.Option(
        None, help="Check --checkpoint with this published key (base64) instead of the ring's."
    ),
) -> None:
    """Check every link, MAC and checkpoint of the audit chain; exit 1 naming the first
    broken record."""

    document = checkpoint.read_text() if checkpoint else None

    async def work(database: Database) -> ChainReport:
        external = Checkpoint.parse(document) if document is not None else None
        trusted = None
        if public_key is not None:
            key = load_public_key(public_key)
            trusted = {key_id_of(key): key}
        async with database.session() as session:
            return await audit_checkpoints.verify(session, external=external, trusted=trusted)

    with console.status("Verifying the audit chain…"):
        report = run(work)
    if report.first_broken_seq is None:
        console.print(f"[green]Audit chain intact:[/green] {report.checked} records verified.")
        return
    console.print(
        f"[red]Audit chain broken at record {report.first_broken_seq}[/red]: {report.reason} "
        f"({report.checked} records before it verified)."
    )
    raise typer.Exit(1)


@app.command()
def checkpoint(
    output: Path | None = typer.Option(
        None, dir_okay=False, help="Write the signed checkpoint here instead of to stdout."
    ),
) -> None:
    """Verify the chain, sign its head and export the checkpoint (keep it off this server)."""

    async def work(database: Database) -> Checkpoint:
        async with database.session() as session:
            return await audit_checkpoints.create(session)

    signed = run(work)
    if output is None:
        out.print(signed.export(), markup=False, end="")
        return
    output.write_text(signed.export())
    console.print(f"Checkpoint of record {signed.seq} written to {output}.")


@app.command("public-key")
def public_key() -> None:
    """Print the checkpoint public keys (key id, base64), the signing one first."""
    settings()
    for key_id, key in public_keys().items():
        out.print(f"{key_id} {public_key_text(key)}")
