"""`python -m rapport ...`: the command-line interface."""

from rapport.cli.main import app

app()
