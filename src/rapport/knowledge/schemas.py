"""Knowledge base API shapes: articles, their search hits, the workspace's settings."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from rapport.core.schemas import ReadModel
from rapport.knowledge.enums import ArticleStatus

ID_PATTERN = r"^[0-9a-f]{32}$"
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
LOCALE_PATTERN = r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}$"
MAX_BODY = 100_000
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
# A product key travels in paths (/product-sheets/{key}/{locale}) and links: no slash, no
# control or invisible direction character, no space at either end (and not "." or "..":
# the service refuses those).
_KEY_CHAR = "/\\x00-\\x1f\\x7f-\\x9f\\u200b-\\u200f\\u202a-\\u202e\\u2066-\\u2069"
PRODUCT_KEY_PATTERN = rf"^[^\s{_KEY_CHAR}](?:[^{_KEY_CHAR}]*[^\s{_KEY_CHAR}])?$"
# Multi-line text: no control character but tab and line breaks.
NO_CONTROL_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def normal_locale(value: str) -> str:
    """Write a BCP 47 tag in its usual case: language lower, script title, region upper."""
    if not re.fullmatch(LOCALE_PATTERN, value):
        raise ValueError("a locale is a BCP 47 tag such as en, de or pt-BR")
    first, *rest = value.split("-")
    tail = [
        part.title() if len(part) == 4 else part.upper() if len(part) == 2 else part.lower()
        for part in rest
    ]
    return "-".join([first.lower(), *tail])


Locale = Annotated[str, StringConstraints(max_length=35), AfterValidator(normal_locale)]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=SLUG_PATTERN)]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_CONTROL)
]
Body = Annotated[str, StringConstraints(max_length=MAX_BODY)]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=NO_CONTROL)
]
Tags = Annotated[list[Tag], Field(max_length=20)]


class ArticleCreate(BaseModel):
    title: Title = Field(description="The article's title.")
    body: Body = Field(default="", description="The text, in markdown (raw HTML is not kept).")
    slug: Slug | None = Field(
        default=None, description="Its address in the help center; made from the title if absent."
    )
    locale: Locale | None = Field(
        default=None, description="BCP 47 language tag (en, de, pt-BR); the workspace's default."
    )
    tags: Tags = Field(default_factory=list, description="Topics (up to 20).")
    status: ArticleStatus = Field(
        default=ArticleStatus.draft, description="`draft` (staff only) or `published` (public)."
    )
    translation_of: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="An article this one translates: both then share a translation group.",
    )


class ArticleUpdate(BaseModel):
    title: Title | None = Field(default=None, description="New title.")
    body: Body | None = Field(default=None, description="New markdown text.")
    slug: Slug | None = Field(default=None, description="New address in the help center.")
    tags: Tags | None = Field(default=None, description="Replace the tags.")
    status: ArticleStatus | None = Field(default=None, description="Publish or unpublish.")


class ArticleRead(ReadModel):
    id: str = Field(description="Article id.")
    slug: str = Field(description="Its address in the help center, unique per locale.")
    locale: str = Field(description="BCP 47 language tag.")
    title: str = Field(description="Title.")
    body: str = Field(description="Markdown text.")
    tags: list[str] = Field(description="Topics.")
    status: ArticleStatus = Field(description="draft or published.")
    translation_group_id: str = Field(description="Shared by the article's translations.")
    author: str = Field(description="Who wrote it (`staff:<id>`, `api_key:<id>`, `system`).")
    created_at: datetime = Field(description="When it was written.")
    updated_at: datetime = Field(description="When it last changed.")
    published_at: datetime | None = Field(description="When it was last published.")


class ArticlePage(BaseModel):
    items: list[ArticleRead] = Field(description="Articles, newest first.")
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last."
    )


class ArticleHit(BaseModel):
    """One search result: where the article is, a plain-text snippet and how well it matched."""

    model_config = ConfigDict(frozen=True)

    article_id: str = Field(description="Article id.")
    slug: str = Field(description="Its address in the help center.")
    locale: str = Field(description="The locale of the version found.")
    title: str = Field(description="Title.")
    snippet: str = Field(description="Plain text around the match, at most 300 characters.")
    url: str = Field(description="The help-center path of the article.")
    score: float = Field(description="Combined relevance, 0 to 1.")
    keyword_score: float = Field(description="BM25 over title and body, normalised to 0-1.")
    semantic_score: float = Field(description="Cosine of the embeddings, clipped to 0-1.")


class KnowledgeSettingsRead(BaseModel):
    default_locale: str = Field(description="The locale searches fall back to.")


class KnowledgeSettingsUpdate(BaseModel):
    default_locale: Locale = Field(description="The locale searches fall back to.")


MAX_FACTS = 50
MAX_DESCRIPTION = 5_000
# A fact's name has no colon: the console writes a fact as "Name: value".
FactName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f:]*$"
    ),
]
FactValue = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=NO_CONTROL)
]


def _web_address(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s\x00-\x1f\x7f]+", value):
        raise ValueError("an address is an http:// or https:// URL without spaces")
    return value


Sku = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=NO_CONTROL)
]
WebAddress = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_web_address)]


class Fact(BaseModel):
    name: FactName = Field(
        description="What the fact is about, such as Material or Sizes (no colon)."
    )
    value: FactValue = Field(description="The fact, such as 100 % linen or XS to XXL.")


def _distinct_names(facts: list[Fact]) -> list[Fact]:
    names = [fact.name.casefold() for fact in facts]
    if len(set(names)) != len(names):
        raise ValueError("each fact name may appear once")
    return facts


class ProductSheetWrite(BaseModel):
    """A product's fact sheet in one locale, written whole (PUT)."""

    name: Title = Field(description="The product's name, as customers say it.")
    sku: Sku | None = Field(
        default=None, description="Its stock-keeping unit: a customer who quotes it is understood."
    )
    description: Annotated[
        str, StringConstraints(max_length=MAX_DESCRIPTION, pattern=NO_CONTROL_TEXT)
    ] = Field(default="", description="Plain text about the product (up to 5,000 characters).")
    facts: Annotated[list[Fact], Field(max_length=MAX_FACTS), AfterValidator(_distinct_names)] = (
        Field(default_factory=list, description="Up to 50 facts, in the order they are shown.")
    )
    url: WebAddress | None = Field(
        default=None, description="The product's page in the shop, linked from answers."
    )


class ProductSheetRead(ReadModel):
    id: str = Field(description="Fact sheet id.")
    product_key: str = Field(description="The shop's product id.")
    locale: str = Field(description="BCP 47 language tag.")
    name: str = Field(description="The product's name.")
    sku: str | None = Field(description="Stock-keeping unit.")
    description: str = Field(description="Plain text about the product.")
    facts: list[Fact] = Field(description="Its facts, in order.")
    url: str | None = Field(description="The product's page in the shop.")
    author: str = Field(
        description="Who wrote it last (`staff:<id>`, `api_key:<id>`, `shopify`, `system`)."
    )
    synced_facts: list[str] = Field(
        description="The facts the shop's catalog keeps (by name): a Shopify product update "
        "replaces these and keeps the others."
    )
    created_at: datetime = Field(description="When it was first written.")
    updated_at: datetime = Field(description="When it last changed.")

    @field_validator("facts", mode="before")
    @classmethod
    def _pairs(cls, value: object) -> object:
        if isinstance(value, list):
            return [
                {"name": item[0], "value": item[1]} if isinstance(item, list) else item
                for item in value
            ]
        return value


class ProductSheetPage(BaseModel):
    items: list[ProductSheetRead] = Field(description="Fact sheets, newest first.")
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last."
    )


class ProductHit(BaseModel):
    """A product whose fact sheet answers a question: the facts that match it."""

    model_config = ConfigDict(frozen=True)

    product_key: str = Field(description="The shop's product id.")
    locale: str = Field(description="The locale of the fact sheet found.")
    title: str = Field(description="The product's name.")
    facts: list[Fact] = Field(description="The facts that answer the question, best first.")
    snippet: str = Field(description="Those facts (or the description's sentence) as text.")
    url: str = Field(description="The product's page in the shop, or empty.")
    score: float = Field(description="How well the sheet answers, 0 to 1.")
