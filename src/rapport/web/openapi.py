"""The OpenAPI document: every error answer in Rapport's shape, with the statuses it can be."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from rapport.core.csrf import SAFE_METHODS
from rapport.errors import (
    CsrfFailed,
    ErrorBody,
    PayloadTooLarge,
    Problem,
    describe_error,
    error_responses,
)
from rapport.identity.auth import current_principal
from rapport.identity.errors import MissingScope, NotSignedIn

SCHEMAS = "#/components/schemas/"
ERROR_CONTENT = {"application/json": {"schema": {"$ref": f"{SCHEMAS}ErrorBody"}}}
# FastAPI's own 422 shape, which Rapport never sends.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
VALIDATION = describe_error(
    "ValidationError", "The request does not match this document; `problems` lists each part."
)
STAFF_REFUSED = describe_error(
    "Forbidden",
    "The signed-in staff member is no longer in the workspace, or it requires MFA they lack.",
)
# FastAPI's answer to a body it cannot decode at all (not UTF-8, say); a JSON syntax error is 422.
UNREADABLE_BODY = describe_error("BadRequest", "The body could not be read as JSON text.")
# Bodies are read whole, capped and on a deadline before any route runs (web/bodies.py).
SLOW_BODY = describe_error("RequestTimeout", "The body did not arrive in time.")
SECURITY_SCHEMES = {
    "ApiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A secret API key (`Authorization: Bearer rk_...`). Signed-in staff "
        "may use the console's session cookie instead, with the `X-CSRF-Token` header on writes.",
    }
}


def install_openapi(app: FastAPI) -> None:
    """Publish the document with Rapport's error answers instead of FastAPI's defaults."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_answers(app, FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe_answers(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """Document each operation's errors: declared by its route, derived from its inputs and
    its authentication; every error in the shared `ErrorBody` shape."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(_error_schemas())
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            _describe_operation(route, method, operation)
    if any("security" in op for ops in document["paths"].values() for op in ops.values()):
        components["securitySchemes"] = SECURITY_SCHEMES
    return document


def _describe_operation(route: RouteContext, method: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    for status, lines in derived_errors(route, method).items():
        described = responses.setdefault(str(status), {"description": ""})
        known = [line for line in described["description"].split("\n") if line.startswith("- ")]
        described["description"] = "\n".join(known + [line for line in lines if line not in known])
    for status, response in responses.items():
        if status.startswith("4"):
            response["content"] = ERROR_CONTENT
    operation["responses"] = dict(sorted(responses.items()))
    if authenticates(route):
        operation["security"] = [{"ApiKey": []}]


def derived_errors(route: RouteContext, method: str) -> dict[int, list[str]]:
    """Return the errors every route like this one can answer, by status."""
    derived: dict[int, list[str]] = {}
    if authenticates(route):
        errors = [NotSignedIn, MissingScope, *([CsrfFailed] if method not in SAFE_METHODS else [])]
        derived.update(_lines(error_responses(*errors)))
        derived[403].append(STAFF_REFUSED)
    if route.body_field is not None:
        derived[400] = [UNREADABLE_BODY]
        derived[408] = [SLOW_BODY]
        derived.update(_lines(error_responses(PayloadTooLarge)))
    if get_flat_params(route.dependant) or route.body_field is not None:
        derived[422] = [VALIDATION]
    return derived


def _lines(responses: dict[int | str, dict[str, Any]]) -> dict[int, list[str]]:
    return {
        int(status): response["description"].split("\n") for status, response in responses.items()
    }


def authenticates(route: RouteContext) -> bool:
    """Tell whether the route authenticates its caller (API key or staff session)."""
    return current_principal in _calls(route.dependant)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _error_schemas() -> dict[str, Any]:
    definitions: dict[str, Any] = {}
    for model in (Problem, ErrorBody):
        schema = model.model_json_schema(ref_template=SCHEMAS + "{model}")
        definitions.update(schema.pop("$defs", {}))
        definitions[model.__name__] = schema
    return definitions
