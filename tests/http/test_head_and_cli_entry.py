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


def test_a_command_loads_only_its_part_of_the_command_line() -> None:
    """`rapport import ...` (with the tasks every command loads) starts without the web app,
    FastAPI or scikit-learn; `rapport --help` still lists every command."""
    probe = (
        "import sys; sys.argv = ['rapport', 'import', '--help']; import rapport.cli.main; "
        "from rapport.domains import load_tasks; load_tasks(); "
        "print(sorted(m for m in ('rapport.app', 'fastapi', 'sklearn') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    listed = subprocess.run(
        [sys.executable, "-m", "rapport", "--help"], capture_output=True, text=True
    )
    assert (loaded.stdout.strip(), loaded.returncode) == ("[]", 0), loaded.stderr
    assert all(name in listed.stdout for name in ("serve", "import", "metrics", "analytics"))


def test_every_plain_command_runs_when_it_is_the_only_part_loaded() -> None:
    """With one plain command loaded, Typer must not take it for the whole program."""
    for name in ("serve", "worker", "demo"):
        ran = subprocess.run(
            [sys.executable, "-m", "rapport", name, "--help"], capture_output=True, text=True
        )
        assert (ran.returncode, f"Usage: python -m rapport {name}" in ran.stdout) == (0, True), (
            name,
            ran.stdout,
            ran.stderr,
        )
