"""Who may call the knowledge base API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from rapport.identity.auth import authorize
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal
from rapport.knowledge.schemas import ID_PATTERN, PRODUCT_KEY_PATTERN

KnowledgeRead = Annotated[Principal, Depends(authorize(Scope.knowledge_read))]
KnowledgeWrite = Annotated[Principal, Depends(authorize(Scope.knowledge_write))]
ArticleId = Annotated[str, Path(pattern=ID_PATTERN, description="Article id.")]
ProductKey = Annotated[
    str,
    Path(
        min_length=1,
        max_length=255,
        pattern=PRODUCT_KEY_PATTERN,
        description="The shop's product id (no slash).",
    ),
]
LocaleTag = Annotated[str, Path(description="BCP 47 language tag (en, pt-BR).")]


def author_of(principal: Principal) -> str:
    """Name who writes an article (`staff:<id>`, `api_key:<id>`)."""
    return f"{principal.actor_type}:{principal.actor_id}"
