"""Annotated dependency aliases so endpoint signatures read like prose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.config import Settings
from rapport.core.db import Database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Open the request's unit of work; it commits before the response is sent."""
    database: Database = request.app.state.database
    async with database.session() as session:
        yield session


def get_database(request: Request) -> Database:
    """Return the application's database, for flows that open short units of work of their
    own (around a password hash, the network or a model, which no transaction may span)."""
    database: Database = request.app.state.database
    return database


def get_settings_dep(request: Request) -> Settings:
    """Return the application's settings."""
    settings: Settings = request.app.state.settings
    return settings


# scope="function": the commit happens before the response leaves, so a 2xx means durable.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
