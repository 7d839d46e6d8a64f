"""Who may call the knowledge base API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from rapport.identity.auth import authorize
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal
from rapport.knowledge.schemas import ID_PATTERN

KnowledgeRead = Annotated[Principal, Depends(authorize(Scope.knowledge_read))]
KnowledgeWrite = Annotated[Principal, Depends(authorize(Scope.knowledge_write))]
ArticleId = Annotated[str, Path(pattern=ID_PATTERN, description="Article id.")]


def author_of(principal: Principal) -> str:
    """Name who writes an article (`staff:<id>`, `api_key:<id>`)."""
    return f"{principal.actor_type}:{principal.actor_id}"
