"""Fuzz every operation of the published OpenAPI schema against a live server, with a real
API key holding every scope: no 5xx, and every answer is one the document declares (status,
content type, body schema), so every error is the shared JSON shape. New endpoints are
covered as soon as they are routed."""

from __future__ import annotations

import asyncio
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from rapport.core.db import Database
from rapport.identity.enums import Scope
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.server import LiveServer

EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _operations(live_server: LiveServer) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json", timeout=60)
    return [result.ok() for result in schema.get_all_operations()]


def _fuzz(operation: Any, base_url: str, secret: str) -> None:
    """Run bounded, derandomised cases of one operation in both generation modes."""
    for mode, examples in EXAMPLES.items():

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(base_url=base_url, headers=bearer(secret), timeout=30)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            # An operation with nothing to get wrong (no parameters, no body) has no
            # negative cases; its positive ones ran above.
            assert mode is GenerationMode.NEGATIVE


async def test_every_operation_answers_only_what_the_document_declares(
    live_server: LiveServer, database: Database
) -> None:
    operations = await asyncio.to_thread(_operations, live_server)
    assert any(op.path == "/api/v1/staff" for op in operations)
    workspace = await make_workspace(database)
    # A fresh all-scopes key per operation: a fuzzed DELETE can never revoke the key in use.
    secrets = [await make_api_key(database, workspace, list(Scope)) for _ in operations]
    for operation, secret in zip(operations, secrets, strict=True):
        await asyncio.to_thread(_fuzz, operation, live_server.url, secret)
