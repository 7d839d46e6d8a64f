"""HEAD wherever GET is answered; `python -m rapport` runs the command line."""

from __future__ import annotations

import subprocess
import sys

import httpx


async def test_head_answers_like_get_without_a_body(client: httpx.AsyncClient) -> None:
    got = await client.get("/healthz")
    head = await client.head("/healthz")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == got.headers["content-length"]


async def test_allow_lists_head_beside_get(client: httpx.AsyncClient) -> None:
    answer = await client.options("/healthz")
    assert answer.headers["allow"] == "GET, HEAD, OPTIONS"


def test_python_m_rapport_runs_the_command_line() -> None:
    for module in ("rapport", "rapport.cli.main"):
        ran = subprocess.run(
            [sys.executable, "-m", module, "db", "--help"], capture_output=True, text=True
        )
        assert (ran.returncode, "upgrade" in ran.stdout) == (0, True), ran.stderr
