"""Consent: nothing granted until granted, append-only records, Segment's categoryPreferences."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from rapport.core.db import Database
from rapport.core.outbox import DomainEvent
from rapport.customers.enums import ConsentPurpose
from rapport.customers.service import customers
from tests.fixtures.customers import Shop, make_shop
from tests.fixtures.events import identify, track
from tests.fixtures.identity import bearer, make_api_key

ALL_DENIED = {str(purpose): False for purpose in ConsentPurpose}


async def test_every_purpose_starts_not_granted(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="u-1"))
    profile = await shop.profile("u-1")
    response = await client.get(
        f"/api/v1/customers/{profile.id}/consent",
        headers=bearer(await make_api_key(database, shop.workspace)),
    )
    assert response.json() == {"purposes": ALL_DENIED, "history": []}
    async with database.session() as session:
        assert (
            await customers.may_use(
                session, shop.workspace.id, profile.id, ConsentPurpose.marketing_email
            )
            is False
        )


async def test_grant_and_withdrawal_are_appended_and_published(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="u-2"))
    profile = await shop.profile("u-2")
    headers = bearer(await make_api_key(database, shop.workspace))
    path = f"/api/v1/customers/{profile.id}/consent"
    grant = {
        "purpose": "marketing_email",
        "granted": True,
        "notice_version": "2026-01",
        "channel": "web",
    }
    assert (await client.post(path, json=grant, headers=headers)).status_code == 200
    async with database.session() as session:
        assert (
            await customers.may_use(
                session, shop.workspace.id, profile.id, ConsentPurpose.marketing_email
            )
            is True
        )
        assert (
            await customers.may_use(
                session, shop.workspace.id, profile.id, ConsentPurpose.marketing_sms
            )
            is False
        )
    body = (await client.post(path, json={**grant, "granted": False}, headers=headers)).json()
    assert body["purposes"]["marketing_email"] is False
    assert [
        (r["purpose"], r["granted"], r["notice_version"], r["channel"]) for r in body["history"]
    ] == [
        ("marketing_email", False, "2026-01", "web"),
        ("marketing_email", True, "2026-01", "web"),
    ]
    assert body["history"][0]["actor"].startswith("api_key:")
    async with database.session() as session:
        changes = (
            (
                await session.execute(
                    select(DomainEvent).where(DomainEvent.name == "consent.changed")
                )
            )
            .scalars()
            .all()
        )
    assert [(c.data["purpose"], c.data["granted"]) for c in changes] == [
        ("marketing_email", True),
        ("marketing_email", False),
    ]


async def test_segment_category_preferences_are_recorded(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    consent = {
        "consent": {
            "categoryPreferences": {
                "Analytics": True,
                "Advertising": False,
                "Marketing Email": True,
            }
        }
    }
    headers = bearer(await make_api_key(database, shop.workspace))
    server_side = {"Authorization": headers["Authorization"]}
    await shop.send(track("Consent Updated", userId="u-3", context=consent), headers=server_side)
    await shop.send(
        track("Page Loaded", userId="u-3", context=consent), headers=server_side
    )  # unchanged: no new records
    profile = await shop.profile("u-3")
    body = (await client.get(f"/api/v1/customers/{profile.id}/consent", headers=headers)).json()
    assert sorted((r["purpose"], r["granted"]) for r in body["history"]) == [
        ("advertising", False),
        ("analytics", True),
        ("marketing_email", True),
    ]
    assert body["purposes"] == {
        **ALL_DENIED,
        "analytics": True,
        "marketing_email": True,
        "advertising": False,
    }


async def _purposes(client: httpx.AsyncClient, shop: Shop, user_id: str) -> dict[str, bool]:
    profile = await shop.profile(user_id)
    headers = bearer(await make_api_key(shop.database, shop.workspace))
    response = await client.get(f"/api/v1/customers/{profile.id}/consent", headers=headers)
    purposes: dict[str, bool] = response.json()["purposes"]
    return purposes


async def test_the_public_write_key_cannot_grant_consent_for_a_known_customer(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="victim", traits={"email": "victim@example.com"}))
    grant = {"consent": {"categoryPreferences": {"Marketing Email": True}}}
    await shop.send(track("Consent Updated", userId="victim", context=grant))
    assert (await _purposes(client, shop, "victim"))["marketing_email"] is False


async def test_the_public_write_key_can_withdraw_consent_of_a_known_customer(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    headers = bearer(await make_api_key(database, shop.workspace))
    grant = {"consent": {"categoryPreferences": {"Marketing Email": True}}}
    await shop.send(track("Consent Updated", userId="u-9", context=grant), headers=headers)
    withdraw = {"consent": {"categoryPreferences": {"Marketing Email": False}}}
    await shop.send(track("Consent Updated", userId="u-9", context=withdraw))
    assert (await _purposes(client, shop, "u-9"))["marketing_email"] is False


async def test_an_anonymous_visitor_grants_consent_from_the_browser(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    grant = {"consent": {"categoryPreferences": {"Analytics": True}}}
    await shop.send(track("Consent Updated", anonymousId="visitor-1", context=grant))
    profile_id = await shop.profile_of_anonymous("visitor-1")
    headers = bearer(await make_api_key(database, shop.workspace))
    response = await client.get(f"/api/v1/customers/{profile_id}/consent", headers=headers)
    assert response.json()["purposes"]["analytics"] is True


async def test_unknown_purpose_is_422(client: httpx.AsyncClient, database: Database) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="u-4"))
    profile = await shop.profile("u-4")
    response = await client.post(
        f"/api/v1/customers/{profile.id}/consent",
        json={"purpose": "mind_reading", "granted": True},
        headers=bearer(await make_api_key(database, shop.workspace)),
    )
    assert response.status_code == 422
