"""The settings tabs: which exist, who sees them, and how a failed form re-shows its tab."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Database
from rapport.errors import RapportError
from rapport.identity.enums import Scope
from rapport.web.console.context import ConsoleContext, fresh_context
from rapport.web.console.routing import ErrorView
from rapport.web.console.templating import page

TabRenderer = Callable[..., Awaitable[Response]]
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Tab:
    """One settings tab, shown to staff holding `scope` (everyone when None)."""

    key: str
    label: str
    path: str
    scope: Scope | None = None


TABS = [
    Tab("profile", "Profile & security", "/console/settings/profile"),
    Tab("workspace", "Workspace", "/console/settings/workspace", Scope.workspace_read),
    Tab("team", "Team", "/console/settings/team", Scope.staff_read),
    Tab("api-keys", "API keys", "/console/settings/api-keys", Scope.keys_read),
    Tab("sources", "Sources", "/console/settings/sources", Scope.sources_read),
    Tab("channels", "Channels", "/console/settings/channels", Scope.workspace_read),
    Tab("audit", "Audit log", "/console/settings/audit", Scope.audit_read),
]


def tab_page(
    ctx: ConsoleContext,
    key: str,
    *,
    error: RapportError | None = None,
    secret: bool = False,
    **values: Any,
) -> Response:
    """Render one settings tab (with an error, if a form on it failed)."""
    return page(
        ctx,
        f"settings/{key}.html",
        status_code=error.status_code if error else 200,
        headers=NO_STORE if secret else None,
        tabs=[tab for tab in TABS if tab.scope is None or ctx.can(tab.scope)],
        active_tab=key,
        error=error,
        **values,
    )


def errors_on(render: TabRenderer) -> ErrorView:
    """Return an error view that shows the failure on the tab `render` draws."""

    async def view(request: Request, error: RapportError) -> Response:
        database: Database = request.app.state.database
        async with database.session() as session:
            return await _render(request, session, render, error)

    return view


async def _render(
    request: Request, session: AsyncSession, render: TabRenderer, error: RapportError
) -> Response:
    ctx = await fresh_context(request, session)
    return await render(ctx, session, error=error)
