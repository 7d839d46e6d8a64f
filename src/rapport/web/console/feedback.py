"""The public survey page: a signed single-use link that works without signing in, on a
phone as on a desktop; its form carries a CSRF token bound to a nonce cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, Response
from fastapi.responses import HTMLResponse

from rapport.core.db import Database
from rapport.core.deps import DatabaseDep, SessionDep
from rapport.errors import RapportError
from rapport.feedback.answering import answer, open_link
from rapport.feedback.errors import SurveyLinkExpired, SurveyLinkUsed
from rapport.feedback.links import LINK_PATH
from rapport.feedback.service import feedback
from rapport.identity.enums import Scope
from rapport.support.service import conversations
from rapport.web.console.context import ConsoleContext, console_requiring
from rapport.web.console.routing import console_router, on_error
from rapport.web.console.security import pre_session_csrf, set_nonce_cookie
from rapport.web.console.support_views import acting_of
from rapport.web.console.templating import bare_page, page

router = console_router()
# The link is a credential: pages that carry it are never cached nor sent on as a referrer.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
PATH = LINK_PATH.removeprefix("/console")
FeedbackConsole = Annotated[ConsoleContext, console_requiring(Scope.feedback_read)]
ProfileId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def _closed(request: Request, error: RapportError) -> Response:
    """The page of a link that was already answered or has expired."""
    values = {"message": error.message, "answered": isinstance(error, SurveyLinkUsed)}
    return bare_page(
        request, "feedback/closed.html", values, status_code=error.status_code, headers=PRIVATE
    )


async def _render(
    request: Request, database: Database, token: str, error: RapportError | None = None
) -> Response:
    """Draw the survey's form (again, with the error, after a refused answer)."""
    try:
        async with database.session() as session:
            opened = await open_link(session, token)
    except (SurveyLinkUsed, SurveyLinkExpired) as closed:
        return _closed(request, closed)
    csrf_token, nonce = pre_session_csrf(request)
    values = {
        "survey": opened.survey,
        "questions": opened.questions,
        "path": f"{LINK_PATH}{token}",
        "csrf_token": csrf_token,
        "error": error,
    }
    status = error.status_code if error else 200
    response = bare_page(
        request, "feedback/survey.html", values, status_code=status, headers=PRIVATE
    )
    if nonce is not None:
        set_nonce_cookie(response, request.app.state.settings, nonce)
    return response


async def _answer_failed(request: Request, error: RapportError) -> Response:
    if isinstance(error, SurveyLinkUsed | SurveyLinkExpired):
        return _closed(request, error)
    token = str(request.path_params.get("token", ""))
    return await _render(request, request.app.state.database, token, error)


@router.get(PATH + "{token}", response_class=HTMLResponse)
async def show_survey(request: Request, database: DatabaseDep, token: str) -> Response:
    """Show a survey a customer was sent."""
    return await _render(request, database, token)


@router.post(PATH + "{token}", response_class=HTMLResponse)
@on_error(_answer_failed)
async def answer_survey(request: Request, database: DatabaseDep, token: str) -> Response:
    """Store the answers; the link then stops working."""
    form = await request.form()
    values = {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}
    await answer(database, token, values)
    return bare_page(request, "feedback/thanks.html", {}, headers=PRIVATE)


@router.get("/customers/{customer_id}/survey-responses", response_class=HTMLResponse)
async def customer_responses(
    ctx: FeedbackConsole, session: SessionDep, customer_id: ProfileId
) -> Response:
    """Show a customer's latest survey responses (HTMX part of the customer page)."""
    ctx.require(Scope.customers_read)
    found = await feedback.for_customer(session, ctx.principal.workspace_id, customer_id)
    return page(ctx, "feedback/_responses.html", responses=found, empty="No survey answers yet.")


@router.get("/conversations/{conversation_id}/survey-responses", response_class=HTMLResponse)
async def conversation_responses(
    ctx: FeedbackConsole, session: SessionDep, conversation_id: ProfileId
) -> Response:
    """Show the survey answers that followed a conversation the staff member may see."""
    workspace_id = ctx.principal.workspace_id
    await conversations.get(session, workspace_id, conversation_id, acting_of(ctx))
    found = await feedback.for_conversation(session, workspace_id, conversation_id)
    return page(ctx, "feedback/_responses.html", responses=found, empty="No survey answer yet.")
