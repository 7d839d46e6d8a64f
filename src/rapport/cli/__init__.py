"""The `rapport` command line (Typer + Rich), one file per command group."""
