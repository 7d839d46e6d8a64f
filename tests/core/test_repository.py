"""The tenant repository base scopes every statement to its workspace."""

from __future__ import annotations

import pytest
from sqlalchemy import Select, bindparam, select, update

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


async def test_the_statement_by_id_is_built_once_and_bound_to_each_workspace(
    database: Database,
) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    own, other = await make_source(database, mine), await make_source(database, theirs)
    async with database.session() as session:
        repository, foreign = (
            SourceRepository(session, mine.id),
            SourceRepository(session, theirs.id),
        )
        assert repository.id_query() is foreign.id_query()  # one statement, reused
        assert repository.id_query(for_update=True) is not repository.id_query()
        assert (await foreign.get(other.id)) is not None
        assert await repository.get(other.id) is None  # the reused statement, this workspace
        found = await repository.get(own.id)
        assert found is not None and found.id == own.id


class NamedSources(SourceRepository):
    async def named(self, name: str) -> list[Source]:
        query = self.prepared(
            "named", lambda: self.scoped().where(Source.name == bindparam("name"))
        )
        return list(await self.all(query, self.params(name=name)))


async def test_a_prepared_statement_is_built_once_and_bound_to_each_workspace(
    database: Database,
) -> None:
    mine, theirs = await make_workspace(database), await make_workspace(database)
    own, other = (
        await make_source(database, mine, "shop"),
        await make_source(database, theirs, "shop"),
    )
    async with database.session() as session:
        repository, foreign = NamedSources(session, mine.id), NamedSources(session, theirs.id)
        assert [row.id for row in await repository.named("shop")] == [own.id]
        assert [row.id for row in await foreign.named("shop")] == [other.id]
        assert await repository.named("other") == []

        def never() -> Select[Source]:
            raise AssertionError("built again")

        # One statement for every instance of the class, whatever its workspace.
        assert repository.prepared("named", never) is foreign.prepared("named", never)
        with pytest.raises(AssertionError, match="built again"):
            SourceRepository(session, mine.id).prepared("named", never)  # per class


async def test_a_prepared_statement_carrying_a_workspace_is_refused(database: Database) -> None:
    # Kept for every workspace, a statement built from base_query() would show the first
    # workspace's rows to all of them.
    mine = await make_workspace(database)
    async with database.session() as session:
        repository = SourceRepository(session, mine.id)
        with pytest.raises(ValueError, match="must bind the workspace"):
            repository.prepared("carrying", repository.base_query)
        with pytest.raises(ValueError, match="must bind the workspace"):
            repository.prepared("unscoped", lambda: select(Source))
        # Neither was kept: the next call builds (and refuses) again.
        with pytest.raises(ValueError, match="must bind the workspace"):
            repository.prepared("carrying", repository.base_query)


async def test_a_fresh_read_by_id_reads_the_columns_again(database: Database) -> None:
    mine = await make_workspace(database)
    source = await make_source(database, mine, "before")
    async with database.session() as session:
        repository = SourceRepository(session, mine.id)
        held = await repository.get(source.id)
        assert held is not None and held.name == "before"
        renamed = update(Source).where(Source.id == source.id).values(name="after")
        await session.execute(renamed.execution_options(synchronize_session=False))
        params = repository.id_params(source.id)
        assert (await repository.one_or_none(repository.id_query(), params)) is held
        assert held.name == "before"  # the unit of work's copy, as first read
        await repository.one_or_none(repository.id_query(fresh=True), params)
        assert held.name == "after"
