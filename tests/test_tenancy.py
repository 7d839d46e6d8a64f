"""No /api/v1 route lets one workspace reach another workspace's objects by id."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from rapport.core.db import Database
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.tenancy import leaks, operations_with_ids, probe_other_workspace_ids


async def test_every_route_with_ids_refuses_another_workspaces_ids(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    probes = await probe_other_workspace_ids(
        app,
        client,
        database,
        headers=bearer(await make_api_key(database, mine)),
        other_workspace_id=theirs.id,
        other_headers=bearer(await make_api_key(database, theirs)),
    )
    assert leaks(probes) == []
    assert len(probes) == len(operations_with_ids(app))
