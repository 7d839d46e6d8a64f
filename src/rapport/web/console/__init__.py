"""The staff console: server-rendered Jinja2 + HTMX, under /console.

Adding an area (say Customers) takes two steps:

1. Write `rapport/web/console/customers.py` with `router = console_router()` (from
   `rapport.web.console.routing`, so its errors render as pages) and routes such as
   `@router.get("/customers")` taking `ctx: Console` (from `rapport.web.console.context`:
   it signs the visitor in, enforces MFA and gives the workspace and principal); render with
   `page(ctx, "customers/list.html", ...)` from `templating`, templates extending "layout.html"
   under `templates/customers/`.
2. Register it in its domain's entry of `rapport.domains.DOMAINS`: `ConsoleArea("Customers",
   "/console/customers", "users", page="customers")` (or, for pages that are no area, the
   module's name in `console_pages`). The navigation shows it in its place in PLACES below;
   places no registered domain provides yet show as disabled "soon" items.

Every POST, PUT, PATCH or DELETE under /console must carry the CSRF token (the hidden
`csrf_token` field, or the `X-CSRF-Token` header that console.js adds to HTMX requests);
`require_csrf` checks it for all console routers at once.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import RedirectResponse

from rapport.config import Settings
from rapport.domains import ConsoleArea, console_areas, console_pages
from rapport.web.console import home
from rapport.web.console import settings as settings_pages
from rapport.web.console.assets import mount_assets
from rapport.web.console.routing import install_console_errors
from rapport.web.console.security import require_csrf
from rapport.web.console.templating import templates


@dataclass(frozen=True)
class Area:
    """A console area in the navigation; without a router it is shown as coming soon."""

    label: str
    path: str
    router: APIRouter | None = None
    icon: str = "dot"

    @property
    def enabled(self) -> bool:
        """Tell whether the area exists yet."""
        return self.router is not None


# Where each area sits in the navigation, whichever domain provides it.
PLACES: list[Area] = [
    Area("Inbox", "/console/inbox", icon="inbox"),
    Area("Customers", "/console/customers", icon="users"),
    Area("Assistant", "/console/assistant", icon="bot"),
    Area("Surveys", "/console/surveys", icon="survey"),
    Area("Metrics", "/console/metrics", icon="chart"),
    Area("Journeys", "/console/journeys", icon="route"),
    Area("Loyalty", "/console/loyalty", icon="gift"),
    Area("Automation", "/console/automation", icon="bolt"),
]
SETTINGS_AREA = Area("Settings", "/console/settings", settings_pages.router, icon="gear")


def _page_router(page: str) -> APIRouter:
    router: APIRouter = importlib.import_module(f"rapport.web.console.{page}").router
    return router


def _area(area: ConsoleArea) -> Area:
    router = _page_router(area.page) if area.page is not None else None
    return Area(area.label, area.path, router, icon=area.icon)


def _navigation() -> list[Area]:
    """Return Home, then the places filled by the domains' areas, then areas without a place."""
    provided = {area.label: _area(area) for area in console_areas()}
    placed = [provided.pop(place.label, place) for place in PLACES]
    return [Area("Home", "/console", home.router, icon="home"), *placed, *provided.values()]


AREAS: list[Area] = _navigation()


def console_routers() -> list[APIRouter]:
    """Return every console router: areas first, then settings and the domains' other pages."""
    areas = [area.router for area in [*AREAS, SETTINGS_AREA] if area.router is not None]
    provided = {id(router) for router in areas}
    pages = [_page_router(page) for page in console_pages()]
    return [*areas, *(router for router in pages if id(router) not in provided)]


def mount_console(app: FastAPI, settings: Settings) -> None:
    """Mount the console pages under /console and their static assets under /static."""
    templates.env.globals.update(nav=AREAS, settings_area=SETTINGS_AREA)
    for router in console_routers():
        app.include_router(router, prefix="/console", dependencies=[Depends(require_csrf)])
    install_console_errors(app)
    app.add_api_route("/", _to_console, include_in_schema=False)
    mount_assets(app)


async def _to_console() -> RedirectResponse:
    """Send visitors of the site root to the console."""
    return RedirectResponse("/console", status_code=307)
