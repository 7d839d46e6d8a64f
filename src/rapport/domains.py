"""Every domain's registration, in one list: the app, the worker, the console and Alembic
discover models, routers, jobs, subscriptions, scopes and console areas here.

Adding a domain is one entry in DOMAINS (see docs/architecture.md). A domain's parts are
modules with fixed names under `rapport.<name>`; an entry says which of them it has, and
loading one that is declared but missing fails loudly instead of silently doing nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from rapport.config import Settings
from rapport.identity.enums import Scope

if TYPE_CHECKING:  # only the app needs FastAPI: the worker and the CLI load without it
    from fastapi import APIRouter


@dataclass(frozen=True)
class ConsoleArea:
    """A console navigation item; `page` names the module under `rapport.web.console` that
    holds its `router` (none: the area is shown as coming soon)."""

    label: str
    path: str
    icon: str
    page: str | None = None


class BackgroundPart(Protocol):
    """Something a domain runs beside the web server for as long as the app lives."""

    def start(self) -> None:
        """Start it (the app is starting)."""

    def stop(self) -> None:
        """Stop it (the app is stopping)."""


@dataclass(frozen=True)
class Domain:
    """One domain's registration: which of its parts exist and what they contribute."""

    name: str
    scopes: tuple[Scope, ...] = ()
    # `models`: ORM classes (Alembic); `endpoints`: `router`, mounted under /api/v1;
    # `tasks`: jobs, schedules and domain-event subscriptions, registered on import.
    models: bool = True
    endpoints: bool = True
    tasks: bool = False
    # Routers of `endpoints` mounted outside /api/v1 (Segment's /v1 paths keep their own).
    root_routers: tuple[str, ...] = ()
    console_areas: tuple[ConsoleArea, ...] = ()
    # Console modules that are no navigation area (sign-in, settings sub-pages, ...).
    console_pages: tuple[str, ...] = ()
    # Factories in `background` (Settings -> BackgroundPart) of what runs beside the server;
    # the app keeps each on `app.state` under its factory's name.
    background: tuple[str, ...] = ()

    def part(self, name: str) -> ModuleType:
        """Import and return the domain's module `name`."""
        return importlib.import_module(f"rapport.{self.name}.{name}")


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "identity",
        scopes=(
            Scope.workspace_read,
            Scope.workspace_write,
            Scope.staff_read,
            Scope.staff_write,
            Scope.keys_read,
            Scope.keys_write,
            Scope.sources_read,
            Scope.sources_write,
            Scope.audit_read,
        ),
        tasks=True,
        console_pages=("auth", "enrolment", "team", "keys", "invitations"),
    ),
    Domain(
        "customers",
        scopes=(Scope.customers_read, Scope.customers_write, Scope.customers_merge),
        console_areas=(ConsoleArea("Customers", "/console/customers", "users", "customers"),),
    ),
    Domain(
        "events",
        scopes=(Scope.events_read, Scope.events_write),
        tasks=True,
        root_routers=("segment_router",),
        background=("ingestion",),
    ),
    Domain("messaging", endpoints=False, tasks=True, background=("mailer",)),
    Domain(
        "support",
        scopes=(
            Scope.conversations_read,
            Scope.conversations_write,
            Scope.conversations_assign,
        ),
        console_areas=(ConsoleArea("Inbox", "/console/inbox", "inbox", "support"),),
        console_pages=("support_actions", "support_tools", "support_tools_pages", "channels"),
        root_routers=("email_webhook_router", "sms_webhook_router"),
        tasks=True,
        background=("imap_polling",),
    ),
    Domain(
        "feedback",
        scopes=(Scope.feedback_read, Scope.feedback_write),
        console_areas=(ConsoleArea("Surveys", "/console/surveys", "survey", "surveys"),),
        console_pages=("feedback",),
        tasks=True,
    ),
    Domain(
        "knowledge",
        scopes=(Scope.knowledge_read, Scope.knowledge_write),
        console_areas=(ConsoleArea("Knowledge", "/console/knowledge", "book", "knowledge"),),
        console_pages=("product_sheets",),
        root_routers=("help_router", "shopify_router"),
    ),
    Domain(
        "assistant",
        tasks=True,
        console_areas=(ConsoleArea("Assistant", "/console/assistant", "bot", "assistant"),),
        console_pages=("agent_assist", "assistant_intents"),
    ),
    Domain(
        "analytics",
        scopes=(Scope.metrics_read,),
        tasks=True,
        console_areas=(ConsoleArea("Metrics", "/console/metrics", "chart", "dashboard"),),
    ),
    Domain("webhooks", scopes=(Scope.webhooks_read, Scope.webhooks_write), tasks=True),
)


def load_models() -> None:
    """Import every domain's models, so the shared metadata holds the whole schema."""
    for domain in DOMAINS:
        if domain.models:
            domain.part("models")


def load_tasks() -> None:
    """Import every domain's `tasks`, registering its jobs, schedules and subscriptions.

    Every process that enqueues or publishes calls this (app, worker, CLI): a subscription
    unknown to the publishing process would never be enqueued."""
    for domain in DOMAINS:
        if domain.tasks:
            domain.part("tasks")


def api_routers() -> list[APIRouter]:
    """Return every domain's REST router, in registration order (mounted under /api/v1)."""
    return [domain.part("endpoints").router for domain in DOMAINS if domain.endpoints]


def root_routers() -> list[APIRouter]:
    """Return the domains' routers that keep paths of their own outside /api/v1."""
    found = [(domain, name) for domain in DOMAINS for name in domain.root_routers]
    return [getattr(domain.part("endpoints"), name) for domain, name in found]


def console_areas() -> list[ConsoleArea]:
    """Return every domain's console navigation areas."""
    return [area for domain in DOMAINS for area in domain.console_areas]


def console_pages() -> list[str]:
    """Return the console modules of every domain's area and other pages."""
    areas = [area.page for area in console_areas() if area.page is not None]
    return [*areas, *(page for domain in DOMAINS for page in domain.console_pages)]


def background_parts(settings: Settings) -> dict[str, BackgroundPart]:
    """Build what every domain runs beside the server, by name (not started yet)."""
    found = [(domain, name) for domain in DOMAINS for name in domain.background]
    return {name: getattr(domain.part("background"), name)(settings) for domain, name in found}
