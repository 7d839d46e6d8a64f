"""Sessions: idle and absolute timeouts, sign-out, password changes end other sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rapport.core.crypto import hash_token
from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.identity.errors import InvalidCredentials, NotSignedIn, SignInThrottled
from rapport.identity.passwords import WeakPassword, verify_password
from rapport.identity.repository import SessionRepository
from rapport.identity.sessions import sign_ins
from tests.fixtures.identity import StaffAccount, make_staff, make_workspace
from tests.fixtures.jobs import FrozenClock
from tests.fixtures.sessions import load_user, sign_in

NEW_PASSWORD = "a brand new passphrase 2026"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


async def _account(database: Database) -> StaffAccount:
    return await make_staff(database, await make_workspace(database), Role.agent)


async def _resolve(database: Database, token: str) -> str:
    """Resolve a token in its own unit of work; return the session id or the error message."""
    try:
        async with database.session() as session:
            row, _ = await sign_ins.resolve(session, token)
            return row.id
    except NotSignedIn as error:
        return error.message


async def _change_password(
    database: Database, account: StaffAccount, keep_session_id: str | None
) -> None:
    user = await load_user(database, account.user.id)
    await sign_ins.change_password(
        database,
        user,
        current=account.password,
        new=NEW_PASSWORD,
        keep_session_id=keep_session_id,
    )


async def test_token_is_stored_only_as_its_hash(database: Database) -> None:
    signed_in = await sign_in(database, await _account(database))
    async with database.session() as session:
        row = await SessionRepository(session).get(signed_in.session.id)
    assert row is not None
    assert row.token_hash == hash_token(signed_in.token)
    assert signed_in.token not in row.token_hash


async def test_fresh_session_resolves(database: Database) -> None:
    signed_in = await sign_in(database, await _account(database))
    assert await _resolve(database, signed_in.token) == signed_in.session.id


async def test_unknown_token_does_not_resolve(database: Database) -> None:
    assert await _resolve(database, "not-a-token") == "Your session has ended. Sign in again."


async def test_idle_session_times_out(database: Database, clock: FrozenClock) -> None:
    signed_in = await sign_in(database, await _account(database))
    clock.advance(timedelta(minutes=60, seconds=1))
    assert await _resolve(database, signed_in.token) == "Your session timed out. Sign in again."


async def test_idle_timed_out_session_stays_ended(database: Database, clock: FrozenClock) -> None:
    signed_in = await sign_in(database, await _account(database))
    clock.advance(timedelta(minutes=61))
    await _resolve(database, signed_in.token)
    clock.advance(timedelta(seconds=1))
    assert await _resolve(database, signed_in.token) == "Your session has ended. Sign in again."


async def test_activity_keeps_a_session_alive(database: Database, clock: FrozenClock) -> None:
    signed_in = await sign_in(database, await _account(database))
    for _ in range(3):
        clock.advance(timedelta(minutes=50))
        assert await _resolve(database, signed_in.token) == signed_in.session.id


async def test_session_ends_at_its_absolute_limit_despite_activity(
    database: Database, clock: FrozenClock
) -> None:
    signed_in = await sign_in(database, await _account(database))
    for _ in range(14):
        clock.advance(timedelta(minutes=50))
        await _resolve(database, signed_in.token)
    clock.advance(timedelta(minutes=20))  # 12 hours since sign-in
    assert await _resolve(database, signed_in.token) == "Your session has ended. Sign in again."


async def test_sign_out_revokes_the_session(database: Database) -> None:
    signed_in = await sign_in(database, await _account(database))
    async with database.session() as session:
        await sign_ins.sign_out(session, signed_in.token)
    async with database.session() as session:
        with pytest.raises(NotSignedIn):
            await sign_ins.resolve(session, signed_in.token)


async def test_sign_out_leaves_other_sessions_alone(database: Database) -> None:
    account = await _account(database)
    first, second = await sign_in(database, account), await sign_in(database, account)
    async with database.session() as session:
        await sign_ins.sign_out(session, first.token)
    assert await _resolve(database, second.token) == second.session.id


async def test_disabled_account_loses_its_sessions(database: Database) -> None:
    account = await _account(database)
    signed_in = await sign_in(database, account)
    detached = await load_user(database, account.user.id)
    async with database.session() as session:
        user = await session.merge(detached)
        user.is_active = False
    assert await _resolve(database, signed_in.token) == "Your account is disabled."


async def test_change_password_ends_other_sessions(database: Database) -> None:
    account = await _account(database)
    current, other = await sign_in(database, account), await sign_in(database, account)
    await _change_password(database, account, current.session.id)
    assert await _resolve(database, other.token) == "Your session has ended. Sign in again."


async def test_change_password_keeps_the_current_session(database: Database) -> None:
    account = await _account(database)
    current = await sign_in(database, account)
    await _change_password(database, account, current.session.id)
    assert await _resolve(database, current.token) == current.session.id


async def test_change_password_never_revives_a_signed_out_session(database: Database) -> None:
    account = await _account(database)
    ended = await sign_in(database, account)
    async with database.session() as session:
        await sign_ins.sign_out(session, ended.token)
    await _change_password(database, account, ended.session.id)
    assert await _resolve(database, ended.token) == "Your session has ended. Sign in again."


async def test_change_password_stores_the_new_password(database: Database) -> None:
    account = await _account(database)
    await _change_password(database, account, None)
    stored = (await load_user(database, account.user.id)).password_hash
    assert verify_password(stored, NEW_PASSWORD) == (True, None)


async def test_change_password_needs_the_current_password(database: Database) -> None:
    account = await _account(database)
    user = await load_user(database, account.user.id)
    with pytest.raises(InvalidCredentials):
        await sign_ins.change_password(
            database,
            user,
            current="wrong password here",
            new=NEW_PASSWORD,
            keep_session_id=None,
        )


async def _change_from(database: Database, account: StaffAccount, current: str) -> str:
    """Try a password change in its own unit of work; return the outcome's name."""
    user = await load_user(database, account.user.id)
    try:
        await sign_ins.change_password(
            database, user, current=current, new=NEW_PASSWORD, keep_session_id=None
        )
    except (InvalidCredentials, SignInThrottled) as error:
        return type(error).__name__
    return "changed"


async def test_change_password_guesses_are_throttled_like_sign_ins(database: Database) -> None:
    account = await _account(database)
    guesses = [await _change_from(database, account, "wrong password here") for _ in range(5)]
    assert [*guesses, await _change_from(database, account, account.password)] == [
        *["InvalidCredentials"] * 5,
        "SignInThrottled",
    ]


async def test_change_password_applies_the_policy(database: Database) -> None:
    account = await _account(database)
    user = await load_user(database, account.user.id)
    with pytest.raises(WeakPassword):
        await sign_ins.change_password(
            database,
            user,
            current=account.password,
            new="passwordpassword",
            keep_session_id=None,
        )
