"""Agent assist under attack: another customer's references never travel in a suggestion,
the last message of a long conversation is the one answered, and what one request may make
the model embed is bounded however many canned responses a workspace holds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx
import pytest

from rapport.assistant import suggestions
from rapport.core.db import Database
from rapport.core.ratelimit import RateLimiter
from rapport.knowledge.embedding import use_embedder
from rapport.nlp.ports import Embedder, Vectors
from rapport.support import inbox
from rapport.support.enums import MessageKind
from rapport.support.schemas import MessageCreate
from rapport.support.service import conversations
from tests.fixtures.agent_tools import make_canned_response
from tests.fixtures.embedding import installed_minilm_embedder
from tests.fixtures.identity import bearer, make_api_key, make_workspace
from tests.fixtures.support import SYSTEM_ACTING, make_conversation

SHIPPING_Q = "How long does delivery to Germany take?"


class Counted:
    """MiniLM that counts the texts it embeds."""

    def __init__(self, model: Embedder) -> None:
        self.model = model
        self.name, self.dimension = model.name, model.dimension
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts += len(texts)
        return self.model.embed(texts)


@pytest.fixture
def counted() -> Iterator[Counted]:
    model = installed_minilm_embedder()
    if model is None:
        pytest.skip("MiniLM is not installed")
    watched = Counted(model)
    use_embedder(watched)  # type: ignore[arg-type]
    suggestions.cache = suggestions.VectorCache()
    yield watched
    use_embedder(None)


async def _post(database: Database, workspace_id: str, conversation_id: str, kind: MessageKind,
                body: str) -> None:  # fmt: skip
    async with database.session() as session:
        message = MessageCreate(kind=kind, body=body)
        await conversations.post(session, workspace_id, conversation_id, message, SYSTEM_ACTING)


async def test_another_customers_tracking_code_and_private_link_are_taken_out(
    client: httpx.AsyncClient, database: Database, counted: Counted
) -> None:
    workspace = await make_workspace(database)
    earlier = await make_conversation(database, workspace.id, SHIPPING_Q)
    await _post(
        database, workspace.id, earlier, MessageKind.reply,
        "Delivery takes 3 to 5 days. Your parcel 1Z999AA10123456784 (order A7K3Q9) can be "
        "followed at https://shop.example/orders/status?token=s3cr3tT0ken&o=991 today.",
    )  # fmt: skip
    asking = await make_conversation(database, workspace.id, SHIPPING_Q)
    headers = bearer(await make_api_key(database, workspace))
    found = (
        await client.get(f"/api/v1/conversations/{asking}/suggested-replies", headers=headers)
    ).json()
    texts = [item["text"] for item in found["items"] if item["kind"] == "past_reply"]
    assert len(texts) == 1
    for secret in ("1Z999AA10123456784", "A7K3Q9", "s3cr3tT0ken", "991"):
        assert secret not in texts[0]
    assert texts[0].startswith("Delivery takes 3 to 5 days.")


async def test_the_last_message_of_a_long_conversation_is_the_one_answered(
    client: httpx.AsyncClient,
    database: Database,
    counted: Counted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inbox, "THREAD_LIMIT", 4)  # a thread longer than one read of it
    workspace = await make_workspace(database)
    asking = await make_conversation(database, workspace.id, "Hello")
    for number in range(3):
        await _post(database, workspace.id, asking, MessageKind.reply, f"Reply {number}")
        await _post(database, workspace.id, asking, MessageKind.customer, f"Still there {number}")
    await _post(database, workspace.id, asking, MessageKind.customer, SHIPPING_Q)
    headers = bearer(await make_api_key(database, workspace))
    found = (
        await client.get(f"/api/v1/conversations/{asking}/suggested-replies", headers=headers)
    ).json()
    async with database.session() as session:
        page = await conversations.messages(
            session, workspace.id, asking, SYSTEM_ACTING, None, limit=200
        )
    assert found["message_id"] == page.items[-1].id


async def test_a_request_embeds_a_bounded_number_of_texts(
    client: httpx.AsyncClient, database: Database, counted: Counted
) -> None:
    workspace = await make_workspace(database)
    for number in range(suggestions.MAX_CANNED + 40):
        await make_canned_response(database, workspace.id, f"c{number}", f"Canned text {number}")
    asking = await make_conversation(database, workspace.id, SHIPPING_Q)
    headers = bearer(await make_api_key(database, workspace))
    response = await client.get(
        f"/api/v1/conversations/{asking}/suggested-replies", headers=headers
    )
    assert response.status_code == 200
    assert counted.texts <= suggestions.MAX_CANNED + 2  # the question (twice at most) and those


async def test_a_workspace_writing_new_texts_all_the_time_has_an_embedding_budget(
    client: httpx.AsyncClient,
    database: Database,
    counted: Counted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(suggestions, "embed_budget", RateLimiter(0.001, 40))
    monkeypatch.setattr(suggestions, "EMBED_CHUNK", 8)
    workspace = await make_workspace(database)
    for number in range(60):
        await make_canned_response(database, workspace.id, f"c{number}", f"Canned text {number}")
    await make_canned_response(
        database, workspace.id, "zz-shipping", "Parcels to Germany take 3 to 5 days."
    )
    asking = await make_conversation(database, workspace.id, SHIPPING_Q)
    headers = bearer(await make_api_key(database, workspace))
    path = f"/api/v1/conversations/{asking}/suggested-replies"
    first = await client.get(path, headers=headers)
    assert first.status_code == 200
    assert counted.texts <= 40 + 2  # the budget, and the question
    # The budget spent, a later request embeds only the question and still answers.
    counted.texts = 0
    later = await client.get(path, headers=headers)
    assert later.status_code == 200 and counted.texts <= 2
    # Another workspace has its own budget.
    other = await make_workspace(database)
    await make_canned_response(database, other.id, "shipping", "Parcels take 3 to 5 days.")
    theirs = await make_conversation(database, other.id, SHIPPING_Q)
    found = await client.get(
        f"/api/v1/conversations/{theirs}/suggested-replies",
        headers=bearer(await make_api_key(database, other)),
    )
    assert [item["kind"] for item in found.json()["items"]] == ["canned_response"]


@pytest.mark.parametrize(
    ("answer", "suggested"),
    [
        ("Dear Mrs Smith, your refund is on its way.", "Dear, your refund is on its way."),
        ("Hello again Ana Lopez, it ships today.", "Hello again, it ships today."),
        ("Hola Dr. José García, claro.", "Hola, claro."),
        ("Hi there, it ships today.", "Hi there, it ships today."),
        ("Returns: https://shop.example/returns within a 30-day window.",
         "Returns: https://shop.example/returns within a 30-day window."),
        ("Track it at https://t.example/p/1Z999AA1 or use code SAVE20NOW.",
         "Track it at [link] or use code [reference]."),
        # Digits a mask would take (a card number, a phone number) still make a link personal.
        ("Your order: https://shop.example/orders/4111111111111111.",
         "Your order: [link]."),
        ("See https://shop.example/o/5551234567 or call +1 555 123 4567.",
         "See [link] or call [PHONE]."),
    ],
)  # fmt: skip
def test_what_an_earlier_answer_keeps_and_loses(answer: str, suggested: str) -> None:
    assert suggestions._impersonal(answer) == suggested
