"""Identity verification: with it required, the public write key alone cannot speak for a
known customer; a shop's server signs user ids (HMAC-SHA256) and the browser sends the hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.customers.schemas import CustomerRead
from rapport.customers.service import customers
from rapport.events.models import Event
from rapport.identity.audit import SYSTEM
from rapport.identity.keys import sources
from rapport.identity.verification import identity_verification, user_hash
from tests.conftest import TEST_SECRET
from tests.fixtures.customers import Shop
from tests.fixtures.events import identify, track
from tests.fixtures.identity import bearer, make_api_key, make_source, make_workspace

ALICE = "alice-1001"
MALLORY = "mallory@evil.example"


@dataclass
class VerifiedShop:
    """A shop whose source requires signed identities, and that source's secret."""

    shop: Shop
    source_id: str
    secret: str

    def signed(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Return an identify call for a user id, signed as the shop's server would."""
        context = {"userHash": user_hash(self.secret, user_id), **fields.pop("context", {})}
        return identify(userId=user_id, context=context, **fields)

    async def profile(self, customer_id: str) -> CustomerRead:
        """Return a profile by id."""
        async with self.shop.database.session() as session:
            return await customers.get(session, self.shop.workspace.id, customer_id)


async def make_verified_shop(
    client: httpx.AsyncClient, database: Database, required: bool = True
) -> VerifiedShop:
    """Create a workspace with a source that requires signed identities (or not)."""
    workspace = await make_workspace(database)
    source = await make_source(database, workspace, verified_identity=required)
    async with database.session() as session:
        secret = await identity_verification.secret(
            session, workspace_id=workspace.id, source_id=source.id, actor=SYSTEM
        )
    return VerifiedShop(Shop(workspace, source.write_key, client, database), source.id, secret)


async def with_alice(shop: VerifiedShop) -> str:
    """Sign Alice in from her own browser; return her profile id."""
    await shop.shop.send(
        shop.signed(
            ALICE,
            anonymousId="alice-browser",
            traits={"email": "alice@shop.example", "name": "Alice"},
        )
    )
    [alice] = await shop.shop.find(ALICE)
    return alice


def identifiers(profile: CustomerRead) -> list[tuple[str, str]]:
    """Return a profile's identifiers, sorted."""
    return sorted((item.kind, item.value) for item in profile.identifiers)


def attack(**fields: Any) -> dict[str, Any]:
    """Return the attack of the issue: a known user id, a new email and name, unsigned."""
    traits = {"email": MALLORY, "name": "Mallory"}
    return identify(userId=ALICE, anonymousId="mallory-browser", traits=traits, **fields)


ALICE_IDENTIFIERS = [
    ("anonymous_id", "alice-browser"),
    ("email", "alice@shop.example"),
    ("user_id", ALICE),
]


async def test_the_attack_of_the_issue_grafts_nothing_when_verification_is_required(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database)
    alice = await with_alice(shop)
    await shop.shop.send(attack())
    profile = await shop.profile(alice)
    assert await shop.shop.find(MALLORY) == []
    assert identifiers(profile) == ALICE_IDENTIFIERS
    assert profile.traits["name"].value == "Alice"
    assert profile.claims.identifiers == []


async def test_the_attackers_claims_stay_on_the_attackers_browser_as_unverified(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database)
    alice = await with_alice(shop)
    await shop.shop.send(attack())
    claimant = await shop.shop.profile_of_anonymous("mallory-browser")
    profile = await shop.profile(claimant)
    assert claimant != alice
    assert identifiers(profile) == [("anonymous_id", "mallory-browser")]
    assert profile.traits == {}
    claimed = [(item.kind, item.value, item.source) for item in profile.claims.identifiers]
    assert claimed == [("user_id", ALICE, shop.source_id), ("email", MALLORY, shop.source_id)]
    assert {name: trait.value for name, trait in profile.claims.traits.items()} == {
        "email": MALLORY,
        "name": "Mallory",
    }


async def test_without_the_requirement_the_source_keeps_todays_behaviour(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database, required=False)
    alice = await with_alice(shop)
    await shop.shop.send(attack())
    profile = await shop.profile(alice)
    assert await shop.shop.find(MALLORY) == [alice]
    assert profile.traits["name"].value == "Mallory"


async def test_a_correctly_signed_identify_adds_the_email_and_renames(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database)
    alice = await with_alice(shop)
    await shop.shop.send(
        shop.signed(
            ALICE, anonymousId="alice-phone", traits={"email": "a@new.example", "name": "Al"}
        )
    )
    profile = await shop.profile(alice)
    assert await shop.shop.find("a@new.example") == [alice]
    assert profile.traits["name"].value == "Al"
    assert ("anonymous_id", "alice-phone") in identifiers(profile)


async def test_the_signature_may_travel_in_the_integration_options(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database)
    alice = await with_alice(shop)
    options = {"Rapport": {"userHash": user_hash(shop.secret, ALICE).upper()}}
    await shop.shop.send(attack(integrations=options))
    assert await shop.shop.find(MALLORY) == [alice]


async def test_a_wrong_signature_is_only_a_claim(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database)
    alice = await with_alice(shop)
    wrong = [
        user_hash(shop.secret, "mallory-2002"),  # a valid signature, of another user id
        user_hash("not the secret", ALICE),
        "not a hash at all \u00e9",
    ]
    for signature in wrong:
        await shop.shop.send(attack(context={"userHash": signature}))
    profile = await shop.profile(alice)
    assert await shop.shop.find(MALLORY) == []
    assert profile.traits["name"].value == "Alice"


async def test_a_rotated_secret_stops_the_old_signatures_and_starts_the_new(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database)
    alice = await with_alice(shop)
    old = shop.secret
    async with database.session() as session:
        shop.secret = await identity_verification.rotate(
            session, workspace_id=shop.shop.workspace.id, source_id=shop.source_id, actor=SYSTEM
        )
    await shop.shop.send(attack(context={"userHash": user_hash(old, ALICE)}))
    assert await shop.shop.find(MALLORY) == []
    await shop.shop.send(shop.signed(ALICE, traits={"email": MALLORY}))
    assert shop.secret != old
    assert await shop.shop.find(MALLORY) == [alice]


async def test_the_secret_survives_a_key_ring_rotation(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database)
    configure_keyring([b"a-newer-master-key-for-this-test-only", TEST_SECRET.encode()])
    try:
        async with database.session() as session:
            kept = await identity_verification.secret(
                session, workspace_id=shop.shop.workspace.id, source_id=shop.source_id, actor=SYSTEM
            )
    finally:
        configure_keyring([TEST_SECRET.encode()])
    assert kept == shop.secret


async def test_trusted_server_calls_need_no_signature(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database)
    alice = await with_alice(shop)
    secret_key = await make_api_key(database, shop.shop.workspace)
    await shop.shop.send(attack(), headers=bearer(secret_key))
    profile = await shop.profile(alice)
    assert await shop.shop.find(MALLORY) == [alice]
    assert profile.traits["name"].value == "Mallory"


async def test_an_unsigned_track_with_a_known_user_id_stays_with_its_browser(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database)
    alice = await with_alice(shop)
    await shop.shop.send(
        track("Order Completed", userId=ALICE, anonymousId="mallory-browser", messageId="fake")
    )
    async with database.session() as session:
        event = (
            await session.execute(select(Event).where(Event.message_id == "fake"))
        ).scalar_one()
    assert event.customer_id == await shop.shop.profile_of_anonymous("mallory-browser")
    assert event.customer_id != alice
    assert identifiers(await shop.profile(alice)) == ALICE_IDENTIFIERS


async def test_an_unsigned_unknown_user_id_cannot_be_claimed_ahead_of_its_owner(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database)
    squat = identify(userId="bob-1", anonymousId="mallory-browser", traits={"email": MALLORY})
    await shop.shop.send(squat)
    assert await shop.shop.find("bob-1") == []
    await shop.shop.send(shop.signed("bob-1", anonymousId="bob-browser", traits={"name": "Bob"}))
    [bob] = await shop.shop.find("bob-1")
    assert identifiers(await shop.profile(bob)) == [
        ("anonymous_id", "bob-browser"),
        ("user_id", "bob-1"),
    ]
    assert await shop.shop.find(MALLORY) == []


async def test_a_visitor_who_signs_in_keeps_their_browsing_and_their_claims_unverified(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_verified_shop(client, database)
    await shop.shop.send(identify(anonymousId="b-1", traits={"email": "carol@shop.example"}))
    await shop.shop.send(shop.signed("carol-1", anonymousId="b-1", traits={"name": "Carol"}))
    [carol] = await shop.shop.find("carol-1")
    profile = await shop.profile(carol)
    assert identifiers(profile) == [("anonymous_id", "b-1"), ("user_id", "carol-1")]
    assert {name: trait.value for name, trait in profile.traits.items()} == {"name": "Carol"}
    assert [(item.kind, item.value) for item in profile.claims.identifiers] == [
        ("email", "carol@shop.example")
    ]


async def test_new_sources_require_verified_identities(
    client: httpx.AsyncClient, database: Database
) -> None:
    workspace = await make_workspace(database)
    async with database.session() as session:
        await sources.create(session, workspace_id=workspace.id, name="web", actor=SYSTEM)
    async with database.session() as session:
        [row] = await identity_verification.overview(session, workspace.id)
    assert (row.required, row.secret) == (True, None)
