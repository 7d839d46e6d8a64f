"""The customer page shows what unsigned identify calls claimed, marked unverified."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from rapport.identity.enums import Role
from tests.fixtures.customers import Shop
from tests.fixtures.events import identify
from tests.fixtures.identity import make_source, make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in


async def test_claims_are_listed_as_unverified_beside_the_profile(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    source = await make_source(database, workspace, verified_identity=True)
    shop = Shop(workspace, source.write_key, client, database)
    traits = {"email": "mallory@evil.example", "name": "Mallory"}
    await shop.send(identify(userId="alice-1", anonymousId="b-1", traits=traits))
    claimant = await shop.profile_of_anonymous("b-1")
    account = await make_staff(database, workspace, Role.agent)
    headers = session_headers((await sign_in(database, account)).token)
    page = await client.get(f"/console/customers/{claimant}", headers=headers)
    claims = page.text.split("<ul data-claims>", 1)[1].split("</ul>", 1)[0]
    assert page.status_code == 200
    assert claims.count('<span class="pill">unverified</span>') == 4
    assert "<code>user_id</code> alice-1" in claims
    assert "<code>email</code> mallory@evil.example" in claims
    assert "Name: Mallory" in claims
