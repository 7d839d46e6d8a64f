"""The realtime hub: per workspace and topic, and only after commit."""

from __future__ import annotations

import asyncio

import pytest

from rapport.core.db import Database
from rapport.core.realtime import InProcessHub, Message, Subscription, get_hub, publish_after_commit


def _drain(subscription: Subscription) -> list[Message]:
    messages = []
    while not subscription.queue.empty():
        messages.append(subscription.queue.get_nowait())
    return messages


async def test_subscriber_receives_its_topics_messages() -> None:
    hub = InProcessHub()
    async with hub.open("w1", "inbox") as subscription:
        await hub.publish("w1", "inbox", {"n": 1})
        assert await asyncio.wait_for(anext(aiter(subscription)), 1) == {"n": 1}


async def test_subscriber_never_receives_another_workspaces_messages() -> None:
    hub = InProcessHub()
    async with hub.open("w1", "inbox") as subscription:
        await hub.publish("w2", "inbox", {"secret": True})
        assert _drain(subscription) == []


async def test_subscriber_never_receives_another_topics_messages() -> None:
    hub = InProcessHub()
    async with hub.open("w1", "inbox") as subscription:
        await hub.publish("w1", "presence", {"n": 1})
        assert _drain(subscription) == []


async def test_every_subscriber_of_a_topic_receives_the_message() -> None:
    hub = InProcessHub()
    async with hub.open("w1", "inbox") as first, hub.open("w1", "inbox") as second:
        await hub.publish("w1", "inbox", {"n": 1})
        assert (_drain(first), _drain(second)) == ([{"n": 1}], [{"n": 1}])


async def test_closed_subscription_receives_nothing() -> None:
    hub = InProcessHub()
    async with hub.open("w1", "inbox") as subscription:
        pass
    await hub.publish("w1", "inbox", {"n": 1})
    assert _drain(subscription) == []


async def test_stalled_subscriber_drops_instead_of_blocking() -> None:
    hub = InProcessHub()
    async with hub.open("w1", "inbox") as subscription:
        for number in range(1005):
            await hub.publish("w1", "inbox", {"n": number})
        assert len(_drain(subscription)) == 1000


async def test_publish_after_commit_delivers_after_commit(database: Database) -> None:
    async with get_hub().open("w-commit", "inbox") as subscription:
        async with database.session() as session:
            publish_after_commit(session, "w-commit", "inbox", {"n": 1})
            assert _drain(subscription) == []
        assert _drain(subscription) == [{"n": 1}]


async def test_publish_after_commit_never_delivers_after_rollback(database: Database) -> None:
    async with get_hub().open("w-rollback", "inbox") as subscription:
        with pytest.raises(RuntimeError):
            async with database.session() as session:
                publish_after_commit(session, "w-rollback", "inbox", {"n": 1})
                raise RuntimeError("the change failed")
        assert _drain(subscription) == []
