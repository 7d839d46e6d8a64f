"""Console: the customers list (filters, sorting, keyset pages), search by name, email, phone
or order id, and each customer's 360 page with the staff actions on it."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Query, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics.predictions import CHURN_FILTERS, predictions
from rapport.core.deps import SessionDep
from rapport.customers.auth import actor_of
from rapport.customers.consent import consent
from rapport.customers.enums import WEAK_KINDS, ConsentPurpose, MergeReason
from rapport.customers.listing import listing, name_from
from rapport.customers.merges import merges
from rapport.customers.schemas import (
    ID_PATTERN,
    ConsentChange,
    CustomerFilters,
    CustomerListItem,
    CustomerRead,
    CustomerSort,
)
from rapport.customers.service import customers
from rapport.errors import BadRequest
from rapport.events.errors import OrderNotFound
from rapport.events.history import HISTORY_TYPES
from rapport.events.service import events
from rapport.identity.audit import Actor
from rapport.identity.enums import Scope
from rapport.identity.keys import sources
from rapport.web.console.context import (
    Console,
    ConsoleContext,
    CustomersMergeConsole,
    CustomersWriteConsole,
)
from rapport.web.console.routing import console_router, see_other
from rapport.web.console.templating import page, zone_named

router = console_router()
SearchText = Annotated[str, Query(max_length=320)]
Cursor = Annotated[str | None, Query(max_length=500)]
ProfileId = Annotated[str, Form(pattern=ID_PATTERN)]
TIMELINE_PAGE = 25
ORDERS_PAGE = 10
# Sources that are not rows of the sources table, by the name traits carry.
BUILT_IN_SOURCES = {
    "import:csv": "CSV import",
    "shopify": "Shopify",
    "server": "Secret API key",
}


async def find_customers(
    session: AsyncSession, workspace_id: str, query: str
) -> list[CustomerListItem]:
    """Find profiles by exact email, phone, user id, name or the shop's order id."""
    found = await customers.search(session, workspace_id, query)
    try:
        order = await events.order(session, workspace_id, query.strip())
    except OrderNotFound:
        order = None
    if order is not None and order.customer_id is not None:
        found.append(order.customer_id)
    return await listing.found(session, workspace_id, list(dict.fromkeys(found)))


def _filters(
    ctx: ConsoleContext, has_orders: bool, seen_since: str, purpose: str, churn_risk: str
) -> CustomerFilters:
    """Read the list's filters; a day is taken in the workspace's time zone."""
    try:
        day = date.fromisoformat(seen_since) if seen_since else None
    except ValueError as error:
        raise BadRequest("Seen since must be a date (YYYY-MM-DD).") from error
    if purpose and purpose not in set(ConsentPurpose):
        raise BadRequest("Consent must name a known purpose.")
    if churn_risk and churn_risk not in CHURN_FILTERS:
        raise BadRequest("Churn risk must be high, medium, low or single.")
    since = (
        datetime.combine(day, time(), tzinfo=zone_named(ctx.workspace.time_zone))
        if day is not None
        else None
    )
    return CustomerFilters(
        has_orders=has_orders,
        seen_since=since,
        consent=purpose or None,
        extensions=(("churn_risk", churn_risk),) if churn_risk else (),
    )


@router.get("/customers", response_class=HTMLResponse)
async def list_customers(
    ctx: Console,
    session: SessionDep,
    q: SearchText = "",
    sort: CustomerSort = CustomerSort.last_seen,
    has_orders: bool = False,
    seen_since: Annotated[str, Query(max_length=10)] = "",
    consent_granted: Annotated[str, Query(max_length=64)] = "",
    churn_risk: Annotated[str, Query(max_length=16)] = "",
    cursor: Cursor = None,
) -> Response:
    """List customers (filtered, sorted, a page at a time), or the ones matching a search."""
    ctx.require(Scope.customers_read)
    workspace_id = ctx.principal.workspace_id
    filters = _filters(ctx, has_orders, seen_since.strip(), consent_granted, churn_risk)
    if q.strip():
        found, total, next_cursor = await find_customers(session, workspace_id, q.strip()), 0, None
    else:
        listed = await listing.page(session, workspace_id, filters, sort, cursor)
        found, total, next_cursor = listed.items, listed.total, listed.next_cursor
    chosen = {
        "sort": sort if sort is not CustomerSort.last_seen else "",
        "has_orders": "true" if has_orders else "",
        "seen_since": seen_since.strip(),
        "consent_granted": consent_granted,
        "churn_risk": churn_risk,
    }
    here = urlencode({name: value for name, value in chosen.items() if value})
    return page(
        ctx,
        "customers/list.html",
        customers=found,
        currencies=await events.currencies(session, workspace_id, [c.id for c in found]),
        total=total,
        query=q,
        sort=sort,
        filters=chosen,
        purposes=list(ConsentPurpose),
        churn_filters=CHURN_FILTERS,
        predicted=await predictions.for_customers(session, workspace_id, [c.id for c in found]),
        here=here,
        next_cursor=next_cursor,
        paged=cursor is not None,
    )


async def _source_names(ctx: ConsoleContext, session: AsyncSession) -> dict[str, str]:
    """Name every source a trait or event can come from."""
    found = await sources.list(session, ctx.principal)
    return BUILT_IN_SOURCES | {source.id: source.name for source in found}


def _title(profile: CustomerRead) -> str:
    traits = {name: {"value": trait.value} for name, trait in profile.traits.items()}
    strong = [(i.kind, i.value) for i in profile.identifiers if i.kind not in WEAK_KINDS]
    return name_from(traits, strong) or "Anonymous visitor"


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def show_customer(
    ctx: Console,
    session: SessionDep,
    customer_id: str,
    cursor: Cursor = None,
    orders_cursor: Cursor = None,
    shown: Annotated[str, Query(alias="type", max_length=16)] = "",
) -> Response:
    """Show a customer's profile, timeline and orders, with the actions staff may take."""
    ctx.require(Scope.customers_read)
    if shown and shown not in HISTORY_TYPES:
        raise BadRequest("The timeline can show one call type or the orders.")
    workspace_id = ctx.principal.workspace_id
    profile = await customers.get(session, workspace_id, customer_id)
    timeline = await events.history(
        session, workspace_id, profile.id, only=shown or None, cursor=cursor, limit=TIMELINE_PAGE
    )
    orders = await events.orders_page(
        session, workspace_id, profile.id, cursor=orders_cursor, limit=ORDERS_PAGE
    )
    currencies = await events.currencies(session, workspace_id, [profile.id])
    return page(
        ctx,
        "customers/show.html",
        profile=profile,
        title=_title(profile),
        timeline=timeline,
        timeline_type=shown,
        timeline_types=HISTORY_TYPES,
        orders=orders,
        currencies=currencies[profile.id],
        consent=await consent.read(session, workspace_id, profile.id),
        merges=await merges.history(session, workspace_id, profile.id),
        source_names=await _source_names(ctx, session),
        prediction=(await predictions.for_customers(session, workspace_id, [profile.id])).get(
            profile.id
        ),
    )


@router.post("/customers/{customer_id}/consent")
async def record_consent(
    ctx: CustomersWriteConsole,
    session: SessionDep,
    customer_id: str,
    purpose: Annotated[ConsentPurpose, Form()],
    granted: Annotated[bool, Form()],
) -> Response:
    """Record a grant or withdrawal of consent that the customer gave staff."""
    workspace_id = ctx.principal.workspace_id
    customer = await customers.live(session, workspace_id, customer_id)
    change = ConsentChange(purpose=purpose, granted=granted, channel="console")
    await consent.record_by(
        session,
        workspace_id,
        customer.id,
        change,
        actor=actor_of(ctx.principal),
        audited_by=Actor.of(ctx.principal),
    )
    return see_other(ctx.request, f"/console/customers/{customer.id}?notice=consent-recorded")


@router.post("/customers/{customer_id}/merge")
async def merge_customer(
    ctx: CustomersMergeConsole, session: SessionDep, customer_id: str, other_id: ProfileId
) -> Response:
    """Merge another profile into this one (logged; can be undone)."""
    merge = await merges.merge(
        session,
        ctx.principal.workspace_id,
        winner_id=customer_id,
        loser_id=other_id,
        reason=MergeReason.staff,
        actor=actor_of(ctx.principal),
        audited_by=Actor.of(ctx.principal),
    )
    return see_other(ctx.request, f"/console/customers/{merge.winner_id}?notice=customers-merged")


@router.post("/customer-merges/{merge_id}/undo")
async def undo_merge(ctx: CustomersMergeConsole, session: SessionDep, merge_id: str) -> Response:
    """Undo a merge: the joined profile gets its identifiers back."""
    merge = await merges.unmerge(
        session,
        ctx.principal.workspace_id,
        merge_id,
        actor_of(ctx.principal),
        audited_by=Actor.of(ctx.principal),
    )
    return see_other(ctx.request, f"/console/customers/{merge.winner_id}?notice=merge-undone")
