"""Console: find customers (name, email, phone, order id) and see their 360 profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.deps import SessionDep
from rapport.customers.consent import consent
from rapport.customers.schemas import CustomerSummary
from rapport.customers.service import customers
from rapport.events.errors import OrderNotFound
from rapport.events.service import events
from rapport.identity.enums import Scope
from rapport.web.console.context import Console
from rapport.web.console.routing import console_router
from rapport.web.console.templating import page

router = console_router()
SearchText = Annotated[str, Query(max_length=320)]


async def find_customers(
    session: AsyncSession, workspace_id: str, query: str
) -> list[CustomerSummary]:
    """Find profiles by exact email, phone, user id, name or the shop's order id."""
    found = await customers.search(session, workspace_id, query)
    try:
        order = await events.order(session, workspace_id, query.strip())
    except OrderNotFound:
        order = None
    if order is not None and order.customer_id is not None:
        found.append(order.customer_id)
    return await customers.summaries(session, workspace_id, list(dict.fromkeys(found)))


@router.get("/customers", response_class=HTMLResponse)
async def list_customers(ctx: Console, session: SessionDep, q: SearchText = "") -> Response:
    """List recently seen customers, or the ones matching a search."""
    ctx.require(Scope.customers_read)
    workspace_id = ctx.principal.workspace_id
    if q.strip():
        found = await find_customers(session, workspace_id, q.strip())
    else:
        found = await customers.summaries(session, workspace_id, None)
    return page(ctx, "customers/list.html", customers=found, query=q)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def show_customer(
    ctx: Console,
    session: SessionDep,
    customer_id: str,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Show a customer's profile, timeline and orders."""
    ctx.require(Scope.customers_read)
    workspace_id = ctx.principal.workspace_id
    profile = await customers.get(session, workspace_id, customer_id)
    return page(
        ctx,
        "customers/show.html",
        profile=profile,
        timeline=await events.timeline(session, workspace_id, profile.id, cursor=cursor, limit=25),
        orders=await events.orders_of(session, workspace_id, profile.id),
        consent=await consent.read(session, workspace_id, profile.id),
    )
