"""Who may call the customers API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from rapport.customers.schemas import ID_PATTERN
from rapport.identity.auth import authorize
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal

CustomersRead = Annotated[Principal, Depends(authorize(Scope.customers_read))]
CustomersWrite = Annotated[Principal, Depends(authorize(Scope.customers_write))]
CustomersMerge = Annotated[Principal, Depends(authorize(Scope.customers_merge))]
CustomerId = Annotated[str, Path(pattern=ID_PATTERN, description="Customer profile id.")]
MergeId = Annotated[str, Path(pattern=ID_PATTERN, description="Merge id.")]


def actor_of(principal: Principal) -> str:
    """Name who acted, for merge logs and consent records."""
    return f"{principal.actor_type}:{principal.actor_id}"
