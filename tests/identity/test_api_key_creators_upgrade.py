"""Migration 0007 gives existing keys the staff member they act for and revokes those whose
member already left."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Column, MetaData, Table, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from rapport.db.migrate import upgrade
from rapport.identity.models import ApiKey, Membership, StaffUser, Workspace
from tests.fixtures.databases import TemplateDatabase

BEFORE, AFTER = "20261202_0006", "20261202_0007"


def _blank_database(template: TemplateDatabase, directory: Path) -> tuple[str, str | None]:
    if template.backend == "sqlite":
        return f"sqlite+aiosqlite:///{directory / 'upgrade.db'}", None
    assert template.admin_url is not None
    name = f"rapport_upgrade_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        connection = await asyncpg.connect(template.admin_url.replace("+asyncpg", ""))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return template.admin_url.rsplit("/", 1)[0] + "/" + name, name


def _key(key_id: str, created_by: str) -> dict[str, Any]:
    return {
        "id": key_id,
        "workspace_id": "w1",
        "name": key_id,
        "prefix": "rk_",
        "key_hash": key_id.ljust(64, "0"),
        "scopes": ["customers:read"],
        "created_by": created_by,
    }


async def _as_migrated(connection: AsyncConnection, model: type[DeclarativeBase]) -> Table:
    """Return the model's table with only the columns the database has at this revision
    (later migrations add columns the rows written here must not name)."""
    name = model.__tablename__

    def existing(sync: Any) -> set[str]:
        return {column["name"] for column in inspect(sync).get_columns(name)}

    present = await connection.run_sync(existing)
    columns: list[Column[Any]] = [
        column._copy() for column in model.__table__.columns if column.name in present
    ]
    return Table(name, MetaData(), *columns)


async def _seed(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        workspaces = await _as_migrated(connection, Workspace)
        await connection.execute(insert(workspaces).values(id="w1", slug="w", name="W"))
        staff_users = await _as_migrated(connection, StaffUser)
        for staff_id in ("s1", "s2"):
            await connection.execute(
                insert(staff_users).values(
                    id=staff_id,
                    email=f"{staff_id}@example.com",
                    display_name="S",
                    password_hash="x",
                )
            )
        await connection.execute(
            insert(await _as_migrated(connection, Membership)).values(
                workspace_id="w1", staff_id="s1", role="admin"
            )
        )
        for key_id, created_by in [
            ("k1", "s1"),
            ("k2", "k1"),
            ("k3", "k2"),
            ("k4", "cli"),
            ("k5", "k4"),
            ("k6", "s2"),
        ]:
            api_keys = await _as_migrated(connection, ApiKey)
            await connection.execute(insert(api_keys).values(**_key(key_id, created_by)))
    await engine.dispose()


async def _keys(url: str) -> list[tuple[str, str | None, bool]]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(ApiKey.id, ApiKey.staff_id, ApiKey.revoked_at.is_not(None)).order_by(ApiKey.id)
        )
        found = [(row[0], row[1], bool(row[2])) for row in rows]
    await engine.dispose()
    return found


def test_upgrade_follows_keys_to_their_staff_member(
    template_database: TemplateDatabase, tmp_path: Path
) -> None:
    url, name = _blank_database(template_database, tmp_path)
    try:
        upgrade(url, BEFORE)
        asyncio.run(_seed(url))
        upgrade(url, AFTER)
        assert asyncio.run(_keys(url)) == [
            ("k1", "s1", False),
            ("k2", "s1", False),
            ("k3", "s1", False),
            ("k4", None, False),
            ("k5", None, False),
            ("k6", "s2", True),
        ]
    finally:
        if name is not None:
            asyncio.run(template_database.drop(name))
