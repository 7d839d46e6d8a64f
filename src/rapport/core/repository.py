"""Repository bases: every SQL statement lives in a repository; tenant ones are scoped."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ClauseElement, ColumnElement, Select, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Base, TenantMixin, dialect_of

ModelT = TypeVar("ModelT", bound=Base)
TenantT = TypeVar("TenantT", bound=TenantMixin)
StatementT = TypeVar("StatementT", bound=ClauseElement)

# Statements built once per repository class and name (`prepared`), their values bound when
# they run.
_PREPARED: dict[tuple[type, str], Any] = {}


class Repository(Generic[ModelT]):
    """Data access for one model that is not owned by a workspace."""

    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        """Name the database dialect (sqlite or postgresql)."""
        return dialect_of(self.session)

    def upserting(self) -> postgresql.Insert | sqlite.Insert:
        """Return an INSERT into this repository's table in the database's own dialect, which
        takes `on_conflict_do_update` / `on_conflict_do_nothing` (alike on both)."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(self.model)

    def base_query(self) -> Select[ModelT]:
        """Return the SELECT every query of this repository starts from (reads by id start
        from `_id_query`, its prepared twin: a subclass that narrows one narrows both)."""
        return select(self.model)

    def prepared(self, name: str, build: Callable[[], StatementT]) -> StatementT:
        """Return the statement `build()` makes, built once per repository class under `name`
        and reused, its values bound when it runs (`bindparam`s, given with `params`). For
        the statements every message or job runs: building one and working out its cache
        key cost about half of a small SELECT's CPU on SQLite."""
        key = (type(self), name)
        statement = _PREPARED.get(key)
        if statement is None:
            statement = _PREPARED[key] = build()
        return statement

    def params(self, **values: Any) -> dict[str, Any]:
        """Return the values a `prepared` statement runs with."""
        return values

    def id_query(self, *, for_update: bool = False, fresh: bool = False) -> Select[ModelT]:
        """Return the SELECT of one row by primary key, `prepared` (run it with `id_params`).
        `for_update` locks the row; `fresh` reads its columns afresh even when this unit of
        work holds it already."""

        def build() -> Select[ModelT]:
            statement = self._id_query()
            if for_update:
                statement = statement.with_for_update()
            if fresh:
                statement = statement.execution_options(populate_existing=True)
            return statement

        return self.prepared(f"id:{for_update}:{fresh}", build)

    def id_params(self, id_: Any) -> dict[str, Any]:
        """Return the values `id_query`'s statement is run with."""
        return self.params(key=id_)

    def _id_query(self) -> Select[ModelT]:
        primary_key = self.model.__mapper__.primary_key[0]
        return select(self.model).where(primary_key == bindparam("key"))

    async def get(self, id_: Any) -> ModelT | None:
        """Return the row with this primary key, if visible to this repository."""
        return await self.one_or_none(self.id_query(), self.id_params(id_))

    async def one_or_none(
        self, statement: Select[ModelT], params: Mapping[str, Any] | None = None
    ) -> ModelT | None:
        """Run a SELECT expected to match at most one row (with `params` bound, if any)."""
        return (await self.session.execute(statement, params)).scalars().one_or_none()

    async def all(
        self, statement: Select[ModelT], params: Mapping[str, Any] | None = None
    ) -> Sequence[ModelT]:
        """Run a SELECT and return every row (with `params` bound, if any)."""
        return (await self.session.execute(statement, params)).scalars().all()

    async def count(self, statement: Select[ModelT]) -> int:
        """Count the rows a SELECT would return."""
        counted = select(func.count()).select_from(statement.order_by(None).subquery())
        return int((await self.session.execute(counted)).scalar_one())

    async def add(self, instance: ModelT) -> ModelT:
        """Add a row and flush it so its defaults and id are set."""
        self.session.add(instance)
        await self.session.flush()
        return instance

    async def delete(self, instance: ModelT) -> None:
        """Delete a row."""
        await self.session.delete(instance)
        await self.session.flush()


class TenantRepository(Repository[TenantT]):
    """Data access scoped to one workspace: no statement can see another workspace's rows."""

    def __init__(self, session: AsyncSession, workspace_id: str) -> None:
        super().__init__(session)
        self.workspace_id = workspace_id

    def base_query(self) -> Select[TenantT]:
        """Return the workspace-scoped SELECT every query starts from."""
        return select(self.model).where(self.model.workspace_id == self.workspace_id)

    def scoped(self) -> Select[TenantT]:
        """Return the workspace-scoped SELECT a `prepared` statement starts from: the
        workspace is bound when it runs (`params`)."""
        return select(self.model).where(self.model.workspace_id == bindparam("workspace_id"))

    def params(self, **values: Any) -> dict[str, Any]:
        """Return the values a `prepared` statement runs with, this workspace's among them."""
        return {"workspace_id": self.workspace_id, **values}

    def prepared(self, name: str, build: Callable[[], StatementT]) -> StatementT:
        """As `Repository.prepared`, refusing a statement that does not bind the workspace or
        carries this one's id: built once and kept for every workspace, it would show the
        first workspace's rows to all (build from `scoped()`, never `base_query()`)."""

        def checked() -> StatementT:
            statement = build()
            values = statement.compile().params
            if "workspace_id" not in values or self.workspace_id in values.values():
                raise ValueError(
                    f"{type(self).__name__}: prepared statement {name!r} must bind the "
                    "workspace (start from scoped()), not carry one"
                )
            return statement

        return super().prepared(name, checked)

    def _id_query(self) -> Select[TenantT]:
        return super()._id_query().where(self.model.workspace_id == bindparam("workspace_id"))

    def in_workspace(self) -> ColumnElement[bool]:
        """Return the workspace condition in a form no index can serve, for lookups by many
        primary keys: without table statistics SQLite would otherwise walk a workspace-prefixed
        index over every row of the workspace instead of looking the keys up."""
        return self.model.workspace_id.concat("") == self.workspace_id

    async def add(self, instance: TenantT) -> TenantT:
        """Add a row to this repository's workspace."""
        if instance.workspace_id not in (None, self.workspace_id):
            raise ValueError("row belongs to another workspace")
        instance.workspace_id = self.workspace_id
        return await super().add(instance)
