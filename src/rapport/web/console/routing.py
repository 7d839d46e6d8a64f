"""Console routes: redirects, safe `next` paths, and errors rendered as pages, not JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar, cast
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from pydantic import BeforeValidator, ValidationError

from rapport.errors import CsrfFailed, RapportError, UnprocessableContent
from rapport.web.console.templating import error_fragment, error_page

CONSOLE_ENDPOINT = "rapport.console_endpoint"
FormText = Annotated[str, Form()]
# A filter form's "Any ..." choice arrives as an empty value: no filter.
AnyIsNone = BeforeValidator(lambda value: None if value == "" else value)


ErrorView = Callable[[Request, RapportError], Awaitable[Response]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

# Endpoint -> the page that shows its errors (e.g. the sign-in form for a failed sign-in).
_ERROR_VIEWS: dict[Callable[..., Any], ErrorView] = {}


class ConsoleRedirect(RapportError):
    """Raised where the visitor must go elsewhere first (sign in, finish MFA, enrol)."""

    status_code = 303
    # Whatever was read or touched so far (a session's last-seen time) is kept.
    keeps_changes = True

    def __init__(self, location: str) -> None:
        super().__init__(f"Continue at {location}.")
        self.location = location


def on_error(view: ErrorView) -> Callable[[Endpoint], Endpoint]:
    """Render the endpoint's RapportErrors with `view` instead of the generic error page."""

    def register(endpoint: Endpoint) -> Endpoint:
        _ERROR_VIEWS[endpoint] = view
        return endpoint

    return register


def is_htmx(request: Request) -> bool:
    """Tell whether HTMX sent the request."""
    return request.headers.get("HX-Request") == "true"


def see_other(request: Request, location: str) -> Response:
    """Redirect after a form; HTMX requests get `HX-Redirect` so the whole page moves."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def safe_next(value: str | None, default: str = "/console") -> str:
    """Return `value` if it is a path on this site, else `default` (no open redirects)."""
    if not value or "\\" in value or any(ord(char) < 32 for char in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return default
    return value


def with_next(path: str, next_path: str | None) -> str:
    """Append a `next` query parameter to a console path."""
    return f"{path}?next={quote(next_path, safe='/')}" if next_path else path


def _as_rapport_error(error: Exception) -> RapportError:
    if isinstance(error, RapportError):
        return error
    problems = error.errors() if isinstance(error, ValidationError | RequestValidationError) else []
    first = problems[0] if problems else {}
    field = str(first.get("loc", ("", "form"))[-1]).replace("_", " ")
    return UnprocessableContent(f"Check the {field} field: {first.get('msg', 'invalid value')}.")


class ConsoleRoute(APIRoute):
    """An APIRoute whose failures become pages (see `install_console_errors`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            request.scope[CONSOLE_ENDPOINT] = endpoint
            try:
                return await handler(request)
            except (ValidationError, RequestValidationError) as invalid:
                raise _as_rapport_error(invalid) from invalid

        return handle


async def render_failure(request: Request, error: RapportError) -> Response:
    """Show an error on the endpoint's own page, or on the generic error page."""
    if isinstance(error, ConsoleRedirect):
        return see_other(request, error.location)
    if is_htmx(request):
        return error_fragment(request, error)
    view = _ERROR_VIEWS.get(request.scope[CONSOLE_ENDPOINT])
    if view is None or isinstance(error, CsrfFailed):
        return error_page(request, error)
    try:
        return await view(request, error)
    except ConsoleRedirect as redirect:
        return see_other(request, redirect.location)
    except RapportError as other:
        return error_page(request, other)


def install_console_errors(app: FastAPI) -> None:
    """Render errors of console routes as pages; everything else keeps its JSON handler."""
    json_handler = cast(
        Callable[[Request, Exception], Awaitable[Response]], app.exception_handlers[RapportError]
    )

    async def handle(request: Request, error: Exception) -> Response:
        if CONSOLE_ENDPOINT not in request.scope or not isinstance(error, RapportError):
            return await json_handler(request, error)
        return await render_failure(request, error)

    app.add_exception_handler(RapportError, handle)


def console_router() -> APIRouter:
    """Return a router for a console area (its errors render as pages)."""
    return APIRouter(route_class=ConsoleRoute, include_in_schema=False)
