"""The public survey page: a signed single-use link that works without signing in."""

from __future__ import annotations

from rapport.web.console.routing import console_router

router = console_router()
