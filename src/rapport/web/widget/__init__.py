"""The chat widget's edge: its script, HTTP routes, WebSocket and demo shop page."""

from __future__ import annotations

from fastapi import APIRouter

from rapport.web.widget.cors import WidgetCorsMiddleware
from rapport.web.widget.demo import router as demo_router
from rapport.web.widget.endpoints import router as http_router
from rapport.web.widget.socket import router as socket_router
from rapport.web.widget.survey import router as survey_router

router = APIRouter()
router.include_router(http_router)
router.include_router(socket_router)
router.include_router(survey_router)
router.include_router(demo_router)

__all__ = ["WidgetCorsMiddleware", "router"]
