"""The OpenAPI document: Rapport's error shape and statuses on every route; OPTIONS and 405."""

from __future__ import annotations

from typing import Any

import httpx

from rapport.core.db import Database
from tests.fixtures.identity import bearer, make_api_key, make_workspace

ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


async def test_every_error_answer_is_documented_as_error_body(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorBody"]["required"] == ["error", "detail"]
    assert sorted(schemas["ErrorBody"]["properties"]) == ["detail", "error", "problems"]
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert response["content"] == ERROR_CONTENT, (method, path, status)


async def test_api_operations_document_authentication_and_its_refusals(
    client: httpx.AsyncClient,
) -> None:
    document = await _document(client)
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    for path, method, operation in _operations(document):
        # The REST API authenticates by API key or session; the widget and webhooks by
        # credentials of their own (documented as their own 401s, without the ApiKey scheme).
        authenticated = path.startswith("/api/v1/")
        assert ("security" in operation) is authenticated, (method, path)
        if authenticated:
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
        elif path in ("/healthz", "/readyz"):
            assert "401" not in operation["responses"], (method, path)
    staff = document["paths"]["/api/v1/staff/{staff_id}"]
    assert staff["delete"]["responses"]["401"]["description"] == (
        "- `NotSignedIn`: No valid session or API key came with the request."
    )
    assert staff["delete"]["responses"]["403"]["description"] == (
        "- `MissingScope`: The caller lacks a scope the operation needs.\n"
        "- `CsrfFailed`: A state-changing browser request came without a valid CSRF token.\n"
        "- `Forbidden`: The signed-in staff member is no longer in the workspace, or it requires "
        "MFA they lack."
    )


async def test_service_errors_are_documented_by_name(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    revoke = document["paths"]["/api/v1/staff/invitations/{invitation_id}"]["delete"]
    assert sorted(revoke["responses"]) == ["200", "401", "403", "404", "410", "422"]
    assert revoke["responses"]["410"]["description"] == (
        "- `InvitationUnavailable`: The invitation was accepted, declined, revoked or has "
        "expired: its link is spent."
    )
    merge = document["paths"]["/api/v1/customer-merges"]["post"]
    statuses = ["201", "400", "401", "403", "404", "408", "409", "413", "422"]
    assert sorted(merge["responses"]) == statuses
    assert merge["responses"]["409"]["description"] == (
        "- `CannotMerge`: The two profiles cannot be merged (same profile, or one already merged)."
    )


async def test_validation_error_is_documented_with_problems_and_answered_so(
    client: httpx.AsyncClient, database: Database
) -> None:
    document = await _document(client)
    audit = document["paths"]["/api/v1/audit-events"]["get"]["responses"]
    assert audit["422"]["description"] == (
        "- `ValidationError`: The request does not match this document; `problems` lists each part."
    )
    secret = await make_api_key(database, await make_workspace(database))
    response = await client.get("/api/v1/audit-events?limit=0", headers=bearer(secret))
    assert response.status_code == 422
    assert response.json() == {
        "error": "ValidationError",
        "detail": "limit: Input should be greater than or equal to 1",
        "problems": [
            {
                "location": ["query", "limit"],
                "message": "Input should be greater than or equal to 1",
            }
        ],
    }


async def test_audit_cursor_past_the_column_range_is_a_validation_error(
    client: httpx.AsyncClient, database: Database
) -> None:
    secret = await make_api_key(database, await make_workspace(database))
    response = await client.get(
        "/api/v1/audit-events?before_seq=2147483648", headers=bearer(secret)
    )
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "location": ["query", "before_seq"],
            "message": "Input should be less than or equal to 2147483647",
        }
    ]


async def test_options_answers_204_with_the_documented_methods_of_every_path(
    client: httpx.AsyncClient,
) -> None:
    document = await _document(client)
    for path, methods in document["paths"].items():
        concrete = path.replace("{", "").replace("}", "")
        response = await client.options(concrete)
        assert response.status_code == 204, path
        documented = {method.upper() for method in methods if method in HTTP_METHODS}
        answered = documented | {"OPTIONS"} | ({"HEAD"} if "GET" in documented else set())
        assert response.headers["allow"] == ", ".join(sorted(answered)), path
        assert response.content == b""


async def test_options_on_an_unknown_path_is_404(client: httpx.AsyncClient) -> None:
    response = await client.options("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": "NotFound", "detail": "Not Found"}


async def test_an_unsupported_method_is_405_listing_every_method_of_the_path(
    client: httpx.AsyncClient,
) -> None:
    response = await client.put("/api/v1/staff/someone")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, OPTIONS, PATCH"
    assert response.json() == {"error": "MethodNotAllowed", "detail": "Method Not Allowed"}
