"""Long-running processes keep the garbage collector off their hot paths (bench/live.py
measures why): the server once started, and a standalone worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_started_app_freezes_start_up_objects_and_collects_young_ones_less_often() -> None:
    """Run in a process of its own: the collector's settings are the whole process's."""
    probe = (
        "import asyncio, gc, tempfile\n"
        "from rapport.app import create_app\n"
        "from rapport.config import Settings\n"
        "from rapport.core.collector import YOUNG_THRESHOLD\n"
        "directory = tempfile.mkdtemp()\n"
        "settings = Settings(env='test', data_dir=directory, run_worker=False,\n"
        "    database_url=f'sqlite+aiosqlite:///{directory}/r.db')\n"
        "app = create_app(settings)\n"
        "before = gc.get_freeze_count()\n"
        "async def start():\n"
        "    async with app.router.lifespan_context(app):\n"
        "        return gc.get_freeze_count(), gc.get_threshold()[0]\n"
        "frozen, young = asyncio.run(start())\n"
        "print(before == 0, frozen > 10_000, young == YOUNG_THRESHOLD)\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert (ran.returncode, ran.stdout.split()) == (0, ["True", "True", "True"]), ran.stderr


def test_a_standalone_worker_does_the_same_before_its_first_job(tmp_path: Path) -> None:
    probe = (
        "import gc\n"
        "from rapport.core.collector import YOUNG_THRESHOLD\n"
        "from rapport.worker import runner\n"
        "async def look(self, stop):\n"
        "    print(gc.get_freeze_count() > 10_000, gc.get_threshold()[0] == YOUNG_THRESHOLD)\n"
        "runner.Worker.run_forever = look\n"
        "from rapport.cli.server import worker\n"
        "worker(concurrency=1, poll_seconds=1.0)\n"
    )
    env = {
        **os.environ,
        "RAPPORT_ENV": "test",
        "RAPPORT_DATA_DIR": str(tmp_path),
        "RAPPORT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/r.db",
        "RAPPORT_REDIS_URL": "",
    }
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert (ran.returncode, ran.stdout.split()[-2:]) == (0, ["True", "True"]), ran.stderr
