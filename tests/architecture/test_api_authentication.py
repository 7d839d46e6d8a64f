"""Every /api/v1 endpoint authenticates its caller (rule 12), bar an explicit allow-list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI

from rapport.identity.auth import current_principal
from tests.fixtures.routes import every_route

# (method, path) pairs that are public on purpose, each with its reason.
PUBLIC_API_ENDPOINTS: frozenset[tuple[str, str]] = frozenset()


def _calls(dependant: Any) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _unauthenticated(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for route in every_route(app):
        dependant = getattr(route, "dependant", None)
        if dependant is None or not route.path.startswith("/api/v1"):
            continue
        if current_principal in set(_calls(dependant)):
            continue
        found.extend((method, route.path) for method in sorted(route.methods))
    return sorted(set(found) - PUBLIC_API_ENDPOINTS)


def test_every_api_endpoint_depends_on_current_principal(app: FastAPI) -> None:
    assert _unauthenticated(app) == []


def test_the_check_sees_every_api_endpoint(app: FastAPI) -> None:
    # FastAPI includes routers lazily: a walk of `app.routes` alone once saw none of them.
    paths = {route.path for route in every_route(app) if hasattr(route, "dependant")}
    assert {"/api/v1/me", "/api/v1/customers", "/api/v1/audit-events"} <= paths


def test_the_check_sees_endpoints_without_authentication(app: FastAPI) -> None:
    @app.get("/api/v1/test-only/open")
    async def _open() -> dict[str, str]:
        return {}

    assert _unauthenticated(app) == [("GET", "/api/v1/test-only/open")]
