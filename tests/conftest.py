"""Shared fixtures: a fresh migrated database per test on every backend, the app, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from rapport.app import create_app
from rapport.config import Settings
from rapport.core import recent
from rapport.core.clock import set_clock
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.identity import passwords
from tests.fixtures.databases import TemplateDatabase, backends, build_template, drop_template
from tests.fixtures.recent import RecentClock
from tests.fixtures.server import LiveServer, serve

TEST_SECRET = "test-secret-key-not-for-production-0123456789abcdef"

# Argon2id at Rapport's cost (64 MiB, t=3) takes about a second a hash or check on a 2-core
# machine, and hundreds of tests sign someone in: in this process they hash at Argon2id's
# lowest cost (live servers in the test process too). Tests of the hashing itself are marked
# `real_password_hashing`; commands and servers started as processes hash at the real cost.
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=32, salt_len=16)
QUICK_DUMMY_HASH = QUICK_HASHER.hash("rapport-timing-equaliser-not-a-password")


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
    """Settings for one test: its own database and data dir, no background worker. The
    process's key ring is built from them, as the app, the worker and the `rapport` command
    build theirs (otherwise a test that never made an app would hash and seal with another
    key than the command it runs, or with whatever key an earlier test left)."""
    configured = Settings(
        env="test",
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=tmp_path,
        run_worker=False,
        ingest_processes=0,
        log_level="WARNING",
    )
    configure_keyring(configured.secret_keys())
    return configured


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
def _quick_password_hashing(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("real_password_hashing") is None:
        monkeypatch.setattr(passwords, "_hasher", QUICK_HASHER)
        monkeypatch.setattr(passwords, "_dummy_hash", lambda: QUICK_DUMMY_HASH)


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    set_clock(None)


@pytest.fixture
def recent_clock(monkeypatch: pytest.MonkeyPatch) -> RecentClock:
    """Move by hand the time after which `core.recent` lets a kept setting lapse."""
    clock = RecentClock()
    monkeypatch.setattr(recent.time, "monotonic", clock)
    return clock


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """A real HTTP server on loopback over the test's database (own pool, own loop)."""
    with serve(settings) as server:
        yield server
