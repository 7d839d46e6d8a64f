"""Staff invitations: no enumeration, consent before membership, single use, expiry, audit."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import set_clock, utcnow
from rapport.core.crypto import hash_token
from rapport.core.db import Database
from rapport.errors import RapportError
from rapport.identity.audit import SYSTEM, Actor
from rapport.identity.enums import ActorType, Role
from rapport.identity.invitations import IssuedInvitation, invitations
from rapport.identity.models import AuditEvent, Invitation, Membership, StaffUser, Workspace
from rapport.identity.passwords import WeakPassword
from tests.fixtures.identity import (
    StaffAccount,
    bearer,
    make_api_key,
    make_invitation,
    make_staff,
    make_workspace,
)
from tests.fixtures.sessions import attempt_sign_in, enrol_mfa, session_headers, sign_in

NEW_PASSWORD = "seven purple lanterns drifting home"
VOLATILE = {"id", "email", "created_at", "expires_at", "link"}


async def _invite(
    client: httpx.AsyncClient, secret: str, email: str, role: str = "agent"
) -> httpx.Response:
    return await client.post(
        "/api/v1/staff/invitations", json={"email": email, "role": role}, headers=bearer(secret)
    )


def _token(created: httpx.Response) -> str:
    return str(created.json()["link"]).rsplit("/", 1)[1]


async def _memberships(database: Database, workspace: Workspace) -> list[tuple[str, Role]]:
    async with database.session() as session:
        rows = await session.execute(
            select(Membership.staff_id, Membership.role).where(
                Membership.workspace_id == workspace.id
            )
        )
        return sorted((row[0], row[1]) for row in rows)


async def _audit_rows(database: Database, action: str) -> list[AuditEvent]:
    async with database.session() as session:
        rows = await session.execute(select(AuditEvent).where(AuditEvent.action == action))
        return list(rows.scalars())


Work = Callable[[AsyncSession], Awaitable[object]]


async def _outcome(database: Database, work: Work) -> RapportError | None:
    """Run `work` in its own unit of work; return the error it raised, if any."""
    try:
        async with database.session() as session:
            await work(session)
    except RapportError as error:
        return error
    return None


async def _accept(
    database: Database, issued: IssuedInvitation | str, account: StaffAccount
) -> RapportError | None:
    token = issued if isinstance(issued, str) else issued.token

    async def work(session: AsyncSession) -> None:
        user = await session.get(StaffUser, account.user.id)
        assert user is not None
        await invitations.accept(session, token, user, None)

    return await _outcome(database, work)


# Inviting: the same answer whether or not the email has an account (anywhere).


async def test_invite_answers_alike_for_an_existing_account_and_an_unknown_email(
    client: httpx.AsyncClient, database: Database
) -> None:
    mine = await make_workspace(database)
    elsewhere = await make_staff(database, await make_workspace(database), Role.owner)
    await enrol_mfa(database, elsewhere.user.id)
    secret = await make_api_key(database, mine)
    known = await _invite(client, secret, elsewhere.email)
    unknown = await _invite(client, secret, "nobody-yet@example.com")
    assert (known.status_code, unknown.status_code) == (201, 201)
    strip = {key: value for key, value in known.json().items() if key not in VOLATILE}
    assert strip == {key: value for key, value in unknown.json().items() if key not in VOLATILE}
    assert set(known.json()) == set(unknown.json())
    assert strip["status"] == "pending"


async def test_invite_never_reveals_name_or_mfa(
    client: httpx.AsyncClient, database: Database
) -> None:
    elsewhere = await make_staff(database, await make_workspace(database), Role.owner)
    secret = await make_api_key(database, await make_workspace(database))
    body = (await _invite(client, secret, elsewhere.email)).json()
    assert sorted(body) == [
        "created_at",
        "email",
        "expires_at",
        "id",
        "invited_by_id",
        "invited_by_type",
        "link",
        "role",
        "status",
    ]
    assert elsewhere.user.display_name not in json.dumps(body)


async def test_inviting_an_existing_account_does_not_add_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    mine = await make_workspace(database)
    owner = await make_staff(database, mine, Role.owner)
    elsewhere = await make_staff(database, await make_workspace(database), Role.owner)
    await _invite(client, await make_api_key(database, mine), elsewhere.email)
    assert await _memberships(database, mine) == [(owner.user.id, Role.owner)]


async def test_invite_returns_a_link_to_the_console_valid_for_seven_days(
    client: httpx.AsyncClient, database: Database
) -> None:
    secret = await make_api_key(database, await make_workspace(database))
    response = await _invite(client, secret, "New.Agent@Example.com")
    body = response.json()
    assert body["email"] == "new.agent@example.com"
    assert body["link"].startswith("http://127.0.0.1:8000/console/invitations/")
    async with database.session() as session:
        row = await session.get(Invitation, body["id"])
    assert row is not None
    assert row.expires_at - row.created_at == timedelta(days=7)


async def test_invitation_stores_the_email_sealed_and_the_token_hashed(
    client: httpx.AsyncClient, database: Database
) -> None:
    secret = await make_api_key(database, await make_workspace(database))
    created = await _invite(client, secret, "sealed.person@example.com")
    async with database.session() as session:
        row = await session.get(Invitation, created.json()["id"])
    assert row is not None
    assert b"sealed.person" not in row.email
    assert "sealed.person" not in row.email_index
    assert row.token_hash == hash_token(_token(created))


# Listing and revoking over the API.


async def test_list_shows_pending_invitations_only(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    secret = await make_api_key(database, workspace)
    await _invite(client, secret, "first@example.com", "supervisor")
    revoked = await _invite(client, secret, "second@example.com")
    await client.delete(f"/api/v1/staff/invitations/{revoked.json()['id']}", headers=bearer(secret))
    listed = await client.get("/api/v1/staff/invitations", headers=bearer(secret))
    assert [(i["email"], i["role"], i["status"]) for i in listed.json()] == [
        ("first@example.com", "supervisor", "pending")
    ]


async def test_revoked_invitation_cannot_be_accepted(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    secret = await make_api_key(database, workspace)
    person = await make_staff(database, await make_workspace(database))
    created = await _invite(client, secret, person.email)
    revoked = await client.delete(
        f"/api/v1/staff/invitations/{created.json()['id']}", headers=bearer(secret)
    )
    assert (revoked.status_code, revoked.json()["status"]) == (200, "revoked")
    error = await _accept(database, _token(created), person)
    assert error is not None
    assert (error.status_code, error.message) == (
        410,
        "This invitation was withdrawn. Ask for a new one.",
    )
    assert all(
        staff_id != person.user.id for staff_id, _ in await _memberships(database, workspace)
    )


async def test_revoking_twice_is_a_conflict_not_a_500(
    client: httpx.AsyncClient, database: Database
) -> None:
    secret = await make_api_key(database, await make_workspace(database))
    created = await _invite(client, secret, "twice@example.com")
    path = f"/api/v1/staff/invitations/{created.json()['id']}"
    await client.delete(path, headers=bearer(secret))
    again = await client.delete(path, headers=bearer(secret))
    assert (again.status_code, again.json()["error"]) == (410, "InvitationUnavailable")


async def test_another_workspace_cannot_revoke(
    client: httpx.AsyncClient, database: Database
) -> None:
    theirs = await make_workspace(database)
    issued = await make_invitation(database, theirs, "theirs@example.com")
    mine = await make_api_key(database, await make_workspace(database))
    response = await client.delete(
        f"/api/v1/staff/invitations/{issued.view.invitation.id}", headers=bearer(mine)
    )
    assert (response.status_code, response.json()["error"]) == (404, "InvitationNotFound")


async def test_anonymous_cannot_list_invitations(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/staff/invitations")
    assert (response.status_code, response.json()["error"]) == (401, "NotSignedIn")


@pytest.mark.parametrize(
    ("role", "listing", "inviting"),
    [(Role.agent, 403, 403), (Role.supervisor, 200, 403), (Role.admin, 200, 201)],
)
async def test_roles_that_may_list_and_invite(
    client: httpx.AsyncClient, database: Database, role: Role, listing: int, inviting: int
) -> None:
    account = await make_staff(database, await make_workspace(database), role)
    headers = session_headers((await sign_in(database, account)).token)
    listed = await client.get("/api/v1/staff/invitations", headers=headers)
    created = await client.post(
        "/api/v1/staff/invitations", json={"email": "x@example.com"}, headers=headers
    )
    assert (listed.status_code, created.status_code) == (listing, inviting)


async def test_admin_cannot_revoke_an_owner_invitation(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    issued = await make_invitation(database, workspace, "boss@example.com", Role.owner)
    admin = await make_staff(database, workspace, Role.admin)
    headers = session_headers((await sign_in(database, admin)).token)
    response = await client.delete(
        f"/api/v1/staff/invitations/{issued.view.invitation.id}", headers=headers
    )
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")


async def test_inviting_again_replaces_the_earlier_link(database: Database) -> None:
    workspace = await make_workspace(database)
    person = await make_staff(database, await make_workspace(database))
    first = await make_invitation(database, workspace, person.email)
    second = await make_invitation(database, workspace, person.email, Role.supervisor)
    error = await _accept(database, first, person)
    assert error is not None and error.status_code == 410
    assert await _accept(database, second, person) is None


# Accepting: the right account only, once, before it expires; the role is applied.


async def test_accepting_adds_the_member_with_the_invited_role(database: Database) -> None:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace)
    person = await make_staff(database, await make_workspace(database))
    issued = await make_invitation(database, workspace, person.email, Role.supervisor)
    assert await _accept(database, issued, person) is None
    assert await _memberships(database, workspace) == sorted(
        [(owner.user.id, Role.owner), (person.user.id, Role.supervisor)]
    )


async def test_another_signed_in_account_cannot_accept(database: Database) -> None:
    workspace = await make_workspace(database)
    owner = await make_staff(database, workspace)
    await make_staff(database, await make_workspace(database), email="invited@example.com")
    intruder = await make_staff(database, await make_workspace(database))
    issued = await make_invitation(database, workspace, "invited@example.com", Role.admin)
    error = await _accept(database, issued, intruder)
    assert error is not None
    assert (error.code, error.status_code) == ("InvitationForAnotherAccount", 403)
    assert await _memberships(database, workspace) == [(owner.user.id, Role.owner)]


async def test_an_invitation_is_accepted_only_once(database: Database) -> None:
    workspace = await make_workspace(database)
    person = await make_staff(database, await make_workspace(database))
    issued = await make_invitation(database, workspace, person.email)
    await _accept(database, issued, person)
    async with database.session() as session:
        await session.execute(delete(Membership).where(Membership.staff_id == person.user.id))
    error = await _accept(database, issued, person)
    assert error is not None
    assert (error.status_code, error.message) == (
        410,
        "This invitation was already accepted. Sign in to continue.",
    )


async def test_an_expired_invitation_cannot_be_accepted(database: Database) -> None:
    workspace = await make_workspace(database)
    person = await make_staff(database, await make_workspace(database))
    issued = await make_invitation(database, workspace, person.email)
    later = utcnow() + timedelta(days=7, minutes=1)
    set_clock(lambda: later)
    error = await _accept(database, issued, person)
    assert error is not None
    assert (error.status_code, error.message) == (
        410,
        "This invitation has expired. Ask for a new one.",
    )


async def test_an_unknown_token_is_not_found(database: Database) -> None:
    person = await make_staff(database, await make_workspace(database))
    error = await _accept(database, "not-a-real-token", person)
    assert error is not None and (error.code, error.status_code) == ("InvitationNotFound", 404)


async def test_a_declined_invitation_cannot_be_accepted(database: Database) -> None:
    workspace = await make_workspace(database)
    person = await make_staff(database, await make_workspace(database))
    issued = await make_invitation(database, workspace, person.email)

    anonymous = Actor(ActorType.anonymous)
    assert (
        await _outcome(database, lambda s: invitations.decline(s, issued.token, anonymous)) is None
    )
    error = await _accept(database, issued, person)
    assert error is not None and error.status_code == 410


# New people: an account from the link, never a change to an existing one.


async def _create_account(
    database: Database, token: str, password: str = NEW_PASSWORD, name: str = "New Person"
) -> RapportError | None:
    try:
        await invitations.create_account(
            database, token, display_name=name, password=password, ip_address=None
        )
    except RapportError as error:
        return error
    return None


async def test_a_new_person_creates_an_account_then_accepts(database: Database) -> None:
    workspace = await make_workspace(database)
    issued = await make_invitation(database, workspace, "fresh@example.com", Role.supervisor)
    assert await _create_account(database, issued.token) is None
    signed = await attempt_sign_in(database, "fresh@example.com", NEW_PASSWORD)
    assert not isinstance(signed, RapportError)
    assert await _memberships(database, workspace) == []
    account = StaffAccount(signed.user, workspace, "fresh@example.com", NEW_PASSWORD, Role.agent)
    assert await _accept(database, issued, account) is None
    assert await _memberships(database, workspace) == [(signed.user.id, Role.supervisor)]


async def test_the_link_never_changes_an_existing_accounts_password(database: Database) -> None:
    person = await make_staff(database, await make_workspace(database))
    issued = await make_invitation(database, await make_workspace(database), person.email)
    assert await _create_account(database, issued.token) is None
    assert isinstance(await attempt_sign_in(database, person.email, NEW_PASSWORD), RapportError)
    assert not isinstance(
        await attempt_sign_in(database, person.email, person.password), RapportError
    )


async def test_a_new_account_follows_the_password_policy(database: Database) -> None:
    issued = await make_invitation(database, await make_workspace(database), "weak@example.com")
    error = await _create_account(database, issued.token, password="passwordpassword")
    assert isinstance(error, WeakPassword)
    short = await _create_account(database, issued.token, password="too short")
    assert short is not None and short.message == "Password must be at least 15 characters long."


# The audit log: every step, by id, never the email.


async def test_every_step_is_audited_without_the_email(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    secret = await make_api_key(database, workspace)
    revoked = await _invite(client, secret, "revoked.person@example.com")
    await client.delete(f"/api/v1/staff/invitations/{revoked.json()['id']}", headers=bearer(secret))
    declined = await make_invitation(database, workspace, "declined.person@example.com")
    await _outcome(
        database,
        lambda session: invitations.decline(session, declined.token, SYSTEM),
    )
    person = await make_staff(database, await make_workspace(database))
    accepted = await make_invitation(database, workspace, person.email, Role.admin)
    await _accept(database, accepted, person)
    expected = {
        "staff.invited": 3,
        "staff.invitation_revoked": 1,
        "staff.invitation_declined": 1,
        "staff.invitation_accepted": 1,
    }
    for action, count in expected.items():
        rows = await _audit_rows(database, action)
        assert len(rows) == count, action
        for row in rows:
            assert (row.workspace_id, row.target_type) == (workspace.id, "invitation")
            assert "@" not in json.dumps(row.details)
    (accepted_row,) = await _audit_rows(database, "staff.invitation_accepted")
    assert (accepted_row.target_id, accepted_row.actor_id, accepted_row.details) == (
        accepted.view.invitation.id,
        person.user.id,
        {"role": "admin", "staff_id": person.user.id},
    )


async def test_account_creation_is_audited_outside_the_inviting_workspace(
    database: Database,
) -> None:
    issued = await make_invitation(database, await make_workspace(database), "new@example.com")
    await _create_account(database, issued.token)
    (row,) = await _audit_rows(database, "staff.account_created")
    assert (row.workspace_id, row.details) == (None, {"invitation_id": issued.view.invitation.id})


async def test_an_admin_cannot_replace_an_owner_invitation(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    issued = await make_invitation(database, workspace, "boss@example.com", Role.owner)
    admin = await make_staff(database, workspace, Role.admin)
    headers = session_headers((await sign_in(database, admin)).token)
    response = await client.post(
        "/api/v1/staff/invitations", json={"email": "boss@example.com"}, headers=headers
    )
    assert (response.status_code, response.json()["error"]) == (403, "MissingScope")
    async with database.session() as session:
        row = await session.get(Invitation, issued.view.invitation.id)
    assert row is not None and row.revoked_at is None
