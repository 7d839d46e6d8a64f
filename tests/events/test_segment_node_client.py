"""Segment's Node library (@segment/analytics-node, from npm) against a running Rapport server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from rapport.core.db import Database
from rapport.events.models import Event
from tests.fixtures.identity import make_source, make_workspace
from tests.fixtures.server import LiveServer

SCRIPT = Path(__file__).with_name("segment_node.js")
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The repository's node_modules, where `make setup` installs the client (package.json)."""
    client = NODE_MODULES / "@segment" / "analytics-node" / "package.json"
    assert client.exists(), "@segment/analytics-node is missing: run `make setup` (npm ci)"
    return NODE_MODULES


async def test_every_call_from_the_node_library_arrives_once(
    live_server: LiveServer, database: Database, node_modules: Path
) -> None:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace)
    done = subprocess.run(
        ["node", str(SCRIPT), source.write_key, live_server.url],
        env={"NODE_PATH": str(node_modules), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    async with database.session() as session:
        stored = list(
            (await session.execute(select(Event.message_id).order_by(Event.message_id))).scalars()
        )
    assert stored == sorted(
        [f"node-{n}" for n in range(1, 7)] + [f"node-view-{n:02d}" for n in range(50)]
    )
