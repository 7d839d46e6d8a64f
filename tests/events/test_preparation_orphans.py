"""A preparation process ends by itself when its server is killed (-9), instead of waiting on
its task pipe forever holding its memory."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
# A server stand-in: starts one preparation process, prints its pid, and waits to be killed.
START_AND_HANG = """
import os, time
from rapport.events.preparation import CallPreparer

preparer = CallPreparer(processes=1)
preparer.start([os.urandom(32)])
assert preparer._pool is not None
print(preparer._pool.submit(os.getpid).result(timeout=60), flush=True)
time.sleep(120)
"""


def _running(pid: int) -> bool:
    """Tell whether `pid` still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_preparation_process_exits_when_its_server_is_killed() -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", START_AND_HANG], cwd=REPOSITORY, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    preparation = 0
    try:
        preparation = int(server.stdout.readline())
        assert preparation != server.pid
        assert _running(preparation)
        server.send_signal(signal.SIGKILL)
        server.wait()
        deadline = time.monotonic() + 60  # a hang guard: the watchdog looks twice a second
        while _running(preparation) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(preparation)
    finally:
        server.kill()
        server.wait()
        if preparation and _running(preparation):
            with contextlib.suppress(ProcessLookupError):
                os.kill(preparation, signal.SIGKILL)
