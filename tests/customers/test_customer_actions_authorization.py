"""Who may use the staff actions of the customer page: anonymous, wrong role, other
workspace, right role."""

from __future__ import annotations

import httpx
import pytest

from rapport.core.db import Database
from rapport.customers.merges import merges
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from tests.fixtures.customers import make_customer
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.sessions import session_headers, sign_in


async def _paths(database: Database, workspace_id: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Return each action's path and form, on fresh profiles and a fresh merge."""
    winner, loser = (
        await make_customer(database, workspace_id),
        await make_customer(database, workspace_id),
    )
    other = await make_customer(database, workspace_id)
    async with database.session() as session:
        merge = await merges.merge(
            session, workspace_id, winner_id=winner, loser_id=loser, reason="staff", actor="test"
        )
    return {
        "consent": (
            f"/console/customers/{winner}/consent",
            {"purpose": "analytics", "granted": "true"},
        ),
        "merge": (f"/console/customers/{winner}/merge", {"other_id": other}),
        "undo": (f"/console/customer-merges/{merge.id}/undo", {}),
    }


async def _staff(database: Database, workspace: Workspace, role: Role) -> dict[str, str]:
    account = await make_staff(database, workspace, role)
    return session_headers((await sign_in(database, account)).token)


@pytest.mark.parametrize(
    ("action", "allowed", "refused"),
    [
        ("consent", Role.supervisor, Role.agent),
        ("merge", Role.admin, Role.supervisor),
        ("undo", Role.admin, Role.supervisor),
    ],
)
async def test_staff_actions_need_their_scope_and_workspace(
    client: httpx.AsyncClient, database: Database, action: str, allowed: Role, refused: Role
) -> None:
    workspace, stranger_workspace = await make_workspace(database), await make_workspace(database)
    path, form = (await _paths(database, workspace.id))[action]
    anonymous = await client.post(path, data=form)  # no session, so no CSRF token either
    stranger = await client.post(
        path, data=form, headers=await _staff(database, stranger_workspace, Role.owner)
    )
    wrong_role = await client.post(
        path, data=form, headers=await _staff(database, workspace, refused)
    )
    right_role = await client.post(
        path, data=form, headers=await _staff(database, workspace, allowed)
    )
    assert [r.status_code for r in (anonymous, stranger, wrong_role, right_role)] == [
        403,
        404,
        403,
        303,
    ]
