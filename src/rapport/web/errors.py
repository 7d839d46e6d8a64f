"""The one JSON error handler: `{"error": ..., "detail": ...}`, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rapport.core.logging import request_id_var
from rapport.errors import RapportError

logger = logging.getLogger("rapport.errors")

_HTTP_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationError",
    429: "TooManyRequests",
}

_UNSTORABLE_TEXT = frozenset({"22021", "22P05"})
_UNSTORABLE_TEXT_DETAIL = "Text must not contain NUL characters."


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """Return the JSON body every error shares."""
    return {"error": code, "detail": detail, **extra}


def _describe(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    cleaned = [
        {"location": [str(part) for part in error.get("loc", ())], "message": error.get("msg", "")}
        for error in errors
    ]
    summary = "; ".join(
        f"{'.'.join(item['location'][1:] or item['location'])}: {item['message']}"
        for item in cleaned[:5]
    )
    return summary or "Invalid request.", cleaned


def install_error_handlers(app: FastAPI) -> None:
    """Render every failure as the shared JSON shape."""

    @app.exception_handler(RapportError)
    async def _rapport_error(request: Request, error: RapportError) -> JSONResponse:
        return JSONResponse(
            error_body(error.code, error.message), error.status_code, headers=error.headers()
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        summary, problems = _describe(list(error.errors()))
        return JSONResponse(error_body("ValidationError", summary, problems=problems), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        headers = error.headers
        if error.status_code == 405 and (allowed := allowed_methods(request)):
            headers = {**(headers or {}), "Allow": allowed}
            if request.method == "OPTIONS":
                return Response(status_code=204, headers=headers)
        code = _HTTP_NAMES.get(error.status_code, "HttpError")
        return JSONResponse(error_body(code, str(error.detail)), error.status_code, headers=headers)

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, error: DBAPIError) -> JSONResponse:
        # PostgreSQL refuses NUL characters in text (SQLSTATE 22021/22P05): a bad payload.
        if getattr(error.orig, "sqlstate", None) in _UNSTORABLE_TEXT:
            return JSONResponse(error_body("ValidationError", _UNSTORABLE_TEXT_DETAIL), 422)
        if error.connection_invalidated:
            # The connection was lost before the commit (one lost in the commit is
            # core.db.CommitOutcomeUnknown, a 500): nothing of this request was written, and
            # the pool gives the next one a new connection.
            logger.warning(
                "database connection lost",
                exc_info=error,
                extra={
                    "error": type(error.orig).__name__,
                    "sqlstate": getattr(error.orig, "sqlstate", None),
                },
            )
            body = error_body(
                "ServiceUnavailable",
                "The database connection was lost; try again.",
                request_id=request_id_var.get(),
            )
            return JSONResponse(body, 503, headers={"Retry-After": "1"})
        return internal_error_response(error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        return internal_error_response(error)


def allowed_methods(request: Request) -> str:
    """List the methods of the resource at this path, for `Allow` (empty if none): those of
    the first route template that matches, as the document lists them by template."""
    path = request.scope["path"]
    matching = [
        route
        for route in iter_route_contexts(request.app.routes)
        if route.methods and route.path_regex.match(path)
    ]
    if not matching:
        return ""
    template = matching[0].path_format
    methods = {
        method
        for route in matching
        if route.path_format == template
        for method in route.methods or ()
    }
    if "GET" in methods:
        methods.add("HEAD")  # answered by HeadMiddleware wherever GET is
    return ", ".join(sorted(methods | {"OPTIONS"}))


def internal_error_response(error: BaseException) -> JSONResponse:
    """Log an unexpected failure and return the 500 a client sees (no stack trace)."""
    logger.error("unhandled error", exc_info=error)
    return JSONResponse(
        error_body(
            "InternalError", "Something went wrong on our side.", request_id=request_id_var.get()
        ),
        500,
    )
