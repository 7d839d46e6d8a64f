"""Predictions in the console: the customer page's outlook, the customers list's churn-risk
filter and expected-value sort (a customers list extension registered by analytics)."""

from __future__ import annotations

import re

import httpx
import pytest

import rapport.analytics.tasks  # noqa: F401  (registers the list extension, as every process does)
from rapport.core.db import Database
from rapport.customers.listing import listing
from rapport.customers.schemas import CustomerFilters, CustomerSort
from rapport.errors import BadRequest
from rapport.identity.enums import Role
from rapport.identity.models import Workspace
from tests.fixtures.identity import make_staff, make_workspace
from tests.fixtures.predictions import make_buyer, store_prediction
from tests.fixtures.sessions import session_headers, sign_in

ROW = re.compile(r'<td data-label="Customer"><a href="/console/customers/[0-9a-f]{32}">([^<]*)<')


async def _headers(database: Database, workspace: Workspace) -> dict[str, str]:
    account = await make_staff(database, workspace, Role.agent)
    return session_headers((await sign_in(database, account)).token)


async def _predicted(database: Database, workspace: Workspace) -> dict[str, str]:
    """Four buyers with stored predictions, one without (its orders never fitted)."""
    names = {}
    for name, risk, value, repeats in (
        ("Hana", 0.82, "1234.50", 4),
        ("Ivo", 0.45, "80.00", 2),
        ("Jun", 0.05, "310.00", 9),
        ("Kai", 0.0, "25.00", 0),
    ):
        names[name] = await make_buyer(database, workspace.id, name)
        await store_prediction(
            database,
            workspace.id,
            names[name],
            churn_risk=risk,
            expected_value=value,
            repeat_purchases=repeats,
        )
    names["Lou"] = await make_buyer(database, workspace.id, "Lou")
    return names


async def test_customer_page_says_the_churn_risk_in_words(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    names = await _predicted(database, workspace)
    headers = await _headers(database, workspace)
    hana = await client.get(f"/console/customers/{names['Hana']}", headers=headers)
    kai = await client.get(f"/console/customers/{names['Kai']}", headers=headers)
    lou = await client.get(f"/console/customers/{names['Lou']}", headers=headers)
    assert '<span class="pill pill-red">high (82%)</span>' in hana.text
    assert "1,234.50 EUR in the next 12 months" in hana.text
    assert "1.5 in the next 12 months" in hana.text
    assert "not estimated yet" in kai.text
    assert "No estimate: no paid orders yet" in lou.text


async def test_list_filters_by_churn_risk(client: httpx.AsyncClient, database: Database) -> None:
    workspace = await make_workspace(database)
    await _predicted(database, workspace)
    headers = await _headers(database, workspace)
    found = {
        band: ROW.findall(
            (await client.get(f"/console/customers?churn_risk={band}", headers=headers)).text
        )
        for band in ("high", "medium", "low", "single")
    }
    assert found == {"high": ["Hana"], "medium": ["Ivo"], "low": ["Jun"], "single": ["Kai"]}


async def test_an_unknown_churn_risk_is_a_400(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    headers = await _headers(database, workspace)
    response = await client.get("/console/customers?churn_risk=extreme", headers=headers)
    assert (response.status_code, "Churn risk must be" in response.text) == (400, True)


async def test_list_sorts_by_expected_value_with_the_unpredicted_last(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    await _predicted(database, workspace)
    response = await client.get(
        "/console/customers?sort=expected_value", headers=await _headers(database, workspace)
    )
    assert ROW.findall(response.text) == ["Hana", "Jun", "Ivo", "Kai", "Lou"]


async def test_expected_value_pages_follow_each_other(database: Database) -> None:
    workspace = await make_workspace(database)
    names = await _predicted(database, workspace)
    order, cursor = [], None
    async with database.session() as session:
        while True:
            page = await listing.page(
                session, workspace.id, CustomerFilters(), CustomerSort.expected_value, cursor, 2
            )
            order += [item.id for item in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert order == [names[name] for name in ("Hana", "Jun", "Ivo", "Kai", "Lou")]


async def test_the_filter_sees_only_its_own_workspace(database: Database) -> None:
    workspace, other = await make_workspace(database), await make_workspace(database)
    await _predicted(database, workspace)
    async with database.session() as session:
        page = await listing.page(
            session,
            other.id,
            CustomerFilters(extensions=(("churn_risk", "high"),)),
            CustomerSort.last_seen,
            None,
        )
    assert (page.total, page.items) == (0, [])


@pytest.mark.parametrize("value", ["", "nope"])
async def test_an_unknown_extension_filter_is_refused(database: Database, value: str) -> None:
    workspace = await make_workspace(database)
    async with database.session() as session:
        with pytest.raises(BadRequest, match="has no filter churn_risk"):
            await listing.page(
                session,
                workspace.id,
                CustomerFilters(extensions=(("churn_risk", value),)),
                CustomerSort.last_seen,
                None,
            )
