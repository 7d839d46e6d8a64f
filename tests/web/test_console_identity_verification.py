"""Console sources tab: each source's identity secret and the "require verified identity"
setting, for admins only."""

from __future__ import annotations

import re

import httpx

from rapport.core.db import Database
from rapport.identity.audit import SYSTEM
from rapport.identity.enums import Role
from rapport.identity.models import Source
from rapport.identity.verification import identity_verification
from tests.fixtures.identity import make_source, make_staff, make_workspace
from tests.web.console import post_form, sign_in

PAGE = "/console/settings/sources"


async def _secret(database: Database, source: Source) -> str:
    async with database.session() as session:
        return await identity_verification.secret(
            session, workspace_id=source.workspace_id, source_id=source.id, actor=SYSTEM
        )


async def _required(database: Database, source: Source) -> bool:
    async with database.session() as session:
        [row] = await identity_verification.overview(session, source.workspace_id)
    return row.required


def _shown(html: str) -> list[str]:
    return re.findall(r"<code class=\"secret\" data-identity-secret>([^<]+)</code>", html)


async def test_admins_see_the_secret_and_a_warning_while_verification_is_off(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace, Role.admin)
    source = await make_source(database, workspace, "Web shop")
    secret = await _secret(database, source)
    await sign_in(client, account.email, account.password)
    page = await client.get(PAGE)
    assert (page.status_code, page.headers["cache-control"]) == (200, "no-store")
    assert _shown(page.text) == [secret]
    assert page.text.count("data-unverified-warning") == 1


async def test_supervisors_see_neither_the_secret_nor_the_setting(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace, Role.supervisor)
    source = await make_source(database, workspace, "Web shop")
    secret = await _secret(database, source)
    await sign_in(client, account.email, account.password)
    page = await client.get(PAGE)
    action = f"/console/settings/sources/{source.id}/identity-verification"
    refused = await post_form(client, PAGE, action, {"action": "rotate"})
    assert page.status_code == 200
    assert (secret in page.text, "identity-verification" in page.text) == (False, False)
    assert refused.status_code == 403
    assert await _secret(database, source) == secret


async def test_a_new_secret_replaces_the_old_one(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    source = await make_source(database, workspace, "Web shop")
    old = await _secret(database, source)
    await sign_in(client, account.email, account.password)
    action = f"/console/settings/sources/{source.id}/identity-verification"
    response = await post_form(client, PAGE, action, {"action": "rotate"})
    new = await _secret(database, source)
    assert response.status_code == 200
    assert _shown(response.text) == [new]
    assert new != old


async def test_requiring_verification_removes_the_warning(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    account = await make_staff(database, workspace)
    source = await make_source(database, workspace, "Web shop")
    await sign_in(client, account.email, account.password)
    action = f"/console/settings/sources/{source.id}/identity-verification"
    response = await post_form(client, PAGE, action, {"action": "require"})
    assert response.status_code == 200
    assert "data-unverified-warning" not in response.text
    assert await _required(database, source) is True
    await post_form(client, PAGE, action, {"action": "allow"})
    assert await _required(database, source) is False


async def test_an_unknown_action_or_another_workspaces_source_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace, other = await make_workspace(database), await make_workspace(database)
    account = await make_staff(database, workspace)
    theirs = await make_source(database, other, "Their shop")
    mine = await make_source(database, workspace, "Web shop")
    await sign_in(client, account.email, account.password)
    unknown = await post_form(
        client, PAGE, f"/console/settings/sources/{mine.id}/identity-verification", {"action": "x"}
    )
    foreign = await post_form(
        client,
        PAGE,
        f"/console/settings/sources/{theirs.id}/identity-verification",
        {"action": "require"},
    )
    assert (unknown.status_code, foreign.status_code) == (422, 404)
    assert await _required(database, theirs) is False
