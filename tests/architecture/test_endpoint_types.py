"""Every endpoint declares what it returns (a type mypy checks), never `object`."""

from __future__ import annotations

import typing

from fastapi import FastAPI
from fastapi.routing import APIRoute


def _untyped(app: FastAPI) -> list[str]:
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            returns = typing.get_type_hints(route.endpoint).get("return")
            if returns is None or returns is object:
                found.append(route.endpoint.__qualname__)
    return sorted(found)


def test_no_endpoint_returns_object(app: FastAPI) -> None:
    assert _untyped(app) == []


def test_the_check_sees_an_endpoint_typed_object(app: FastAPI) -> None:
    @app.get("/test-only/untyped")
    async def untyped() -> object:
        return {}

    assert _untyped(app) == ["test_the_check_sees_an_endpoint_typed_object.<locals>.untyped"]
