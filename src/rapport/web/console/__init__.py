"""The staff console: server-rendered Jinja2 + HTMX."""

from __future__ import annotations

from fastapi import FastAPI

from rapport.config import Settings


def mount_console(app: FastAPI, settings: Settings) -> None:
    """Mount the console pages and their static assets."""
