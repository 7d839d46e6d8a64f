"""The real embedder, loaded once per run, and a small labelled intent set."""

from __future__ import annotations

import pytest

from rapport.nlp.ports import Embedder
from tests.fixtures.embedding import minilm_embedder

INTENT_EXAMPLES = {
    "track_order": [
        "where is my order",
        "track my package",
        "when will my parcel arrive",
        "has my order shipped yet",
        "order status please",
        "I want to know where my delivery is",
        "can you tell me the status of order 1234",
        "my package has not arrived",
    ],
    "cancel_order": [
        "cancel my order",
        "I want to cancel the order I placed",
        "please cancel order 5678",
        "stop my order from shipping",
        "I changed my mind, cancel it",
        "how do I cancel a purchase",
        "cancel the last order I made",
        "I no longer want this order",
    ],
    "recover_password": [
        "I forgot my password",
        "reset my password",
        "I can't log in to my account",
        "password recovery",
        "how do I change my forgotten password",
        "locked out of my account",
        "send me a password reset link",
        "my password does not work",
    ],
    "get_refund": [
        "I want my money back",
        "refund please",
        "how do I get a refund",
        "can I be reimbursed for this item",
        "return the item for a refund",
        "request a refund",
        "I was charged and want a refund",
        "give me a refund for order 42",
    ],
}
OUT_OF_SCOPE_EXAMPLES = [
    "what is the weather tomorrow", "tell me a joke", "who won the football game",
    "what is the capital of France", "play some music", "how tall is mount everest",
    "translate hello into spanish", "what time is it in tokyo",
]  # fmt: skip


@pytest.fixture(scope="session")
def minilm() -> Embedder:
    """Return the installed MiniLM embedder (installed by `make setup`)."""
    return minilm_embedder()


def intent_rows(with_out_of_scope: bool = False) -> list[tuple[str, str]]:
    """Return (text, label) rows of the small intent set."""
    rows = [(text, label) for label, texts in INTENT_EXAMPLES.items() for text in texts]
    if with_out_of_scope:
        rows += [(text, "oos") for text in OUT_OF_SCOPE_EXAMPLES]
    return rows
