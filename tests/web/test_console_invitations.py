"""Invitations in the console: the team page, the link page, accepting, declining, spent links."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from rapport.app import create_app
from rapport.config import Settings
from rapport.core.clock import set_clock, utcnow
from rapport.core.db import Database
from rapport.identity.enums import Role
from rapport.identity.models import Membership, Workspace
from tests.fixtures.identity import console_sign_in, make_invitation, make_staff, make_workspace
from tests.fixtures.sessions import enrol_mfa
from tests.web.console import csrf_of, post_form, sign_in

NEW_PASSWORD = "seven purple lanterns drifting home"
LINK_PREFIX = "http://127.0.0.1:8000/console/invitations/"


def _path(token: str) -> str:
    return f"/console/invitations/{token}"


async def _roles(database: Database, workspace: Workspace) -> dict[str, Role]:
    async with database.session() as session:
        rows = await session.execute(
            select(Membership.staff_id, Membership.role).where(
                Membership.workspace_id == workspace.id
            )
        )
        return {row[0]: row[1] for row in rows}


# The team page.


async def test_invite_shows_the_link_once_and_lists_the_invitation(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    response = await post_form(
        client,
        "/console/settings/team",
        "/console/settings/team",
        {"email": "New.Agent@Example.com", "role": "supervisor"},
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    link = response.text.split("data-secret>", 1)[1].split("<", 1)[0]
    assert link.startswith(LINK_PREFIX)
    team = await client.get("/console/settings/team")
    assert "<h2>Pending invitations</h2>" in team.text
    assert "<td>new.agent@example.com</td>" in team.text
    assert link not in team.text


async def test_revoking_from_the_team_page(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    issued = await make_invitation(database, workspace, "gone@example.com")
    await sign_in(client, account.email, account.password)
    response = await post_form(
        client,
        "/console/settings/team",
        f"/console/settings/team/invitations/{issued.view.invitation.id}/revoke",
    )
    assert response.headers["location"] == "/console/settings/team?notice=invitation-revoked"
    assert "gone@example.com" not in (await client.get("/console/settings/team")).text
    spent = await client.get(_path(issued.token))
    assert spent.status_code == 410


# The link page.


async def test_the_link_page_reads_the_same_for_a_known_and_an_unknown_email(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    known = await make_staff(database, await make_workspace(database), email="known@example.com")
    await enrol_mfa(database, known.user.id)
    to_known = await make_invitation(database, workspace, "known@example.com")
    to_unknown = await make_invitation(database, workspace, "unknown@example.com")
    pages = []
    for browser, issued, email in [
        (client, to_known, "known@example.com"),
        (other_client, to_unknown, "unknown@example.com"),
    ]:
        page = await browser.get(_path(issued.token))
        assert page.status_code == 200
        text = page.text.replace(issued.token, "TOKEN").replace(email, "EMAIL")
        pages.append(text.replace(csrf_of(page.text), "CSRF"))
    assert pages[0] == pages[1]


async def test_a_new_person_creates_an_account_signs_in_and_accepts(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    issued = await make_invitation(database, workspace, "newcomer@example.com", Role.supervisor)
    link = _path(issued.token)
    created = await post_form(
        client, link, f"{link}/account", {"display_name": "New Comer", "password": NEW_PASSWORD}
    )
    assert created.status_code == 303
    assert created.headers["location"] == f"/console/sign-in?notice=account-ready&next={link}"
    signed = await console_sign_in(client, "newcomer@example.com", NEW_PASSWORD, link)
    assert signed.headers["location"] == link
    invitation = await client.get(link)
    assert "Accept and join" in invitation.text
    accepted = await post_form(client, link, f"{link}/accept")
    assert accepted.headers["location"] == "/console?notice=invitation-accepted"
    home = await client.get("/console?notice=invitation-accepted")
    assert home.status_code == 200
    assert "Welcome aboard: you joined the workspace." in home.text
    assert list((await _roles(database, workspace)).values()) == [Role.supervisor]


async def test_an_existing_account_signs_in_with_mfa_and_accepts(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    person = await make_staff(database, await make_workspace(database), Role.owner)
    totp, _ = await enrol_mfa(database, person.user.id)
    issued = await make_invitation(database, workspace, person.email, Role.admin)
    link = _path(issued.token)
    signed = await console_sign_in(client, person.email, person.password, link)
    assert signed.headers["location"] == f"/console/mfa?next={link}"
    step = await client.get(signed.headers["location"])
    code = totp.at(utcnow() + timedelta(seconds=30))
    passed = await client.post(
        "/console/mfa", data={"code": code, "next": link, "csrf_token": csrf_of(step.text)}
    )
    assert passed.headers["location"] == link
    accepted = await post_form(client, link, f"{link}/accept")
    assert accepted.headers["location"] == "/console?notice=invitation-accepted"
    assert await _roles(database, workspace) == {person.user.id: Role.admin}


async def test_another_signed_in_account_cannot_accept(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    intruder = await make_staff(database, await make_workspace(database))
    issued = await make_invitation(database, workspace, "invited@example.com")
    await sign_in(client, intruder.email, intruder.password)
    link = _path(issued.token)
    page = await client.get(link)
    assert page.status_code == 403
    assert "This invitation was sent to another email address" in page.text
    assert "Accept and join" not in page.text
    refused = await client.post(f"{link}/accept", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 403
    assert await _roles(database, workspace) == {}


async def test_accept_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    person = await make_staff(database, await make_workspace(database))
    issued = await make_invitation(database, workspace, person.email)
    await sign_in(client, person.email, person.password)
    refused = await client.post(f"{_path(issued.token)}/accept")
    assert refused.status_code == 403
    assert await _roles(database, workspace) == {}


async def test_accepting_without_signing_in_leads_to_sign_in(
    client: httpx.AsyncClient, database: Database
) -> None:
    issued = await make_invitation(database, await make_workspace(database), "x@example.com")
    link = _path(issued.token)
    response = await post_form(client, link, f"{link}/accept")
    assert response.headers["location"] == f"/console/sign-in?next={link}"


async def test_declining_without_an_account(client: httpx.AsyncClient, database: Database) -> None:
    issued = await make_invitation(database, await make_workspace(database), "no@example.com")
    link = _path(issued.token)
    declined = await post_form(client, link, f"{link}/decline")
    assert declined.status_code == 200
    assert "<h1>Invitation declined</h1>" in declined.text
    again = await client.get(link)
    assert again.status_code == 410
    assert "This invitation was declined. Ask for a new one." in again.text


async def test_a_weak_password_is_shown_on_the_link_page(
    client: httpx.AsyncClient, database: Database
) -> None:
    issued = await make_invitation(database, await make_workspace(database), "w@example.com")
    link = _path(issued.token)
    response = await post_form(
        client, link, f"{link}/account", {"display_name": "W", "password": "short"}
    )
    assert response.status_code == 422
    assert "Password must be at least 15 characters long." in response.text
    assert "Create my account" in response.text


# Spent and unknown links: clear 4xx pages, never a 500.


async def test_an_unknown_link_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(_path("no-such-token"))
    assert response.status_code == 404
    assert "This invitation link is not valid." in response.text


async def test_an_accepted_link_is_gone(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    person = await make_staff(database, await make_workspace(database))
    issued = await make_invitation(database, workspace, person.email)
    await sign_in(client, person.email, person.password)
    link = _path(issued.token)
    await post_form(client, link, f"{link}/accept")
    response = await client.get(link)
    assert response.status_code == 410
    assert "<h1>No longer valid</h1>" in response.text
    assert "This invitation was already accepted." in response.text


async def test_an_expired_link_is_gone(client: httpx.AsyncClient, database: Database) -> None:
    issued = await make_invitation(database, await make_workspace(database), "late@example.com")
    later = utcnow() + timedelta(days=8)
    set_clock(lambda: later)
    response = await client.get(_path(issued.token))
    assert response.status_code == 410
    assert "This invitation has expired. Ask for a new one." in response.text
    posted = await post_form(
        client,
        "/console/sign-in",
        f"{_path(issued.token)}/account",
        {"display_name": "Late", "password": NEW_PASSWORD},
    )
    assert posted.status_code == 410
    assert "This invitation has expired. Ask for a new one." in posted.text


async def test_the_team_page_warns_when_links_point_elsewhere_than_the_browser(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    page = await client.get("/console/settings/team")
    warning = "data-base-url-warning>Invitation links start with <code>http://127.0.0.1:8000</code>"
    assert warning in page.text
    assert "you opened Rapport at <code>http://127.0.0.1</code>" in page.text


async def test_no_warning_when_the_browser_uses_the_base_url(
    settings: Settings, database: Database
) -> None:
    app = create_app(settings.model_copy(update={"base_url": "http://127.0.0.1"}), database)
    transport = httpx.ASGITransport(app=app)
    account = await make_staff(database, await make_workspace(database))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await sign_in(client, account.email, account.password)
        page = await client.get("/console/settings/team")
    assert (page.status_code, "data-base-url-warning" in page.text) == (200, False)
