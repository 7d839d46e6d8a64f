"""Sampling settings a model refuses (OpenAI's reasoning models take no `max_tokens` and only
the default `temperature`) are left out, learnt from the API's own 400 answer."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from rapport.assistant import llm
from rapport.assistant.llm import Endpoint, ModelFailed, complete
from tests.fixtures.openai_fake import API_KEY, FakeOpenAI, Scripted, fake_openai, says

MESSAGES = [{"role": "user", "content": "Where is my order?"}]


def refusal(param: str, message: str, code: str) -> Scripted:
    """A 400 exactly as OpenAI's API words it."""
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return Scripted(json.dumps({"error": error}).encode(), status=400)


NO_MAX_TOKENS = refusal(
    "max_tokens",
    "Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead.",
    "unsupported_parameter",
)
NO_TEMPERATURE = refusal(
    "temperature",
    "Unsupported value: 'temperature' does not support 0.2 with this model. "
    "Only the default (1) value is supported.",
    "unsupported_value",
)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


@pytest.fixture(autouse=True)
def forget_refusals() -> Iterator[None]:
    """What a process learnt about an endpoint (its port may come back in a later test)."""
    llm._refused.clear()
    yield
    llm._refused.clear()


def _endpoint(fake: FakeOpenAI, model: str) -> Endpoint:
    return Endpoint(fake.url, model, API_KEY, 5.0)


def _sampling(fake: FakeOpenAI) -> list[set[str]]:
    return [set(request["json"]) & {"temperature", "max_tokens"} for request in fake.received]


async def test_refused_settings_are_dropped_and_remembered(fake: FakeOpenAI) -> None:
    fake.script += [NO_MAX_TOKENS, NO_TEMPERATURE, says("It left on Monday.")]
    endpoint = _endpoint(fake, "o-reasoning")
    answer = await complete(endpoint, MESSAGES, [], allow_private=True)
    assert answer.text == "It left on Monday."
    assert _sampling(fake) == [{"temperature", "max_tokens"}, {"temperature"}, set()]
    await complete(endpoint, MESSAGES, [], allow_private=True)
    assert _sampling(fake)[3:] == [set()]  # learnt: one request the next time


async def test_a_model_that_takes_them_gets_them(fake: FakeOpenAI) -> None:
    await complete(_endpoint(fake, "llama3.1:8b"), MESSAGES, [], allow_private=True)
    assert [request["json"]["max_tokens"] for request in fake.received] == [400]
    assert [request["json"]["temperature"] for request in fake.received] == [0.2]


async def test_any_other_400_fails_at_once(fake: FakeOpenAI) -> None:
    fake.script.append(refusal("tools", "Invalid schema for function.", "invalid_value"))
    with pytest.raises(ModelFailed, match="HTTP 400"):
        await complete(_endpoint(fake, "picky"), MESSAGES, [], allow_private=True)
    assert len(fake.received) == 1
