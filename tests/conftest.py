"""Shared fixtures: a fresh migrated database per test on every backend, the app, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from rapport.app import create_app
from rapport.config import Settings
from rapport.core.clock import set_clock
from rapport.core.db import Database
from tests.fixtures.databases import TemplateDatabase, backends, build_template, drop_template
from tests.fixtures.server import LiveServer, serve

TEST_SECRET = "test-secret-key-not-for-production-0123456789abcdef"


@pytest.fixture(scope="session", params=backends())
def template_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TemplateDatabase]:
    """Migrate one template database per backend for the whole run."""
    template = build_template(request.param, tmp_path_factory.mktemp(request.param))
    yield template
    drop_template(template)


@pytest.fixture
async def database_url(template_database: TemplateDatabase, tmp_path: Path) -> AsyncIterator[str]:
    """Return the url of a fresh copy of the migrated database."""
    url, name = await template_database.clone(tmp_path)
    yield url
    if name is not None:
        await template_database.drop(name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own database and data dir, no background worker."""
    return Settings(
        env="test",
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=tmp_path,
        run_worker=False,
        ingest_processes=0,
        log_level="WARNING",
    )


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The test's database."""
    database = Database(settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    """The application wired to the test database."""
    return create_app(settings, database)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client speaking to the app in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    set_clock(None)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """A real HTTP server on loopback over the test's database (own pool, own loop)."""
    with serve(settings) as server:
        yield server
