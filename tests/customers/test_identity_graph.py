"""Identity resolution: anonymous -> known, devices, shared devices, blocked values, merges."""

from __future__ import annotations

import httpx

from rapport.core.db import Database
from tests.fixtures.customers import make_shop
from tests.fixtures.events import identify, track
from tests.fixtures.identity import make_api_key


async def test_anonymous_history_joins_the_profile_on_identify(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        track("Product Viewed", anonymousId="anon-1"), track("Product Added", anonymousId="anon-1")
    )
    anonymous_profile = await shop.profile_of_anonymous("anon-1")
    await shop.send(
        identify(userId="u-100", anonymousId="anon-1", traits={"email": "ada@example.com"})
    )
    profile = await shop.profile("u-100")
    assert profile.id == anonymous_profile
    assert sorted(i.kind for i in profile.identifiers) == ["anonymous_id", "email", "user_id"]
    assert await shop.find("ada@example.com") == [profile.id]


async def test_two_devices_of_one_customer_join_one_profile(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        track("Viewed", anonymousId="laptop"), identify(userId="u-2", anonymousId="laptop")
    )
    await shop.send(track("Viewed", anonymousId="phone", context={"device": {"id": "dev-phone"}}))
    await shop.send(identify(userId="u-2", anonymousId="phone"))
    profile = await shop.profile("u-2")
    assert await shop.profile_of_anonymous("phone") == profile.id
    assert await shop.profile_of_anonymous("laptop") == profile.id
    assert sorted(i.value for i in profile.identifiers) == ["dev-phone", "laptop", "phone", "u-2"]


async def test_a_shared_store_device_never_merges_two_shoppers(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    kiosk = {"device": {"id": "store-kiosk-7"}}
    await shop.send(identify(userId="alice", anonymousId="kiosk-session-1", context=kiosk))
    await shop.send(identify(userId="bob", anonymousId="kiosk-session-2", context=kiosk))
    alice, bob = await shop.profile("alice"), await shop.profile("bob")
    assert alice.id != bob.id
    assert [(i.kind, i.value) for i in bob.identifiers] == [
        ("anonymous_id", "kiosk-session-2"),
        ("user_id", "bob"),
    ]
    assert ("device_id", "store-kiosk-7", True) in [
        (i.kind, i.value, i.shared) for i in alice.identifiers
    ]


async def test_a_shared_browser_with_a_new_email_does_not_join_the_first_shopper(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="carol", anonymousId="family-pc"))
    await shop.send(identify(anonymousId="family-pc", traits={"email": "dave@example.com"}))
    carol = await shop.profile("carol")
    dave = await shop.profile("dave@example.com")
    assert carol.id != dave.id


async def test_blocked_values_are_never_identifiers(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    for blocked in ("null", "anonymous", "0", "-1", " "):
        await shop.send(
            identify(userId=blocked, anonymousId=f"a-{blocked.strip()}", traits={"email": "null"})
        )
    for blocked in ("null", "anonymous", "0", "-1"):
        assert await shop.find(blocked) == []
    assert (
        len(
            {
                await shop.profile_of_anonymous(f"a-{b.strip()}")
                for b in ("null", "anonymous", "0", "-1", " ")
            }
        )
        == 5
    )


async def test_two_known_profiles_do_not_merge_on_a_write_key_alias(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="old-id", traits={"email": "erin@example.com"}))
    await shop.send(identify(userId="new-id"))
    await shop.send(
        {"type": "alias", "previousId": "old-id", "userId": "new-id", "messageId": "al-1"}
    )
    assert (await shop.profile("old-id")).id != (await shop.profile("new-id")).id


async def test_a_secret_key_alias_merges_and_unmerge_undoes_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        identify(userId="old-id", traits={"email": "erin@example.com"}),
        track("Order Completed", userId="old-id", properties={"order_id": "A1", "total": 10}),
    )
    await shop.send(
        identify(userId="new-id"),
        track("Order Completed", userId="new-id", properties={"order_id": "A2", "total": 30}),
    )
    secret = await make_api_key(database, shop.workspace)
    await shop.send(
        {"type": "alias", "previousId": "old-id", "userId": "new-id", "messageId": "al-2"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    merged = await shop.profile("new-id")
    assert await shop.find("old-id") == [merged.id]
    assert (merged.orders_count, str(merged.revenue)) == (2, "40.00")
    headers = {"Authorization": f"Bearer {secret}"}
    [merge] = (await client.get(f"/api/v1/customers/{merged.id}/merges", headers=headers)).json()
    assert merge["reason"] == "authenticated_alias"
    undone = await client.post(f"/api/v1/customer-merges/{merge['id']}/undo", headers=headers)
    assert undone.status_code == 200
    from tests.fixtures.events import process_all

    await process_all(database)
    old, new = await shop.profile("old-id"), await shop.profile("new-id")
    assert old.id != new.id
    assert (old.orders_count, str(old.revenue), new.orders_count, str(new.revenue)) == (
        1,
        "10.00",
        1,
        "30.00",
    )
    assert await shop.find("erin@example.com") == [old.id]


async def test_events_arriving_out_of_order_resolve_the_same(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        identify(
            userId="u-9",
            anonymousId="anon-9",
            timestamp="2026-03-02T10:00:00+00:00",
            traits={"name": "Grace Hopper", "plan": "gold"},
        )
    )
    await shop.send(
        identify(
            anonymousId="anon-9", timestamp="2026-03-01T10:00:00+00:00", traits={"plan": "free"}
        ),
        track("Product Viewed", anonymousId="anon-9", timestamp="2026-03-01T09:00:00+00:00"),
    )
    profile = await shop.profile("u-9")
    assert await shop.profile_of_anonymous("anon-9") == profile.id
    assert profile.traits["plan"].value == "gold"
    assert str(profile.first_seen_at) == "2026-03-01 09:00:00+00:00"
    assert await shop.find("grace hopper") == [profile.id]


async def test_identifier_limit_starts_a_new_profile(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="first", traits={"email": "shared@example.com"}))
    await shop.send(identify(userId="second", traits={"email": "shared@example.com"}))
    first, second = await shop.profile("first"), await shop.profile("second")
    assert first.id != second.id
    assert await shop.find("shared@example.com") == [first.id]


async def test_external_ids_identify_a_loyalty_card_in_store(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    card = {
        "externalIds": [
            {"id": "LC-0042", "type": "loyalty_card", "collection": "users", "encoding": "none"}
        ]
    }
    await shop.send(identify(userId="u-42", context=card))
    await shop.send(
        track(
            "Order Completed",
            anonymousId="till-3",
            context=card,
            properties={"channel": "store", "store_id": "S1", "order_id": "POS-1", "total": 12.5},
        )
    )
    profile = await shop.profile("u-42")
    assert profile.channels == ["other", "store"]
    assert (profile.orders_count, str(profile.revenue)) == (1, "12.50")


async def test_events_from_a_shared_browser_alone_resolve_to_nobody(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="erin", anonymousId="library-pc"))
    await shop.send(identify(userId="frank", anonymousId="library-pc"))
    await shop.send(track("Product Viewed", anonymousId="library-pc", messageId="after-shared"))
    async with database.session() as session:
        from sqlalchemy import func, select

        from rapport.customers.models import Customer
        from rapport.events.models import Event

        profiles = (await session.execute(select(func.count()).select_from(Customer))).scalar_one()
        event = (
            await session.execute(select(Event).where(Event.message_id == "after-shared"))
        ).scalar_one()
    assert (profiles, event.customer_id, event.processed) == (2, None, True)


async def test_a_large_batch_is_processed_in_chunks_into_one_profile(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    views = [
        track("Product Viewed", anonymousId="busy", properties={"product_id": f"p-{n % 7}"})
        for n in range(250)
    ]
    await shop.send(*views, identify(userId="u-busy", anonymousId="busy"))
    profile = await shop.profile("u-busy")
    headers = {"Authorization": f"Bearer {await make_api_key(database, shop.workspace)}"}
    page = (
        await client.get(f"/api/v1/customers/{profile.id}/timeline?limit=200", headers=headers)
    ).json()
    second = (
        await client.get(
            f"/api/v1/customers/{profile.id}/timeline",
            params={"limit": 200, "cursor": page["next_cursor"]},
            headers=headers,
        )
    ).json()
    assert len(page["items"]) + len(second["items"]) == 251


async def test_a_write_key_alias_joins_an_anonymous_visitor_to_the_known_profile(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="user-42", traits={"email": "ada@example.com"}))
    await shop.send(track("Product Viewed", anonymousId="anon-1"))
    await shop.send({"type": "alias", "previousId": "anon-1", "userId": "user-42"})
    profile = await shop.profile("user-42")
    assert await shop.profile_of_anonymous("anon-1") == profile.id


async def test_an_alias_in_the_same_batch_joins_the_anonymous_page_view(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(
        identify(userId="user-42", traits={"email": "ada@example.com"}),
        {"type": "page", "name": "Home", "anonymousId": "anon-1"},
        {"type": "alias", "previousId": "anon-1", "userId": "user-42"},
    )
    profile = await shop.profile("user-42")
    assert await shop.profile_of_anonymous("anon-1") == profile.id


async def test_an_alias_processed_before_the_anonymous_page_view_still_joins_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    shop = await make_shop(client, database)
    await shop.send(identify(userId="user-42", traits={"email": "ada@example.com"}))
    await shop.send({"type": "alias", "previousId": "anon-1", "userId": "user-42"})
    await shop.send({"type": "page", "name": "Home", "anonymousId": "anon-1"})
    profile = await shop.profile("user-42")
    assert await shop.profile_of_anonymous("anon-1") == profile.id
