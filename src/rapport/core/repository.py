"""Repository bases: every SQL statement lives in a repository; tenant ones are scoped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Base, TenantMixin, dialect_of

ModelT = TypeVar("ModelT", bound=Base)
TenantT = TypeVar("TenantT", bound=TenantMixin)

# Statements by primary key, built once per repository class and variant (`id_query`).
_BY_ID: dict[tuple[type, bool, bool], Select[Any]] = {}


class Repository(Generic[ModelT]):
    """Data access for one model that is not owned by a workspace."""

    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        """Name the database dialect (sqlite or postgresql)."""
        return dialect_of(self.session)

    def base_query(self) -> Select[ModelT]:
        """Return the SELECT every query of this repository starts from (reads by id start
        from `_id_query`, its prepared twin: a subclass that narrows one narrows both)."""
        return select(self.model)

    def id_query(self, *, for_update: bool = False, fresh: bool = False) -> Select[ModelT]:
        """Return the SELECT of one row by primary key, its values bound when it runs
        (`id_params`): built once per repository and variant, then reused, so neither its
        construction nor its cache key costs anything a call (about half of a small SELECT's
        CPU on SQLite). `for_update` locks the row; `fresh` reads its columns afresh even when
        this unit of work holds it already."""
        variant = (type(self), for_update, fresh)
        statement = _BY_ID.get(variant)
        if statement is None:
            statement = self._id_query()
            if for_update:
                statement = statement.with_for_update()
            if fresh:
                statement = statement.execution_options(populate_existing=True)
            _BY_ID[variant] = statement
        return statement

    def id_params(self, id_: Any) -> dict[str, Any]:
        """Return the values `id_query`'s statement is run with."""
        return {"key": id_}

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

    async def all(self, statement: Select[ModelT]) -> Sequence[ModelT]:
        """Run a SELECT and return every row."""
        return (await self.session.execute(statement)).scalars().all()

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

    def id_params(self, id_: Any) -> dict[str, Any]:
        """Return the values `id_query`'s statement is run with: the key and the workspace."""
        return {"key": id_, "workspace_id": self.workspace_id}

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
