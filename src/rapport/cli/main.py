"""The `rapport` command: one Typer sub-app per file, registered here.

Only the part the command line names is imported: the others bring in the web app, the
language models or scipy, which `rapport import orders` has no use for and would pay for at
every start. With no command, `--help` or an unknown word, every part is loaded, so help and
errors list them all."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import typer

# Plain commands: name -> (module under rapport.cli, function).
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("server", "serve"),
    "worker": ("server", "worker"),
    "demo": ("demo", "demo"),
}
# Command groups: name -> module under rapport.cli whose `app` is the group.
GROUPS: dict[str, str] = {
    "db": "db",
    "workspaces": "workspaces",
    "staff": "staff",
    "keys": "keys",
    "audit": "audit",
    "sources": "sources",
    "events": "events",
    "jobs": "jobs",
    "customers": "customers",
    "import": "imports",
    "nlp": "nlp",
    "knowledge": "knowledge",
    "metrics": "metrics",
    "analytics": "analytics",
}


def build(argv: list[str]) -> typer.Typer:
    """Return the command line with the part `argv` names (every part when it names none)."""
    command = typer.Typer(
        help="Rapport: self-hosted customer-experience platform.",
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
    )
    # A callback keeps the command a group even when one plain command is loaded (Typer
    # would otherwise run that command itself and take its name for an argument).
    command.callback()(_group)
    named = argv[1] if len(argv) > 1 else None
    everything = named not in COMMANDS and named not in GROUPS
    for name, (module, function) in COMMANDS.items():
        if everything or name == named:
            command.command(name)(getattr(_part(module), function))
    for name, module in GROUPS.items():
        if everything or name == named:
            command.add_typer(_part(module).app, name=name)
    return command


def _group() -> None:
    """Rapport: self-hosted customer-experience platform."""


def _part(module: str) -> ModuleType:
    return importlib.import_module(f"rapport.cli.{module}")


app = build(sys.argv)


if __name__ == "__main__":  # `python -m rapport.cli.main ...` runs the CLI too
    app()
