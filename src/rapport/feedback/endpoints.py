"""Feedback REST endpoints: surveys and survey responses."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["feedback"])
