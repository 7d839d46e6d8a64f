"""`rapport import survey-responses FILE.csv --kind nps|csat|ces`, with a progress bar."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress

from rapport.cli.common import console, out, run
from rapport.core.db import Database
from rapport.feedback.imports import label_rows, prepare, read_responses, response_imports
from rapport.identity.service import workspaces

# Responses per unit of work: prepared (sealed, labelled) before it opens, written in a few
# statements, so the server's own writes never wait long for SQLite's writer.
RESPONSES_PER_COMMIT = 500


def survey_responses(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV file."),
    workspace: str = typer.Option(..., help="Workspace slug."),
    kind: str = typer.Option(..., help="nps, csat or ces."),
) -> None:
    """Import past survey answers from a CSV with the columns user_id,score,answered_at (and
    optionally email,comment,channel); every row is checked before anything is stored, and
    importing a file again adds nothing. Prints the number imported as the last line."""

    kind = kind.strip().lower()

    async def work(database: Database) -> int:
        with file.open(encoding="utf-8-sig", newline="") as stream:
            rows = read_responses(stream, kind)
        labels = label_rows(rows)
        async with database.session() as session:
            workspace_id = (await workspaces.get_by_slug(session, workspace)).id
        imported = 0
        with Progress(console=console) as progress:
            task = progress.add_task("Importing survey responses", total=len(rows))
            for start in range(0, len(rows), RESPONSES_PER_COMMIT):
                chunk = prepare(kind, rows[start : start + RESPONSES_PER_COMMIT], labels)
                async with database.session() as session:
                    imported += await response_imports.store(session, workspace_id, chunk)
                progress.advance(task, len(chunk))
        return imported

    out.print(run(work))
