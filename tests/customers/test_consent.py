"""Consent: nothing granted until granted, append-only records, Segment's categoryPreferences."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from rapport.core.db import Database
from rapport.core.outbox import DomainEvent
from rapport.customers.enums import ConsentPurpose
from rapport.customers.service import customers
from rapport.identity.enums import Role
from rapport.identity.models import AuditEvent
from tests.fixtures.customers import Shop, make_shop
from tests.fixtures.events import identify, track
from tests.fixtures.identity import bearer, make_api_key, make_staff
from tests.web.console import csrf_of, sign_in

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


async def _consent_audit(database: Database) -> list[AuditEvent]:
    async with database.session() as session:
        rows = await session.execute(
            select(AuditEvent)
            .where(AuditEvent.action == "customer.consent_changed")
            .order_by(AuditEvent.seq)
        )
        return list(rows.scalars())


async def test_consent_changed_with_a_secret_key_is_audited(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="u-audit"))
    profile = await shop.profile("u-audit")
    headers = bearer(await make_api_key(database, shop.workspace))
    path = f"/api/v1/customers/{profile.id}/consent"
    change = {"purpose": "marketing_sms", "notice_version": "ada@example.com", "channel": "phone"}
    await client.post(path, json={**change, "granted": True}, headers=headers)
    await client.post(path, json={**change, "granted": False}, headers=headers)
    history = (await client.get(path, headers=headers)).json()["history"]
    rows = await _consent_audit(database)
    assert [
        (row.workspace_id, str(row.actor_type), row.target_type, row.target_id) for row in rows
    ] == [(shop.workspace.id, "api_key", "customer", profile.id)] * 2
    assert [row.details for row in rows] == [
        {
            "consent_record_id": rows[0].details["consent_record_id"],
            "purpose": "marketing_sms",
            "granted": True,
            "was_granted": False,
        },
        {
            "consent_record_id": rows[1].details["consent_record_id"],
            "purpose": "marketing_sms",
            "granted": False,
            "was_granted": True,
        },
    ]
    assert len(history) == 2
    assert "ada@example.com" not in str([row.details for row in rows])


async def test_consent_changed_by_staff_in_the_console_session_is_audited_as_staff(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="u-staff"))
    profile = await shop.profile("u-staff")
    account = await make_staff(database, shop.workspace, Role.supervisor)
    await sign_in(client, account.email, account.password)
    page = await client.get("/console")
    token = csrf_of(page.text)
    response = await client.post(
        f"/api/v1/customers/{profile.id}/consent",
        json={"purpose": "analytics", "granted": True},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    [row] = await _consent_audit(database)
    assert (str(row.actor_type), row.actor_id, row.workspace_id) == (
        "staff",
        account.user.id,
        shop.workspace.id,
    )


async def test_consent_from_segment_calls_is_not_audited(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    server_side = bearer(await make_api_key(database, shop.workspace))
    preferences = {"consent": {"categoryPreferences": {"Marketing Email": True}}}
    await shop.send(identify(userId="u-seg", context=preferences), headers=server_side)
    async with database.session() as session:
        profile_id = (await customers.search(session, shop.workspace.id, "u-seg"))[0]
        assert await customers.may_use(
            session, shop.workspace.id, profile_id, ConsentPurpose.marketing_email
        )
    assert await _consent_audit(database) == []
