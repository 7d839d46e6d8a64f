"""Who may call the feedback API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from rapport.identity.auth import authorize
from rapport.identity.enums import Scope
from rapport.identity.schemas import Principal

ID_PATTERN = r"^[0-9a-f]{32}$"

FeedbackRead = Annotated[Principal, Depends(authorize(Scope.feedback_read))]
FeedbackWrite = Annotated[Principal, Depends(authorize(Scope.feedback_write))]
SurveyId = Annotated[str, Path(pattern=ID_PATTERN, description="Survey id.")]
