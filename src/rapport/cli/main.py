"""The `rapport` command: one Typer sub-app per file, registered here."""

from __future__ import annotations

import typer

from rapport.cli import (
    analytics,
    audit,
    customers,
    db,
    demo,
    events,
    imports,
    keys,
    metrics,
    nlp,
    server,
    sources,
    staff,
    workspaces,
)

app = typer.Typer(
    help="Rapport: self-hosted customer-experience platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("serve")(server.serve)
app.command("worker")(server.worker)
app.command("demo")(demo.demo)
app.add_typer(db.app, name="db")
app.add_typer(workspaces.app, name="workspaces")
app.add_typer(staff.app, name="staff")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(sources.app, name="sources")
app.add_typer(events.app, name="events")
app.add_typer(customers.app, name="customers")
app.add_typer(imports.app, name="import")
app.add_typer(nlp.app, name="nlp")
app.add_typer(metrics.app, name="metrics")
app.add_typer(analytics.app, name="analytics")


if __name__ == "__main__":  # `python -m rapport.cli.main ...` runs the CLI too
    app()
