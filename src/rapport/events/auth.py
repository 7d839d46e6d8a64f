"""Who may call the events API (ingestion authenticates by write key in `ingest.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from rapport.customers.schemas import ID_PATTERN, NO_NUL
from rapport.identity.auth import authorize
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal

EventsRead = Annotated[Principal, Depends(authorize(Scope.events_read))]
CustomersRead = Annotated[Principal, Depends(authorize(Scope.customers_read))]
CustomerId = Annotated[str, Path(pattern=ID_PATTERN, description="Customer profile id.")]
OrderKey = Annotated[str, Path(max_length=255, pattern=NO_NUL, description="The shop's order id.")]
