"""Agent assist shapes: replies suggested for a conversation's last customer message."""

from __future__ import annotations

import enum

from pydantic import BaseModel, Field


class SuggestionKind(enum.StrEnum):
    past_reply = "past_reply"
    canned_response = "canned_response"
    article = "article"
    product_fact = "product_fact"


class SuggestedReply(BaseModel):
    kind: SuggestionKind = Field(
        description="past_reply (what an agent answered to a similar question), "
        "canned_response (filled for this conversation), article (from the knowledge base) "
        "or product_fact (from the fact sheet of the product the customer names)."
    )
    title: str = Field(
        description="A short label: the earlier question, the response's title, the article's, "
        "or the product's name and fact."
    )
    text: str = Field(description="The reply to insert into the composer (edited before sending).")
    score: float = Field(description="Relevance to the customer's last message, 0 to 1.")
    source_id: str = Field(
        description="The reply's message id, the canned response's id, the article's id or "
        "the product's key."
    )
    url: str | None = Field(
        description="The help-center address of an article, or the page of a product."
    )


class SuggestedReplies(BaseModel):
    conversation_id: str = Field(description="The conversation.")
    message_id: str | None = Field(
        description="The customer message the suggestions answer (null: none yet)."
    )
    items: list[SuggestedReply] = Field(description="Up to three suggestions, best first.")
