"""The tenant repository base scopes every statement to its workspace."""

from __future__ import annotations

import pytest

from rapport.core.db import Database
from rapport.identity.models import Source
from rapport.identity.repository import SourceRepository
from tests.fixtures.identity import make_source, make_workspace


async def test_get_cannot_read_another_workspaces_row(database: Database) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    source = await make_source(database, theirs)
    async with database.session() as session:
        assert await SourceRepository(session, mine.id).get(source.id) is None


async def test_get_reads_own_workspaces_row(database: Database) -> None:
    mine = await make_workspace(database)
    source = await make_source(database, mine)
    async with database.session() as session:
        found = await SourceRepository(session, mine.id).get(source.id)
    assert found is not None
    assert found.id == source.id


async def test_queries_built_on_base_query_see_only_own_rows(database: Database) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    own = await make_source(database, mine, "mine")
    await make_source(database, theirs, "theirs")
    async with database.session() as session:
        rows = await SourceRepository(session, mine.id).list_all()
    assert [row.id for row in rows] == [own.id]


async def test_count_sees_only_own_rows(database: Database) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    await make_source(database, mine)
    await make_source(database, theirs)
    await make_source(database, theirs)
    async with database.session() as session:
        repository = SourceRepository(session, mine.id)
        assert await repository.count(repository.base_query()) == 1


async def test_add_refuses_a_row_of_another_workspace(database: Database) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    async with database.session() as session:
        with pytest.raises(ValueError, match="another workspace"):
            await SourceRepository(session, mine.id).add(
                Source(name="x", write_key="wk_cross", workspace_id=theirs.id)
            )


async def test_add_stamps_the_repository_workspace(database: Database) -> None:
    mine = await make_workspace(database)
    async with database.session() as session:
        row = await SourceRepository(session, mine.id).add(Source(name="x", write_key="wk_1"))
    assert row.workspace_id == mine.id


async def test_update_through_repository_cannot_touch_another_workspace(
    database: Database,
) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    source = await make_source(database, theirs, "theirs")
    async with database.session() as session:
        found = await SourceRepository(session, mine.id).get(source.id)
        if found is not None:
            found.name = "hijacked"
    async with database.session() as session:
        unchanged = await SourceRepository(session, theirs.id).get(source.id)
    assert unchanged is not None
    assert unchanged.name == "theirs"
