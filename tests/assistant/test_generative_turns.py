"""The generative mode's draft inside the turn (used only for the turn it was made for), bad
input through the real turn with the model on, and the endpoint address rules."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.assistant import replies
from rapport.assistant.dialogue import Draft
from rapport.assistant.generative import Switches
from rapport.assistant.labels import label_text
from rapport.assistant.llm import EndpointRefused, ModelFailed, check_base_url, read_completion
from rapport.assistant.tasks import answer
from rapport.assistant.turn import take_turn
from rapport.core.db import Database
from tests.fixtures.assistant import (
    conversation_row,
    first_message,
    say,
    thread,
)
from tests.fixtures.openai_fake import calls, fake_openai, says, use_model

BAD_INPUTS = {
    "empty": "",
    "100 KB": "where is my order " * 5700,
    "binary": bytes(range(256)).decode("latin-1") * 4,
    "mixed scripts": "Где мой заказ 注文 はどこ؟ where is مرحبا order",
    "emoji only": "😡😡😡🔥📦",
}


@pytest.mark.parametrize(
    ("turn", "expected"),
    [(0, f"From the model.\n{replies.ENGLISH.anything_else}"), (3, replies.ENGLISH.clarify)],
    ids=["this-turn", "stale"],
)
async def test_a_draft_counts_only_for_the_turn_it_was_made_for(
    database: Database, turn: int, expected: str
) -> None:
    workspace_id, conversation_id, message = await first_message(database, "hmm, so, well")
    draft = Draft(reply="From the model.", turn=turn)
    async with database.session() as session:
        await take_turn(session, workspace_id, message, label_text(message.text), [], draft)
    assert (await thread(database, conversation_id))[1][2] == expected


@pytest.mark.parametrize("text", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
async def test_bad_input_with_the_model_on_gets_an_answer(database: Database, text: str) -> None:
    with fake_openai() as fake:
        fake.script.append(calls("cancel_order", {"order_number": "#" + "9" * 30}))
        workspace_id, conversation_id, stored = await first_message(database, "placeholder")
        await use_model(database, workspace_id, fake.url)
        engine = database.engine
        assert isinstance(engine, AsyncEngine)
        result = await answer(engine, workspace_id, replace(stored, text=text))
    conversation = await conversation_row(database, conversation_id)
    public = [(author, private) for author, private, _ in await thread(database, conversation_id)]
    assert result.replied is True
    assert public[:2] == [("customer", False), ("assistant", False)]
    assert conversation.status in {"pending", "open"}
    for request in fake.received:
        assert len(request["json"]["messages"][-1]["content"]) <= 2000


async def test_a_plain_answer_is_trimmed_and_cleaned(database: Database) -> None:
    with fake_openai() as fake:
        fake.script.append(says("Hello\x00\x07 there.   " + "word " * 400))
        workspace_id, conversation_id, stored = await first_message(database, "hmm, so, well")
        await use_model(database, workspace_id, fake.url)
        engine = database.engine
        assert isinstance(engine, AsyncEngine)
        await answer(engine, workspace_id, stored)
    reply = (await thread(database, conversation_id))[1][2]
    assert reply.startswith("Hello there. word word")
    assert reply.endswith(" ...\nAnything else I can help with?")
    assert len(reply) < 1300


@pytest.mark.parametrize(
    "url",
    [
        "https://[::ffff:127.0.0.1]/v1",
        "https://2130706433/v1",
        "https://0x7f.0.0.1/v1",
        "https://[::1]:8000/v1",
        "https://[fe80::1]/v1",
        "https://0.0.0.0/v1",
        "https://192.168.1.20/v1",
        "https://models.localhost/v1",
    ],
)
def test_private_forms_need_the_operators_setting(url: str) -> None:
    with pytest.raises(EndpointRefused):
        check_base_url(url, allow_private=False)


def test_link_local_is_refused_even_when_private_is_allowed() -> None:
    for url in ("http://169.254.169.254/v1", "http://[fe80::1]/v1", "http://[::ffff:169.254.1.1]/"):
        with pytest.raises(EndpointRefused):
            check_base_url(url, allow_private=True)
    check_base_url("http://127.0.0.1:11434/v1", allow_private=True)
    check_base_url("https://api.example.com/v1", allow_private=False)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[]",
        b'{"choices": "no"}',
        b'{"choices": [{"message": "no"}]}',
        b'{"choices": [{"message": {"tool_calls": "x"}}]}',
        b'{"choices": [{"message": {"tool_calls": [{"function": {}}]}}]}',
        b'{"choices": [{"message": {"tool_calls": [{"function": {"name": "x", '
        b'"arguments": "[1]"}}]}}]}',
        b"\xff\xfe",
    ],
)
def test_what_is_not_a_chat_completion(raw: bytes) -> None:
    with pytest.raises(ModelFailed):
        read_completion(raw)


async def test_turning_it_on_counts_from_the_next_message(database: Database) -> None:
    with fake_openai() as fake:
        workspace_id, conversation_id, stored = await first_message(database, "hmm, so, well")
        engine = database.engine
        assert isinstance(engine, AsyncEngine)
        await answer(engine, workspace_id, stored)  # seen off: later turns skip the read
        assert fake.received == []
        await use_model(database, workspace_id, fake.url)
        await say(database, workspace_id, conversation_id, "still there?")
    assert len(fake.received) == 1
    assert (await thread(database, conversation_id))[3][2] == (
        "Happy to help.\nAnything else I can help with?"
    )


def test_a_workspace_seen_off_is_asked_again_after_the_ttl() -> None:
    switches = Switches(ttl=60.0, size=2)
    switches.note("a", on=False)
    assert switches.known_off("a") and not switches.known_off("b")
    switches.note("b", on=False)
    switches.note("c", on=False)  # full: forgets the others rather than grow
    assert (switches.known_off("a"), switches.known_off("c")) == (False, True)
    switches.note("c", on=True)
    assert not switches.known_off("c")
    expired = Switches(ttl=0.0)
    expired.note("a", on=False)
    assert not expired.known_off("a")
