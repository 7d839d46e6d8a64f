"""HTTP: the Segment-compatible ingestion API (/v1) and the events REST API (/api/v1)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from rapport.core.db import Database
from rapport.core.deps import SessionDep
from rapport.customers.errors import CustomerNotFound
from rapport.errors import BadRequest, error_responses
from rapport.events.auth import CustomerId, CustomersRead, EventsRead, OrderKey
from rapport.events.enums import CallType
from rapport.events.errors import BatchTooLarge, OrderNotFound
from rapport.events.ingest import IngestRequest, IngestService
from rapport.events.preparation import Prepared
from rapport.events.schemas import EventCounts, OrderRead, TimelinePage
from rapport.events.service import events
from rapport.events.shopify import shopify
from rapport.events.wire import MAX_BATCH_BYTES

# A gzip body is never larger than what it inflates to, save a few header bytes.
MAX_WIRE_BYTES = MAX_BATCH_BYTES + 1024
MAX_WEBHOOK_BYTES = 1024 * 1024

segment_router = APIRouter(prefix="/v1", tags=["ingestion"], include_in_schema=False)


def _ingest_request(request: Request, body: bytes) -> IngestRequest:
    return IngestRequest(
        body=body,
        content_encoding=request.headers.get("content-encoding", ""),
        authorization=request.headers.get("authorization", ""),
        ip_address=request.client.host if request.client else None,
    )


def _answer(prepared: Prepared) -> JSONResponse:
    rejected = [
        {"index": item.index, "messageId": item.message_id, "reason": item.reason}
        for item in prepared.rejected
    ]
    if rejected and not prepared.rows:
        detail = f"All {len(rejected)} calls were rejected; see `rejected`."
        body: dict[str, Any] = {"error": "MalformedRequest", "detail": detail}
        return JSONResponse({**body, "rejected": rejected}, status_code=400)
    if rejected:
        return JSONResponse({"success": True, "accepted": len(prepared.rows), "rejected": rejected})
    return JSONResponse({"success": True})


def database_of(request: Request) -> Database:
    """Return the application's database (ingestion opens its unit of work after parsing)."""
    database: Database = request.app.state.database
    return database


def ingestion_of(request: Request) -> IngestService:
    """Return the application's ingestion (its preparation processes and rate limits)."""
    ingestion: IngestService = request.app.state.ingestion
    return ingestion


async def read_capped(request: Request, limit: int, refusal: str) -> bytes:
    """Read the body, refusing it as soon as it grows past `limit` (never buffer a flood)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BatchTooLarge(refusal)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BatchTooLarge(refusal)
        chunks.append(chunk)
    return b"".join(chunks)


async def _ingest(request: Request, call_type: CallType | None) -> JSONResponse:
    refusal = f"A batch may not exceed {MAX_BATCH_BYTES // 1024} KB."
    body = await read_capped(request, MAX_WIRE_BYTES, refusal)
    prepared = await ingestion_of(request).ingest(
        database_of(request), _ingest_request(request, body), call_type
    )
    return _answer(prepared)


@segment_router.post("/batch")
async def ingest_batch(request: Request) -> JSONResponse:
    """Store a batch of Segment calls (write key); answers only once they are committed."""
    return await _ingest(request, None)


@segment_router.post("/identify")
async def ingest_identify(request: Request) -> JSONResponse:
    """Store one identify call (write key)."""
    return await _ingest(request, CallType.identify)


@segment_router.post("/track")
async def ingest_track(request: Request) -> JSONResponse:
    """Store one track call (write key)."""
    return await _ingest(request, CallType.track)


@segment_router.post("/page")
async def ingest_page(request: Request) -> JSONResponse:
    """Store one page call (write key)."""
    return await _ingest(request, CallType.page)


@segment_router.post("/screen")
async def ingest_screen(request: Request) -> JSONResponse:
    """Store one screen call (write key)."""
    return await _ingest(request, CallType.screen)


@segment_router.post("/group")
async def ingest_group(request: Request) -> JSONResponse:
    """Store one group call (write key)."""
    return await _ingest(request, CallType.group)


@segment_router.post("/alias")
async def ingest_alias(request: Request) -> JSONResponse:
    """Store one alias call (write key; a secret key makes it an authenticated merge signal)."""
    return await _ingest(request, CallType.alias)


router = APIRouter(tags=["events"])


@router.get("/events/counts", response_model=EventCounts)
async def count_events(principal: EventsRead, session: SessionDep) -> EventCounts:
    """Count the stored calls of every type."""
    return await events.count(session, principal.workspace_id)


@router.get(
    "/customers/{customer_id}/timeline",
    response_model=TimelinePage,
    responses=error_responses(CustomerNotFound, BadRequest),
)
async def get_timeline(
    customer_id: CustomerId,
    principal: CustomersRead,
    session: SessionDep,
    cursor: Annotated[
        str | None,
        Query(max_length=500, pattern=r"^[A-Za-z0-9_=-]*$", description="From `next_cursor`."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Events per page.")] = 50,
) -> TimelinePage:
    """Return every touchpoint of a customer, newest first, paginated."""
    return await events.timeline(
        session, principal.workspace_id, customer_id, cursor=cursor, limit=limit
    )


@router.get(
    "/customers/{customer_id}/orders",
    response_model=list[OrderRead],
    responses=error_responses(CustomerNotFound),
)
async def list_customer_orders(
    customer_id: CustomerId, principal: CustomersRead, session: SessionDep
) -> list[OrderRead]:
    """Return a customer's orders, newest first."""
    return await events.orders_of(session, principal.workspace_id, customer_id)


@router.get(
    "/orders/{order_key}", response_model=OrderRead, responses=error_responses(OrderNotFound)
)
async def get_order(
    order_key: OrderKey, principal: CustomersRead, session: SessionDep
) -> OrderRead:
    """Return one order by the shop's order id."""
    return await events.order(session, principal.workspace_id, order_key)


@segment_router.post("/webhooks/shopify/{write_key}/orders-create")
async def receive_shopify_order(write_key: str, request: Request) -> JSONResponse:
    """Record a Shopify `orders/create` webhook (verified by X-Shopify-Hmac-Sha256)."""
    # The body is read and verified before the order's unit of work opens: a slow sender
    # must never hold SQLite's writer or a PostgreSQL pool connection.
    database = database_of(request)
    refusal = f"A webhook body may not exceed {MAX_WEBHOOK_BYTES // 1024} KB."
    body = await read_capped(request, MAX_WEBHOOK_BYTES, refusal)
    given = request.headers.get("x-shopify-hmac-sha256", "")
    order = await shopify.verify(database, write_key, body, given)
    async with database.session() as session:
        order_id = await shopify.record(session, order)
    return JSONResponse({"success": True, "order_id": order_id})
