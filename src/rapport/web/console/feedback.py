"""The public survey page: a signed single-use link that works without signing in, on a
phone as on a desktop; its form carries a CSRF token bound to a nonce cookie."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from rapport.core.db import Database
from rapport.core.deps import DatabaseDep
from rapport.errors import RapportError
from rapport.feedback.answering import answer, open_link
from rapport.feedback.errors import SurveyLinkExpired, SurveyLinkUsed
from rapport.feedback.links import LINK_PATH
from rapport.web.console.routing import console_router, on_error
from rapport.web.console.security import pre_session_csrf, set_nonce_cookie
from rapport.web.console.templating import bare_page

router = console_router()
# The link is a credential: pages that carry it are never cached nor sent on as a referrer.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
PATH = LINK_PATH.removeprefix("/console")


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
