"""TOTP MFA: enrolment, codes that never replay, single-use recovery codes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from rapport.core.db import Database
from rapport.errors import Conflict
from rapport.identity.audit import audit
from rapport.identity.enums import Role
from rapport.identity.errors import InvalidMfaCode, SignInThrottled
from rapport.identity.mfa import mfa
from rapport.identity.models import AuditEvent, StaffUser
from rapport.identity.repository import StaffRepository
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.jobs import FrozenClock
from tests.fixtures.sessions import enrol_mfa, load_user, pending_totp

STEP = timedelta(seconds=30)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def user_id(database: Database) -> str:
    account = await make_staff(database, await make_workspace(database), Role.agent)
    return account.user.id


async def _verify(database: Database, staff_id: str, code: str) -> str:
    """Check a code in its own unit of work; return the method or the error's name."""
    try:
        async with database.session() as session:
            user = await StaffRepository(session).get(staff_id)
            assert user is not None
            return await mfa.verify(session, user, code)
    except (InvalidMfaCode, SignInThrottled) as error:
        return type(error).__name__


async def _actions(database: Database) -> list[str]:
    async with database.session() as session:
        rows = await session.execute(select(AuditEvent.action).order_by(AuditEvent.seq))
        return [action for action in rows.scalars() if action.startswith("staff.mfa")]


async def test_enrolment_uri_names_the_issuer_and_account(database: Database, user_id: str) -> None:
    async with database.session() as session:
        user = await session.get(StaffUser, user_id)
        assert user is not None
        uri = mfa.begin_enrollment(user)
        email = user.email
    parsed = pyotp.parse_uri(uri)
    assert (parsed.issuer, parsed.name) == ("Rapport", email)


async def test_pending_secret_is_stored_encrypted(database: Database, user_id: str) -> None:
    async with database.session() as session:
        user = await session.get(StaffUser, user_id)
        assert user is not None
        secret = pyotp.parse_uri(mfa.begin_enrollment(user)).secret
    stored = (await load_user(database, user_id)).totp_pending_secret
    assert stored is not None
    assert secret.encode() not in stored
    assert pending_totp(await load_user(database, user_id)).secret == secret


async def test_confirm_turns_mfa_on_with_ten_recovery_codes(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    _, codes = await enrol_mfa(database, user_id)
    user = await load_user(database, user_id)
    assert (user.mfa_enabled, user.totp_pending_secret) == (True, None)
    assert len(codes) == 10
    assert len(set(codes)) == 10


async def test_confirm_with_a_wrong_code_leaves_mfa_off(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    async with database.session() as session:
        user = await session.get(StaffUser, user_id)
        assert user is not None
        mfa.begin_enrollment(user)
        right = pending_totp(user).at(clock.now)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        with pytest.raises(InvalidMfaCode):
            await mfa.confirm_enrollment(session, user, wrong)
    assert (await load_user(database, user_id)).mfa_enabled is False


async def test_enrolling_twice_is_a_conflict(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    await enrol_mfa(database, user_id)
    user = await load_user(database, user_id)
    with pytest.raises(Conflict):
        mfa.begin_enrollment(user)


async def test_fresh_code_is_accepted(database: Database, user_id: str, clock: FrozenClock) -> None:
    totp, _ = await enrol_mfa(database, user_id)
    clock.advance(STEP)
    assert await _verify(database, user_id, totp.at(clock.now)) == "totp"


async def test_the_enrolment_code_cannot_be_replayed(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    totp, _ = await enrol_mfa(database, user_id)
    assert await _verify(database, user_id, totp.at(clock.now)) == "InvalidMfaCode"


async def test_the_same_code_twice_is_refused(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    totp, _ = await enrol_mfa(database, user_id)
    clock.advance(STEP)
    code = totp.at(clock.now)
    assert [await _verify(database, user_id, code) for _ in range(2)] == [
        "totp",
        "InvalidMfaCode",
    ]


async def test_codes_are_throttled_after_five_failures_even_the_right_one(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    totp, _ = await enrol_mfa(database, user_id)
    wrong = [await _verify(database, user_id, "000000") for _ in range(5)]
    clock.advance(STEP)
    assert [*wrong, await _verify(database, user_id, totp.at(clock.now))] == [
        *["InvalidMfaCode"] * 5,
        "SignInThrottled",
    ]


async def test_code_throttle_lifts_after_the_window(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    totp, _ = await enrol_mfa(database, user_id)
    for _ in range(5):
        await _verify(database, user_id, "000000")
    clock.advance(timedelta(minutes=15, seconds=30))
    assert await _verify(database, user_id, totp.at(clock.now)) == "totp"


async def test_a_code_in_other_digits_is_refused_not_a_500(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    await enrol_mfa(database, user_id)
    arabic_indic = "\u0661\u0662\u0663\u0664\u0665\u0666"
    assert await _verify(database, user_id, arabic_indic) == "InvalidMfaCode"


async def test_an_older_code_after_a_newer_one_is_refused(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    totp, _ = await enrol_mfa(database, user_id)
    clock.advance(STEP * 2)
    older, newer = totp.at(clock.now - STEP), totp.at(clock.now)
    assert await _verify(database, user_id, newer) == "totp"
    assert await _verify(database, user_id, older) == "InvalidMfaCode"


async def test_a_code_from_two_steps_ago_is_refused(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    totp, _ = await enrol_mfa(database, user_id)
    clock.advance(STEP * 3)
    assert await _verify(database, user_id, totp.at(clock.now - STEP * 2)) == "InvalidMfaCode"


async def test_the_same_code_submitted_concurrently_is_accepted_once(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    totp, _ = await enrol_mfa(database, user_id)
    clock.advance(STEP)
    code = totp.at(clock.now)
    second = Database(database.url)
    await load_user(second, user_id)  # warm its pool, so both requests truly overlap
    try:
        outcomes = await asyncio.gather(
            _verify(database, user_id, code), _verify(second, user_id, code)
        )
    finally:
        await second.dispose()
    assert sorted(outcomes) == ["InvalidMfaCode", "totp"]


async def test_recovery_code_works_once(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    _, codes = await enrol_mfa(database, user_id)
    assert [await _verify(database, user_id, codes[3]) for _ in range(2)] == [
        "recovery_code",
        "InvalidMfaCode",
    ]


async def test_recovery_code_ignores_case_spaces_and_dashes(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    _, codes = await enrol_mfa(database, user_id)
    typed = " " + codes[0].upper().replace("-", " ") + " "
    assert await _verify(database, user_id, typed) == "recovery_code"


async def test_using_a_recovery_code_leaves_nine(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    _, codes = await enrol_mfa(database, user_id)
    await _verify(database, user_id, codes[0])
    async with database.session() as session:
        user = await session.get(StaffUser, user_id)
        assert user is not None
        assert await mfa.recovery_codes_left(session, user) == 9


async def test_disable_refuses_a_wrong_code(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    await enrol_mfa(database, user_id)
    with pytest.raises(InvalidMfaCode):
        async with database.session() as session:
            user = await session.get(StaffUser, user_id)
            assert user is not None
            await mfa.disable(session, user, "000000")
    assert (await load_user(database, user_id)).mfa_enabled is True


async def test_disable_with_a_valid_code_turns_mfa_off(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    totp, _ = await enrol_mfa(database, user_id)
    clock.advance(STEP)
    async with database.session() as session:
        user = await session.get(StaffUser, user_id)
        assert user is not None
        await mfa.disable(session, user, totp.at(clock.now))
        assert await mfa.recovery_codes_left(session, user) == 0
    user = await load_user(database, user_id)
    assert (user.mfa_enabled, user.totp_secret) == (False, None)


async def test_mfa_changes_and_failures_are_audited(
    database: Database, user_id: str, clock: FrozenClock
) -> None:
    totp, _ = await enrol_mfa(database, user_id)
    await _verify(database, user_id, "123456" if totp.at(clock.now) != "123456" else "654321")
    clock.advance(STEP)
    async with database.session() as session:
        user = await session.get(StaffUser, user_id)
        assert user is not None
        await mfa.disable(session, user, totp.at(clock.now))
    assert await _actions(database) == [
        "staff.mfa_enabled",
        "staff.mfa_failed",
        "staff.mfa_disabled",
    ]
    async with database.session() as session:
        assert (await audit.verify(session)).first_broken_seq is None
