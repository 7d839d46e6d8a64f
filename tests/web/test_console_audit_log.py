"""The audit log tab: filters by actor, action and dates, pages of 50, targets by name."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.identity.audit import SYSTEM, audit
from rapport.identity.models import Workspace
from tests.fixtures.identity import StaffAccount, make_source, make_staff, make_workspace
from tests.web.console import post_form, sign_in


def seqs(html: str) -> list[int]:
    """Return the seq of every audit row shown, in page order."""
    return [int(seq) for seq in re.findall(r'<tr data-seq="(\d+)">', html)]


def actions(html: str) -> list[str]:
    """Return the action of every audit row shown, in page order."""
    return re.findall(r"<td><code>([a-z_.]+)</code></td>", html)


async def _records(database: Database, workspace: Workspace, count: int) -> None:
    async with database.session() as session:
        for number in range(count):
            await audit.record(
                session, "test.noted", SYSTEM, workspace_id=workspace.id, details={"n": number}
            )


async def _signed_in_owner(client: httpx.AsyncClient, database: Database) -> StaffAccount:
    account = await make_staff(database, await make_workspace(database))
    await sign_in(client, account.email, account.password)
    return account


async def test_the_action_filter_keeps_only_that_action(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await _signed_in_owner(client, database)
    await make_source(database, account.workspace, "Web")
    await _records(database, account.workspace, 2)
    page = await client.get("/console/settings/audit", params={"action": "test.noted"})
    assert actions(page.text) == ["test.noted", "test.noted"]
    assert '<option value="test.noted" selected>test.noted</option>' in page.text


async def test_the_actor_filter_tells_staff_from_the_system(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await _signed_in_owner(client, database)
    await make_source(database, account.workspace, "Web")
    by_owner = await client.get("/console/settings/audit", params={"actor": account.user.id})
    by_system = await client.get("/console/settings/audit", params={"actor": "system"})
    assert actions(by_owner.text) == ["staff.signed_in"]
    assert actions(by_system.text) == ["source.created", "staff.added", "workspace.created"]


async def test_dates_are_whole_days_and_inclusive(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _signed_in_owner(client, database)
    today = utcnow().date()
    tomorrow, yesterday = today + timedelta(days=1), today - timedelta(days=1)
    inside = await client.get("/console/settings/audit", params={"from": today, "to": today})
    after = await client.get("/console/settings/audit", params={"from": str(tomorrow)})
    before = await client.get("/console/settings/audit", params={"to": str(yesterday)})
    assert actions(inside.text) == ["staff.signed_in", "staff.added", "workspace.created"]
    assert (actions(after.text), actions(before.text)) == ([], [])
    assert "No records match these filters." in after.text


async def test_a_malformed_or_reversed_date_range_is_a_clear_422(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _signed_in_owner(client, database)
    malformed = await client.get("/console/settings/audit", params={"from": "02/12/2026"})
    reversed_ = await client.get(
        "/console/settings/audit", params={"from": "2026-12-02", "to": "2026-12-01"}
    )
    assert malformed.status_code == reversed_.status_code == 422
    assert "Give the “from” date as YYYY-MM-DD." in malformed.text
    assert "The “from” date comes after the “to” date." in reversed_.text


async def test_pages_hold_fifty_records_and_keep_the_filters(
    client: httpx.AsyncClient, database: Database
) -> None:
    account = await _signed_in_owner(client, database)
    await _records(database, account.workspace, 53)
    first = await client.get("/console/settings/audit", params={"action": "test.noted"})
    shown = seqs(first.text)
    older = f"/console/settings/audit?action=test.noted&amp;before={shown[-1]}"
    assert (len(shown), shown == sorted(shown, reverse=True)) == (50, True)
    assert f'<a href="{older}" rel="next">Older &rarr;</a>' in first.text
    second = await client.get(older.replace("&amp;", "&"))
    assert seqs(second.text) == [shown[-1] - 1, shown[-1] - 2, shown[-1] - 3]
    assert 'rel="next"' not in second.text
    assert '<a href="/console/settings/audit?action=test.noted">&larr; Newest</a>' in second.text


async def test_a_cursor_past_the_32_bit_column_is_a_422(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _signed_in_owner(client, database)
    response = await client.get("/console/settings/audit", params={"before": 2**31})
    assert response.status_code == 422


async def test_targets_are_named(client: httpx.AsyncClient, database: Database) -> None:
    account = await _signed_in_owner(client, database)
    await make_source(database, account.workspace, "Web shop")
    await post_form(
        client,
        "/console/settings/api-keys",
        "/console/settings/api-keys",
        {"name": "Order sync", "preset": "read-only"},
    )
    page = await client.get("/console/settings/audit")
    targets = re.findall(r"<td data-target>\s*([^<]*)</td>", page.text)
    assert targets == [
        "Api key: Order sync",
        "Source: Web shop",
        "Session",
        "Staff: Owner Person",
        f"Workspace: {account.workspace.name}",
    ]
