"""Console MFA: enrolment, the sign-in step, no replays, recovery codes, workspace policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from sqlalchemy import select

from rapport.core.clock import set_clock
from rapport.core.db import Database
from rapport.identity.models import AuditEvent
from tests.fixtures.identity import StaffAccount, console_sign_in, make_staff, make_workspace
from tests.web.console import (
    csrf_of,
    otpauth_secret,
    otpauth_uri,
    post_form,
    recovery_codes,
    sign_in,
)

START = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


class Clock:
    """A test clock that moves only when told."""

    def __init__(self) -> None:
        self.now = START

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Iterator[Clock]:
    fixed = Clock()
    set_clock(lambda: fixed.now)
    yield fixed


def code_at(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(clock.now)


async def enrol(client: httpx.AsyncClient, clock: Clock) -> tuple[str, list[str]]:
    """Turn MFA on through the console; return the TOTP secret and the recovery codes."""
    setup = await post_form(client, "/console/mfa/setup", "/console/mfa/setup")
    assert setup.status_code == 200
    secret = otpauth_secret(setup.text)
    confirm = await client.post(
        "/console/mfa/setup/confirm",
        data={"code": code_at(secret, clock), "csrf_token": csrf_of(setup.text)},
    )
    assert confirm.status_code == 200
    return secret, recovery_codes(confirm.text)


async def sign_out_and_in(client: httpx.AsyncClient, account: StaffAccount) -> httpx.Response:
    await post_form(client, "/console/settings/profile", "/console/sign-out")
    return await console_sign_in(client, account.email, account.password)


async def submit_code(client: httpx.AsyncClient, code: str) -> httpx.Response:
    return await post_form(client, "/console/mfa", "/console/mfa", {"code": code})


async def test_enrolment_shows_qr_code_and_ten_recovery_codes(
    client: httpx.AsyncClient, database: Database, clock: Clock
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    setup = await post_form(client, "/console/mfa/setup", "/console/mfa/setup")
    assert '<img src="data:image/svg+xml;charset=utf-8,%3Csvg' in setup.text
    assert setup.headers["cache-control"] == "no-store"
    secret = otpauth_secret(setup.text)
    confirm = await client.post(
        "/console/mfa/setup/confirm",
        data={"code": code_at(secret, clock), "csrf_token": csrf_of(setup.text)},
    )
    assert len(set(recovery_codes(confirm.text))) == 10
    profile = await client.get("/console/settings/profile")
    assert "10 recovery codes left." in profile.text


async def test_wrong_enrolment_code_shows_the_same_qr_code_again(
    client: httpx.AsyncClient, database: Database, clock: Clock
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    setup = await post_form(client, "/console/mfa/setup", "/console/mfa/setup")
    secret = otpauth_secret(setup.text)
    wrong = await client.post(
        "/console/mfa/setup/confirm",
        data={
            "code": "000000",
            "otpauth_uri": otpauth_uri(setup.text),
            "csrf_token": csrf_of(setup.text),
        },
    )
    assert wrong.status_code == 401
    assert otpauth_secret(wrong.text) == secret
    assert "That code is not valid. Codes can be used only once." in wrong.text


async def test_sign_in_with_mfa_asks_for_a_code_before_the_console(
    client: httpx.AsyncClient, database: Database, clock: Clock
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    secret, _ = await enrol(client, clock)
    response = await sign_out_and_in(client, account)
    assert response.headers["location"] == "/console/mfa?next=/console"
    blocked = await client.get("/console/settings/team")
    assert blocked.headers["location"] == "/console/mfa?next=/console/settings/team"
    clock.advance(30)
    passed = await submit_code(client, code_at(secret, clock))
    assert (passed.status_code, passed.headers["location"]) == (303, "/console")
    assert (await client.get("/console")).status_code == 200


async def test_a_totp_code_cannot_be_replayed(
    client: httpx.AsyncClient, database: Database, clock: Clock
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    secret, _ = await enrol(client, clock)
    used_at_enrolment = code_at(secret, clock)
    await sign_out_and_in(client, account)
    replay = await submit_code(client, used_at_enrolment)
    assert replay.status_code == 401
    assert "That code is not valid. Codes can be used only once." in replay.text
    assert (await client.get("/console")).status_code == 303


async def test_a_recovery_code_works_exactly_once(
    client: httpx.AsyncClient, database: Database, clock: Clock
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    _, codes = await enrol(client, clock)
    await sign_out_and_in(client, account)
    assert (await submit_code(client, codes[0].upper())).status_code == 303
    profile = await client.get("/console/settings/profile")
    assert "9 recovery codes left." in profile.text
    await sign_out_and_in(client, account)
    assert (await submit_code(client, codes[0])).status_code == 401


async def test_workspace_requiring_mfa_sends_staff_to_enrolment_first(
    client: httpx.AsyncClient, database: Database, clock: Clock
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    await sign_in(client, account.email, account.password)
    saved = await post_form(
        client,
        "/console/settings/workspace",
        "/console/settings/workspace",
        {"name": "Strict Shop", "mfa_required": "true"},
    )
    assert saved.headers["location"] == "/console/settings/workspace?notice=workspace-saved"
    for path in ("/console", "/console/settings/api-keys"):
        blocked = await client.get(path)
        assert (blocked.status_code, blocked.headers["location"]) == (303, "/console/mfa/setup")
    await enrol(client, clock)
    home = await client.get("/console")
    assert home.status_code == 200
    assert '<p class="eyebrow">Strict Shop</p>' in home.text


async def _staff_actions(database: Database, staff_id: str) -> list[tuple[str, str | None]]:
    """Return (action, workspace id) of a staff user's own MFA and password records."""
    async with database.session() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.workspace_id)
            .where(AuditEvent.actor_id == staff_id, AuditEvent.target_type == "staff")
            .order_by(AuditEvent.seq)
        )
        return [(action, workspace_id) for action, workspace_id in rows.tuples()]


async def test_mfa_and_password_records_name_the_workspace_acted_in(
    client: httpx.AsyncClient, database: Database, clock: Clock
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    await sign_in(client, account.email, account.password)
    secret, _ = await enrol(client, clock)
    await sign_out_and_in(client, account)
    clock.advance(30)
    assert (await submit_code(client, "000000")).status_code == 401
    assert (await submit_code(client, code_at(secret, clock))).status_code == 303
    changed = await post_form(
        client,
        "/console/settings/profile",
        "/console/settings/password",
        {"current_password": account.password, "new_password": "another long passphrase 2026"},
    )
    assert changed.status_code == 303
    clock.advance(30)
    disabled = await post_form(
        client,
        "/console/settings/profile",
        "/console/settings/mfa/disable",
        {"code": code_at(secret, clock)},
    )
    assert disabled.status_code == 303
    assert await _staff_actions(database, account.user.id) == [
        ("staff.mfa_enabled", workspace.id),
        ("staff.mfa_failed", workspace.id),
        ("staff.mfa_passed", workspace.id),
        ("staff.password_changed", workspace.id),
        ("staff.mfa_disabled", workspace.id),
    ]
    page = await client.get("/console/settings/audit")
    for action in ("staff.mfa_enabled", "staff.mfa_passed", "staff.password_changed"):
        assert f"<code>{action}</code>" in page.text
