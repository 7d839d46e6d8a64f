"""Messages no model expects (empty, 100 KB, binary, mixed scripts, emoji only) get an answer
or a hand-off, never an error: with the shipped models, through the real turn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport.assistant.labels import label_text, use_models
from rapport.assistant.tasks import answer
from rapport.core.db import Database
from tests.fixtures.assistant import conversation_row, first_message, thread

BAD_INPUTS = {
    "empty": "",
    "blank": " \n\t ",
    "100 KB": "where is my order " * 5700,
    "binary": bytes(range(256)).decode("latin-1") * 4,
    "nul bytes": "\x00\x00\x00",
    "mixed scripts": "Где мой заказ 注文 はどこ؟ where is مرحبا order",
    "emoji only": "😡😡😡🔥📦",
    "invalid surrogates": "order \udcff\udcfe status",
}


@pytest.fixture(autouse=True)
def _shipped_models() -> Iterator[None]:
    use_models(None)  # the real shipped models, loaded once
    yield


@pytest.mark.parametrize("text", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_labels_never_fail(text: str) -> None:
    labels = label_text(text)
    assert labels.sentiment in {"negative", "neutral", "positive"}
    assert 0.0 <= labels.intent_confidence <= 1.0


@pytest.mark.parametrize("text", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
async def test_the_assistant_answers_or_hands_off(database: Database, text: str) -> None:
    workspace_id, conversation_id, stored = await first_message(database, "placeholder")
    engine = database.engine
    assert isinstance(engine, AsyncEngine)
    result = await answer(engine, workspace_id, replace(stored, text=text))
    conversation = await conversation_row(database, conversation_id)
    public = [(author, private) for author, private, _ in await thread(database, conversation_id)]
    assert result.replied is True
    assert public[:2] == [("customer", False), ("assistant", False)]
    assert conversation.status in {"pending", "open"}
