"""The server keeps the garbage collector off the live path (bench/live.py measures why)."""

from __future__ import annotations

import subprocess
import sys


def test_a_started_app_freezes_start_up_objects_and_collects_young_ones_less_often() -> None:
    """Run in a process of its own: the collector's settings are the whole process's."""
    probe = (
        "import asyncio, gc, tempfile\n"
        "from rapport.app import GC_YOUNG_THRESHOLD, create_app\n"
        "from rapport.config import Settings\n"
        "directory = tempfile.mkdtemp()\n"
        "settings = Settings(env='test', data_dir=directory, run_worker=False,\n"
        "    database_url=f'sqlite+aiosqlite:///{directory}/r.db')\n"
        "app = create_app(settings)\n"
        "before = gc.get_freeze_count()\n"
        "async def start():\n"
        "    async with app.router.lifespan_context(app):\n"
        "        return gc.get_freeze_count(), gc.get_threshold()[0]\n"
        "frozen, young = asyncio.run(start())\n"
        "print(before == 0, frozen > 10_000, young == GC_YOUNG_THRESHOLD)\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert (ran.returncode, ran.stdout.split()) == (0, ["True", "True", "True"]), ran.stderr
