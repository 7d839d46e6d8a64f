"""Signing in: one answer for every failure, throttled per account and per address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from rapport.config import Settings
from rapport.core.db import Database
from rapport.errors import RapportError
from rapport.identity.audit import audit
from rapport.identity.enums import ActorType, Role
from rapport.identity.errors import InvalidCredentials, SignInThrottled
from rapport.identity.models import AuditEvent, StaffUser
from rapport.identity.sessions import SignedIn, sign_ins
from tests.fixtures.identity import StaffAccount, make_staff, make_workspace
from tests.fixtures.jobs import FrozenClock
from tests.fixtures.sessions import DEFAULT_IP, attempt_sign_in, load_user

WRONG = "definitely not the password"
TIGHT_ACCOUNT_LIMIT = 2
TIGHT_ADDRESS_LIMIT = 4


@pytest.fixture
def tight_limits(settings: Settings) -> None:
    """Lower limits, so tests of the mechanism hash fewer passwords."""
    sign_ins.configure(
        settings.model_copy(
            update={
                "sign_in_max_failures_per_account": TIGHT_ACCOUNT_LIMIT,
                "sign_in_max_failures_per_ip": TIGHT_ADDRESS_LIMIT,
            }
        )
    )


async def _account(database: Database) -> StaffAccount:
    return await make_staff(database, await make_workspace(database), Role.agent)


def _outcome(result: SignedIn | RapportError) -> str:
    return type(result).__name__


def _response(error: SignedIn | RapportError) -> tuple[int, str, str, dict[str, str]]:
    assert isinstance(error, RapportError)
    return error.status_code, error.code, error.message, error.headers()


async def _actions(database: Database, action: str) -> list[AuditEvent]:
    async with database.session() as session:
        rows = await session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
        return list(rows.scalars())


async def test_right_password_opens_a_session(database: Database) -> None:
    account = await _account(database)
    signed_in = await attempt_sign_in(database, account.email, account.password)
    assert isinstance(signed_in, SignedIn)
    assert signed_in.user.id == account.user.id
    assert signed_in.session.workspace_id == account.workspace.id
    assert signed_in.needs_mfa is False


async def test_email_is_matched_case_insensitively(database: Database) -> None:
    account = await _account(database)
    outcome = await attempt_sign_in(database, f"  {account.email.upper()} ", account.password)
    assert _outcome(outcome) == "SignedIn"


def test_default_limits_are_five_per_account_and_twenty_per_address() -> None:
    defaults = Settings()
    assert (defaults.sign_in_max_failures_per_account, defaults.sign_in_max_failures_per_ip) == (
        5,
        20,
    )


async def test_fifty_wrong_passwords_are_throttled_from_the_sixth(database: Database) -> None:
    account = await _account(database)
    outcomes = [_outcome(await attempt_sign_in(database, account.email, WRONG)) for _ in range(50)]
    assert outcomes == ["InvalidCredentials"] * 5 + ["SignInThrottled"] * 45


async def test_throttled_answer_is_429_with_retry_after(database: Database) -> None:
    account = await _account(database)
    for _ in range(5):
        await attempt_sign_in(database, account.email, WRONG)
    throttled = await attempt_sign_in(database, account.email, WRONG)
    assert _response(throttled) == (
        429,
        "SignInThrottled",
        "Too many sign-in attempts. Wait a few minutes and try again.",
        {"Retry-After": "900"},
    )


async def test_unknown_account_and_wrong_password_answer_identically(database: Database) -> None:
    account = await _account(database)
    wrong_password = await attempt_sign_in(database, account.email, WRONG)
    unknown = await attempt_sign_in(database, "nobody@example.com", WRONG)
    assert _response(wrong_password) == _response(unknown)
    assert _response(unknown) == (401, "InvalidCredentials", "Invalid email or password.", {})


@pytest.mark.usefixtures("tight_limits")
async def test_throttled_unknown_and_known_accounts_answer_identically(database: Database) -> None:
    account = await _account(database)
    for _ in range(TIGHT_ACCOUNT_LIMIT):
        await attempt_sign_in(database, account.email, WRONG, "192.0.2.1")
        await attempt_sign_in(database, "nobody@example.com", WRONG, "192.0.2.2")
    known = await attempt_sign_in(database, account.email, WRONG, "192.0.2.1")
    unknown = await attempt_sign_in(database, "nobody@example.com", WRONG, "192.0.2.2")
    assert _response(known) == _response(unknown)


async def test_inactive_account_answers_like_a_wrong_password(database: Database) -> None:
    account = await _account(database)
    async with database.session() as session:
        user = await session.get(StaffUser, account.user.id)
        assert user is not None
        user.is_active = False
    outcome = await attempt_sign_in(database, account.email, account.password)
    assert _response(outcome) == (401, "InvalidCredentials", "Invalid email or password.", {})


@pytest.mark.usefixtures("tight_limits")
async def test_throttled_account_is_refused_even_with_the_right_password(
    database: Database,
) -> None:
    account = await _account(database)
    for _ in range(TIGHT_ACCOUNT_LIMIT):
        await attempt_sign_in(database, account.email, WRONG)
    outcome = await attempt_sign_in(database, account.email, account.password)
    assert isinstance(outcome, SignInThrottled)


@pytest.mark.usefixtures("tight_limits")
async def test_throttle_lifts_after_the_window(database: Database) -> None:
    clock = FrozenClock()
    account = await _account(database)
    for _ in range(TIGHT_ACCOUNT_LIMIT):
        await attempt_sign_in(database, account.email, WRONG)
    clock.advance(timedelta(minutes=15, seconds=1))
    assert _outcome(await attempt_sign_in(database, account.email, account.password)) == (
        "SignedIn"
    )


@pytest.mark.usefixtures("tight_limits")
async def test_account_throttle_applies_from_every_address(database: Database) -> None:
    account = await _account(database)
    for number in range(TIGHT_ACCOUNT_LIMIT):
        await attempt_sign_in(database, account.email, WRONG, f"203.0.113.{number}")
    outcome = await attempt_sign_in(database, account.email, account.password, "203.0.113.99")
    assert isinstance(outcome, SignInThrottled)


async def test_one_address_is_throttled_across_accounts_after_twenty(database: Database) -> None:
    outcomes = [
        _outcome(await attempt_sign_in(database, f"guess{n}@example.com", WRONG, "192.0.2.50"))
        for n in range(22)
    ]
    assert outcomes == ["InvalidCredentials"] * 20 + ["SignInThrottled"] * 2


@pytest.mark.usefixtures("tight_limits")
async def test_address_throttle_does_not_block_other_addresses(database: Database) -> None:
    account = await _account(database)
    for n in range(TIGHT_ADDRESS_LIMIT):
        await attempt_sign_in(database, f"guess{n}@example.com", WRONG, "192.0.2.50")
    outcome = await attempt_sign_in(database, account.email, account.password, "192.0.2.51")
    assert _outcome(outcome) == "SignedIn"


@pytest.mark.usefixtures("tight_limits")
async def test_success_clears_the_accounts_failures(database: Database) -> None:
    account = await _account(database)
    await attempt_sign_in(database, account.email, WRONG)
    await attempt_sign_in(database, account.email, account.password)
    outcomes = [_outcome(await attempt_sign_in(database, account.email, WRONG)) for _ in range(3)]
    assert outcomes == ["InvalidCredentials"] * TIGHT_ACCOUNT_LIMIT + ["SignInThrottled"]


async def test_each_failure_writes_an_audit_row(database: Database) -> None:
    account = await _account(database)
    for _ in range(3):
        await attempt_sign_in(database, account.email, WRONG)
    await attempt_sign_in(database, "nobody@example.com", WRONG)
    rows = await _actions(database, "staff.sign_in_failed")
    assert [(row.actor_type, row.actor_id, row.ip_address, row.details) for row in rows] == [
        (ActorType.staff, account.user.id, DEFAULT_IP, {"known_account": True}),
        (ActorType.staff, account.user.id, DEFAULT_IP, {"known_account": True}),
        (ActorType.staff, account.user.id, DEFAULT_IP, {"known_account": True}),
        (ActorType.anonymous, None, DEFAULT_IP, {"known_account": False}),
    ]


async def test_a_flood_of_throttled_attempts_writes_one_audit_row_a_minute(
    database: Database, tight_limits: None
) -> None:
    # Each refused attempt used to append a row: a flood filled the append-only log and
    # took the database writer once per attempt.
    account = await _account(database)
    outcomes = [
        type(await attempt_sign_in(database, account.email, WRONG)).__name__
        for _ in range(TIGHT_ACCOUNT_LIMIT + 5)
    ]
    rows = await _actions(database, "staff.sign_in_throttled")
    assert outcomes[TIGHT_ACCOUNT_LIMIT:] == ["SignInThrottled"] * 5
    assert [(row.actor_type, row.ip_address, row.details) for row in rows] == [
        (ActorType.anonymous, DEFAULT_IP, {"limit": "account"}),
    ]


async def test_audit_rows_of_failures_never_hold_the_password(database: Database) -> None:
    account = await _account(database)
    await attempt_sign_in(database, account.email, WRONG)
    [row] = await _actions(database, "staff.sign_in_failed")
    assert WRONG not in str(row.details)


async def test_success_writes_a_signed_in_audit_row(database: Database) -> None:
    account = await _account(database)
    signed_in = await attempt_sign_in(database, account.email, account.password)
    assert isinstance(signed_in, SignedIn)
    [row] = await _actions(database, "staff.signed_in")
    assert (row.actor_id, row.workspace_id, row.target_id, row.details) == (
        account.user.id,
        account.workspace.id,
        signed_in.session.id,
        {"mfa_pending": False},
    )


@pytest.mark.usefixtures("tight_limits")
async def test_failures_keep_the_audit_chain_intact(database: Database) -> None:
    account = await _account(database)
    for _ in range(TIGHT_ACCOUNT_LIMIT + 2):
        await attempt_sign_in(database, account.email, WRONG)
    async with database.session() as session:
        report = await audit.verify(session)
    assert report.first_broken_seq is None


@pytest.mark.real_password_hashing
async def test_sign_in_upgrades_a_weak_stored_hash(database: Database) -> None:
    account = await _account(database)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(account.password)
    async with database.session() as session:
        user = await session.get(StaffUser, account.user.id)
        assert user is not None
        user.password_hash = weak
    await attempt_sign_in(database, account.email, account.password)
    stored = (await load_user(database, account.user.id)).password_hash
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=1$")


@pytest.mark.real_password_hashing
async def test_failed_sign_in_leaves_a_weak_hash_alone(database: Database) -> None:
    account = await _account(database)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(account.password)
    async with database.session() as session:
        user = await session.get(StaffUser, account.user.id)
        assert user is not None
        user.password_hash = weak
    await attempt_sign_in(database, account.email, WRONG)
    assert (await load_user(database, account.user.id)).password_hash == weak


async def test_invalid_credentials_is_the_class_raised(database: Database) -> None:
    outcome = await attempt_sign_in(database, "nobody@example.com", WRONG)
    assert isinstance(outcome, InvalidCredentials)
