"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from rapport.core.db import Database

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Answer while the process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database does not answer."}})
async def readyz(request: Request) -> JSONResponse:
    """Answer 200 when the database answers, 503 otherwise."""
    database: Database = request.app.state.database
    try:
        async with database.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "down"}, 503)
    return JSONResponse({"status": "ok", "database": "up"})
