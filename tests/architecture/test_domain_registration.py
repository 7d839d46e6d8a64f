"""Every domain is registered in rapport.domains, and every process that publishes or runs
jobs knows every job, schedule and subscription (none is silently left out)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from rapport.domains import DOMAINS, console_areas
from rapport.identity.enums import Scope

SOURCE = Path(__file__).resolve().parents[2] / "src" / "rapport"
# Packages that are layers of their own, not domains (db/models.py gathers every domain's).
NOT_DOMAINS = {"core", "db", "web", "cli", "worker", "nlp"}
PARTS = ("models", "endpoints", "tasks", "background")

# Prints the jobs, schedules and subscriptions a process knows after `mode` set it up.
REGISTERED = """
import importlib, importlib.util, json, pkgutil, sys
import rapport
from rapport.core.jobs import registered_jobs, registered_schedules
from rapport.core.outbox import subscriptions

mode = sys.argv[1]
if mode == "every tasks module on disk":
    for package in pkgutil.iter_modules(rapport.__path__):
        if package.ispkg and importlib.util.find_spec(f"rapport.{package.name}.tasks"):
            importlib.import_module(f"rapport.{package.name}.tasks")
    importlib.import_module("rapport.worker.runner")
elif mode == "app":
    from rapport.app import create_app
    create_app()
elif mode == "command line":
    from rapport.cli.common import run

    async def nothing(database):
        return None

    run(nothing)
print(json.dumps({
    "jobs": sorted(definition.name for definition in registered_jobs()),
    "schedules": sorted(definition.job_name for definition in registered_schedules()),
    "subscriptions": {name: sorted(jobs) for name, jobs in subscriptions().items()},
}))
"""


def _registered(mode: str, tmp_path: Path) -> dict[str, Any]:
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("RAPPORT_")},
        "RAPPORT_ENV": "test",
        "RAPPORT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        "RAPPORT_DATA_DIR": str(tmp_path),
        "RAPPORT_SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdef",
        "RAPPORT_INGEST_PROCESSES": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", REGISTERED, mode],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return loaded


def _domain_packages() -> set[str]:
    return {
        path.name
        for path in SOURCE.iterdir()
        if (path / "__init__.py").exists() and path.name not in NOT_DOMAINS
    }


def test_every_domain_package_is_registered() -> None:
    assert sorted(domain.name for domain in DOMAINS) == sorted(_domain_packages())


def test_each_domain_declares_exactly_the_parts_it_has() -> None:
    for domain in DOMAINS:
        declared = {part for part in PARTS if getattr(domain, part)}
        on_disk = {part for part in PARTS if (SOURCE / domain.name / f"{part}.py").exists()}
        assert (domain.name, declared) == (domain.name, on_disk)


def test_the_app_knows_every_job_schedule_and_subscription(tmp_path: Path) -> None:
    everything = _registered("every tasks module on disk", tmp_path)
    assert everything["subscriptions"] != {}
    assert _registered("app", tmp_path) == everything


def test_the_command_line_knows_every_subscription_before_it_publishes(tmp_path: Path) -> None:
    # `rapport customers merge` publishes customer.merged: without the subscriptions the
    # refresh of both profiles was never enqueued.
    everything = _registered("every tasks module on disk", tmp_path)
    assert _registered("command line", tmp_path)["subscriptions"] == everything["subscriptions"]


def test_no_scope_belongs_to_two_domains() -> None:
    claimed = [scope for domain in DOMAINS for scope in domain.scopes]
    assert sorted(claimed) == sorted(set(claimed))
    assert set(claimed) <= set(Scope)


def test_every_console_area_has_its_page_module() -> None:
    for area in console_areas():
        assert area.page is None or (SOURCE / "web" / "console" / f"{area.page}.py").exists()
