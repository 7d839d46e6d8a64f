"""`rapport audit verify | checkpoint | public-key` as an operator runs them (real processes)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from rapport.config import Settings
from rapport.core.db import Database
from rapport.identity.checkpoints import public_key_text, public_keys
from tests.fixtures.audit import drop_guards, execute, record
from tests.fixtures.cli import cli


def rapport(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `rapport audit` against the test database and key; return the finished process."""
    return cli(settings, "audit", *args)


async def test_intact_chain_exits_zero(database: Database, settings: Settings) -> None:
    await record(database, 3)
    done = rapport(settings, "verify")
    assert (done.returncode, done.stderr.strip()) == (0, "Audit chain intact: 3 records verified.")


async def test_tampered_chain_exits_one_naming_the_record(
    database: Database, settings: Settings
) -> None:
    await record(database, 3)
    await drop_guards(database)
    await execute(database, "UPDATE audit_events SET target_id = 'forged' WHERE seq = 2")
    done = rapport(settings, "verify")
    assert (done.returncode, done.stderr.strip()) == (
        1,
        "Audit chain broken at record 2: content does not match its MAC (1 records before it "
        "verified).",
    )


async def test_checkpoint_is_written_to_the_output_file(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    await record(database, 2)
    output = tmp_path / "checkpoint.json"
    done = rapport(settings, "checkpoint", "--output", str(output))
    fields = json.loads(output.read_text())
    assert (done.returncode, done.stderr.strip()) == (
        0,
        f"Checkpoint of record 2 written to {output}.",
    )
    assert (fields["format"], fields["seq"], fields["key_id"]) == (
        "rapport.audit-checkpoint.v1",
        2,
        next(iter(public_keys())),
    )


async def test_checkpoint_goes_to_stdout_without_output(
    database: Database, settings: Settings
) -> None:
    await record(database, 1)
    done = rapport(settings, "checkpoint")
    assert (done.returncode, json.loads(done.stdout)["seq"]) == (0, 1)


async def test_public_key_prints_the_signing_key(settings: Settings) -> None:
    [(key_id, key)] = public_keys().items()
    done = rapport(settings, "public-key")
    assert (done.returncode, done.stdout) == (0, f"{key_id} {public_key_text(key)}\n")


async def test_verify_against_a_checkpoint_the_chain_no_longer_holds_exits_one(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    await record(database, 3)
    output = tmp_path / "checkpoint.json"
    assert rapport(settings, "checkpoint", "--output", str(output)).returncode == 0
    await drop_guards(database)
    await execute(database, "DELETE FROM audit_checkpoints")
    await execute(database, "DELETE FROM audit_events WHERE seq = 3")
    await execute(database, "UPDATE audit_chain_head SET seq = 2")
    await execute(
        database,
        "UPDATE audit_chain_head SET hash = (SELECT hash FROM audit_events WHERE seq = 2)",
    )
    assert rapport(settings, "verify").returncode == 0
    done = rapport(settings, "verify", "--checkpoint", str(output))
    assert (done.returncode, done.stderr.strip()) == (
        1,
        "Audit chain broken at record 3: a checkpointed record is missing (2 records before "
        "it verified).",
    )


async def test_checkpoint_under_another_public_key_exits_one(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    await record(database, 1)
    output = tmp_path / "checkpoint.json"
    assert rapport(settings, "checkpoint", "--output", str(output)).returncode == 0
    other = "A" * 43 + "="
    done = rapport(settings, "verify", "--checkpoint", str(output), "--public-key", other)
    assert (done.returncode, done.stderr.strip()) == (
        1,
        "error: The checkpoint's signature does not verify with the key.",
    )


async def test_file_that_is_no_checkpoint_exits_one(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    done = rapport(settings, "verify", "--checkpoint", str(path))
    assert (done.returncode, done.stderr.strip()) == (
        1,
        "error: Not a Rapport audit checkpoint file.",
    )
