"""The REST API: every domain's router under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from rapport.customers.endpoints import router as customers_router
from rapport.events.endpoints import router as events_router
from rapport.identity.endpoints import router as identity_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(identity_router)
api_router.include_router(customers_router)
api_router.include_router(events_router)
