"""Identity verification from the outside: Segment's Python library sending `context.userHash`
to a running server, and `rapport sources identity-secret` (real subprocesses)."""

from __future__ import annotations

import httpx
from segment.analytics import Client

from rapport.config import Settings
from rapport.core.db import Database
from rapport.customers.service import customers
from rapport.identity.audit import SYSTEM
from rapport.identity.verification import identity_verification, user_hash
from tests.events.test_cli import rapport
from tests.fixtures.events import process_all
from tests.fixtures.identity import make_source, make_workspace
from tests.fixtures.server import LiveServer


async def test_the_python_library_carries_the_signature_unchanged(
    live_server: LiveServer, database: Database
) -> None:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace, verified_identity=True)
    async with database.session() as session:
        secret = await identity_verification.secret(
            session, workspace_id=workspace.id, source_id=source.id, actor=SYSTEM
        )
    errors: list[Exception] = []
    client = Client(source.write_key, host=live_server.url, on_error=lambda e, _: errors.append(e))
    signed = {"userHash": user_hash(secret, "ada-1")}
    client.identify("ada-1", {"email": "ada@example.com"}, context=signed, anonymous_id="b-1")
    client.identify("eve-1", {"email": "eve@example.com"}, anonymous_id="b-2")
    client.flush()
    client.join()
    await process_all(database)
    async with database.session() as session:
        found = [
            await customers.search(session, workspace.id, query)
            for query in ("ada@example.com", "eve@example.com", "eve-1")
        ]
    assert errors == []
    assert [len(ids) for ids in found] == [1, 0, 0]


async def test_the_cli_prints_rotates_and_requires(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    command = ["sources", "identity-secret", "--workspace", workspace.slug]
    command += ["--write-key", source.write_key]
    first = rapport(settings, *command)[-1]
    again = rapport(settings, *command)[-1]
    rotated = rapport(settings, *command, "--rotate", "--require")[-1]
    async with database.session() as session:
        [row] = await identity_verification.overview(session, workspace.id)
    assert len(first) == 43
    assert again == first
    assert rotated != first
    assert (row.secret, row.required) == (rotated, True)
