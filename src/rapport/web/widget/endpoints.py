"""The widget's HTTP routes: its script, sessions, messages (send and catch up), read marks
and an email for an offline reply. The WebSocket (socket.py) does the same live."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse

from rapport.core.deps import SessionDep
from rapport.errors import error_responses
from rapport.support.errors import ConversationMerged, ConversationNotFound
from rapport.support.widget import widget
from rapport.support.widget_errors import (
    IdentityNotVerified,
    VisitorNotRecognised,
    WidgetKeyInvalid,
    WidgetThrottled,
)
from rapport.support.widget_schemas import (
    Visitor,
    WidgetEmail,
    WidgetMessageCreate,
    WidgetMessageList,
    WidgetMessageRead,
    WidgetRead,
    WidgetSessionRead,
    WidgetStart,
)
from rapport.web.widget.limits import limits_of

SCRIPT = Path(__file__).resolve().parents[1] / "static" / "widget.js"
# Shops embed /widget.js by its name, so it cannot carry a content hash: an hour keeps pages
# fast while a new release reaches every visitor the same day (ETag revalidates cheaply).
SCRIPT_CACHE = "public, max-age=3600"

router = APIRouter(tags=["widget"])


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def current_visitor(request: Request, session: SessionDep) -> Visitor:
    """Return the visitor whose token the request carries (`Authorization: Bearer vt_...`)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise VisitorNotRecognised("Send the visitor token as `Authorization: Bearer <token>`.")
    return await widget.authenticate(session, token.strip())


VisitorDep = Annotated[Visitor, Depends(current_visitor)]
ConversationQuery = Annotated[
    str | None, Query(pattern=r"^[0-9a-f]{32}$", description="The conversation; none: current.")
]


@router.get("/widget.js", include_in_schema=False)
async def widget_script() -> FileResponse:
    """Serve the widget's script (a web component, no dependencies)."""
    return FileResponse(
        SCRIPT, media_type="text/javascript", headers={"Cache-Control": SCRIPT_CACHE}
    )


@router.post(
    "/widget/sessions",
    responses=error_responses(WidgetKeyInvalid, IdentityNotVerified, WidgetThrottled),
)
async def start_widget_session(
    body: WidgetStart, request: Request, session: SessionDep
) -> WidgetSessionRead:
    """Start or resume a visitor's widget session (write key; a signed user id optional)."""
    limits_of(request.app.state).address(_address(request))
    _, started = await widget.start(session, body)
    return started


@router.get(
    "/widget/messages", responses=error_responses(VisitorNotRecognised, ConversationNotFound)
)
async def list_widget_messages(
    visitor: VisitorDep,
    session: SessionDep,
    conversation_id: ConversationQuery = None,
    after: Annotated[int, Query(ge=0, le=2**31 - 1, description="Last seq seen.")] = 0,
) -> WidgetMessageList:
    """Return the visitor's conversation's public messages after `after` (catch-up)."""
    return await widget.messages(session, visitor, conversation_id, after)


@router.post(
    "/widget/messages",
    status_code=201,
    responses=error_responses(
        VisitorNotRecognised, ConversationNotFound, ConversationMerged, WidgetThrottled
    ),
)
async def send_widget_message(
    body: WidgetMessageCreate,
    visitor: VisitorDep,
    request: Request,
    response: Response,
    session: SessionDep,
) -> WidgetMessageRead:
    """Send a visitor's message; a resend with the same `client_id` is answered 200 with the
    message stored the first time."""
    limits_of(request.app.state).message(visitor.id, _address(request))
    sent = await widget.send(session, visitor, body)
    if sent.duplicate:
        response.status_code = 200
    return sent.message


@router.post(
    "/widget/read",
    status_code=204,
    responses=error_responses(VisitorNotRecognised, ConversationNotFound),
)
async def mark_widget_read(body: WidgetRead, visitor: VisitorDep, session: SessionDep) -> None:
    """Record how far the visitor has read their conversation."""
    await widget.mark_read(session, visitor, body)


@router.post(
    "/widget/email",
    status_code=204,
    responses=error_responses(VisitorNotRecognised, WidgetThrottled),
)
async def leave_widget_email(
    body: WidgetEmail, visitor: VisitorDep, request: Request, session: SessionDep
) -> None:
    """Leave an email for the reply when no agent is online."""
    limits_of(request.app.state).message(visitor.id, _address(request))
    await widget.leave_email(session, visitor, str(body.email))
