"""HTTP: customer profiles, search, consent and merges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query

from rapport.core.deps import SessionDep
from rapport.customers.auth import (
    CustomerId,
    CustomersMerge,
    CustomersRead,
    CustomersWrite,
    MergeId,
    actor_of,
)
from rapport.customers.consent import consent
from rapport.customers.enums import MergeReason
from rapport.customers.errors import (
    CannotMerge,
    CustomerNotFound,
    MergeAlreadyUndone,
    MergeNotFound,
)
from rapport.customers.merges import merges
from rapport.customers.models import Merge
from rapport.customers.schemas import (
    NO_NUL,
    ConsentChange,
    ConsentRead,
    CustomerRead,
    CustomerSummary,
    MergeCreate,
    MergeRead,
)
from rapport.customers.service import customers
from rapport.errors import error_responses
from rapport.identity.audit import Actor

router = APIRouter(tags=["customers"])


@router.get("/customers", response_model=list[CustomerSummary])
async def list_customers(
    principal: CustomersRead,
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(max_length=320, pattern=NO_NUL, description="Exact email, phone, user id or name."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Most profiles to return.")] = 50,
) -> list[CustomerSummary]:
    """List recently seen customers, or find them by exact email, phone, user id or name."""
    ids = None if q is None else await customers.search(session, principal.workspace_id, q)
    return await customers.summaries(session, principal.workspace_id, ids, limit)


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerRead,
    responses=error_responses(CustomerNotFound),
)
async def get_customer(
    customer_id: CustomerId, principal: CustomersRead, session: SessionDep
) -> CustomerRead:
    """Return a customer's 360 profile."""
    return await customers.get(session, principal.workspace_id, customer_id)


@router.get(
    "/customers/{customer_id}/consent",
    response_model=ConsentRead,
    responses=error_responses(CustomerNotFound),
)
async def get_consent(
    customer_id: CustomerId, principal: CustomersRead, session: SessionDep
) -> ConsentRead:
    """Return a customer's consent state and history."""
    customer = await customers.live(session, principal.workspace_id, customer_id)
    return await consent.read(session, principal.workspace_id, customer.id)


@router.post(
    "/customers/{customer_id}/consent",
    response_model=ConsentRead,
    responses=error_responses(CustomerNotFound),
)
async def record_consent(
    customer_id: CustomerId, body: ConsentChange, principal: CustomersWrite, session: SessionDep
) -> ConsentRead:
    """Record a grant or withdrawal of consent on the customer's behalf."""
    customer = await customers.live(session, principal.workspace_id, customer_id)
    await consent.record_by(
        session,
        principal.workspace_id,
        customer.id,
        body,
        actor=actor_of(principal),
        audited_by=Actor.of(principal),
    )
    return await consent.read(session, principal.workspace_id, customer.id)


@router.get(
    "/customers/{customer_id}/merges",
    response_model=list[MergeRead],
    responses=error_responses(CustomerNotFound),
)
async def list_merges(
    customer_id: CustomerId, principal: CustomersRead, session: SessionDep
) -> Sequence[Merge]:
    """Return the merges a customer profile took part in, newest first."""
    customer = await customers.live(session, principal.workspace_id, customer_id)
    return await merges.history(session, principal.workspace_id, customer.id)


@router.post(
    "/customer-merges",
    response_model=MergeRead,
    status_code=201,
    responses=error_responses(CustomerNotFound, CannotMerge),
)
async def merge_customers(
    body: MergeCreate, principal: CustomersMerge, session: SessionDep
) -> Merge:
    """Merge one customer profile into another (logged; can be undone)."""
    return await merges.merge(
        session,
        principal.workspace_id,
        winner_id=body.winner_id,
        loser_id=body.loser_id,
        reason=MergeReason.staff,
        actor=actor_of(principal),
        audited_by=Actor.of(principal),
    )


@router.post(
    "/customer-merges/{merge_id}/undo",
    response_model=MergeRead,
    responses=error_responses(MergeNotFound, MergeAlreadyUndone, CannotMerge),
)
async def undo_merge(merge_id: MergeId, principal: CustomersMerge, session: SessionDep) -> Merge:
    """Undo a merge: the joined profile gets its identifiers back."""
    return await merges.unmerge(
        session,
        principal.workspace_id,
        merge_id,
        actor_of(principal),
        audited_by=Actor.of(principal),
    )
