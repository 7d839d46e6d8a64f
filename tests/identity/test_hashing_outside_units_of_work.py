"""Password hashes run with no unit of work open: no pooled connection, no SQLite writer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from rapport.core.db import Database
from rapport.identity import invitations as invitations_module
from rapport.identity import passwords
from rapport.identity import service as service_module
from rapport.identity import sessions as sessions_module
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.identity.invitations import invitations
from rapport.identity.passwords import verify_password
from rapport.identity.schemas import StaffCreate
from rapport.identity.service import staff, staff_password
from rapport.identity.sessions import sign_ins
from tests.fixtures.identity import make_invitation, make_staff, make_workspace
from tests.fixtures.sessions import load_user

NEW_PASSWORD = "a brand new passphrase 9271"


class HashProbe:
    """Wraps a hashing function; while it runs (in its worker thread) it records how many
    connections the pool has out and whether another unit of work could write meanwhile."""

    def __init__(self, database: Database, loop: asyncio.AbstractEventLoop) -> None:
        self.database = database
        self.loop = loop
        self.seen: list[tuple[int, bool]] = []

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def probed(*arguments: Any) -> Any:
            checked_out = self.database.engine.pool.checkedout()  # type: ignore[attr-defined]
            write = asyncio.run_coroutine_threadsafe(self._write(), self.loop)
            try:
                write.result(timeout=5)
                wrote = True
            except TimeoutError:
                write.cancel()
                wrote = False
            self.seen.append((checked_out, wrote))
            return function(*arguments)

        return probed

    async def _write(self) -> None:
        async with self.database.session() as session:
            await session.execute(text("UPDATE audit_chain_head SET id = id WHERE id = 1"))


@pytest.fixture
async def probe(database: Database, monkeypatch: pytest.MonkeyPatch) -> HashProbe:
    probe = HashProbe(database, asyncio.get_running_loop())
    for module in (sessions_module, invitations_module):
        for name in ("verify_password", "hash_password"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, probe.wrap(getattr(module, name)))
    return probe


async def test_sign_in_checks_the_password_outside_any_unit_of_work(
    database: Database, probe: HashProbe
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_ins.sign_in(
        database, email=account.email, password=account.password, ip_address=None
    )
    assert probe.seen == [(0, True)]


async def test_a_failed_sign_in_too(database: Database, probe: HashProbe) -> None:
    account = await make_staff(database, await make_workspace(database))
    with pytest.raises(Exception, match="Invalid email or password"):
        await sign_ins.sign_in(
            database, email=account.email, password="not the password at all", ip_address=None
        )
    assert probe.seen == [(0, True)]


async def test_password_change_hashes_outside_any_unit_of_work(
    database: Database, probe: HashProbe
) -> None:
    account = await make_staff(database, await make_workspace(database))
    user = await load_user(database, account.user.id)
    await sign_ins.change_password(
        database, user, current=account.password, new=NEW_PASSWORD, keep_session_id=None
    )
    assert probe.seen == [(0, True), (0, True)]


async def test_password_reset_hashes_outside_any_unit_of_work(
    database: Database, probe: HashProbe
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_ins.reset_password(database, email=account.email, actor=SYSTEM)
    assert probe.seen == [(0, True)]


async def test_an_account_from_an_invitation_hashes_outside_any_unit_of_work(
    database: Database, probe: HashProbe
) -> None:
    workspace = await make_workspace(database)
    issued = await make_invitation(database, workspace, "new.person@example.com")
    await invitations.create_account(
        database, issued.token, display_name="New Person", password=NEW_PASSWORD, ip_address=None
    )
    assert probe.seen == [(0, True)]


async def test_operators_adding_staff_hash_before_the_unit_of_work(
    database: Database, probe: HashProbe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rapport staff create` and the demo hash with `staff_password` first; adding the account
    in the unit of work hashes nothing."""
    workspace = await make_workspace(database)
    monkeypatch.setattr(service_module, "hash_password", probe.wrap(service_module.hash_password))
    password = await staff_password("New.Agent@example.com")
    assert probe.seen == [(0, True)]

    def no_hashing(*arguments: object) -> str:
        raise AssertionError("hashed inside the unit of work")

    monkeypatch.setattr(service_module, "hash_password", no_hashing)
    body = StaffCreate(email="new.agent@example.com", display_name="New Agent", role=Role.agent)
    async with database.session() as session:
        member, shown = await staff.add(
            session, workspace_id=workspace.id, body=body, actor=SYSTEM, password=password
        )
    assert shown is not None and shown == password.one_time
    assert verify_password(member.user.password_hash, shown)[0]


async def test_parallel_wrong_passwords_are_all_counted(database: Database) -> None:
    # Attempts are counted before the slow check, so side-by-side guesses cannot all slip
    # under the limit (5 per account) by reading the same count.
    account = await make_staff(database, await make_workspace(database))

    async def guess() -> str:
        try:
            await sign_ins.sign_in(
                database, email=account.email, password="wrong guess number x", ip_address=None
            )
        except Exception as error:
            return type(error).__name__
        return "signed in"

    outcomes = await asyncio.gather(*(guess() for _ in range(8)))
    assert sorted(outcomes) == ["InvalidCredentials"] * 5 + ["SignInThrottled"] * 3


async def test_password_checks_take_turns_for_the_hashing_threads(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A burst of sign-ins queues for hashing instead of taking every core from the live path.
    account = await make_staff(database, await make_workspace(database))
    running, most = [0], [0]
    lock = threading.Lock()
    check = sessions_module.verify_password

    def counted(*arguments: Any) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)  # in the hashing thread, not the event loop
            return check(*arguments)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(sessions_module, "verify_password", counted)
    await asyncio.gather(
        *(
            sign_ins.sign_in(
                database, email=account.email, password=account.password, ip_address=None
            )
            for _ in range(4)
        )
    )
    assert most[0] == passwords.HASHING_THREADS
