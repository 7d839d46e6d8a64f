"""The REST API: every registered domain's router under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from rapport.domains import api_routers

api_router = APIRouter(prefix="/api/v1")
for _router in api_routers():
    api_router.include_router(_router)
