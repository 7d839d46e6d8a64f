"""Schema bases shared by every domain's API shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ReadModel(BaseModel):
    """A response shape read straight from ORM rows."""

    model_config = ConfigDict(from_attributes=True)
