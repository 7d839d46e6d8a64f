"""Agent tools' tables: canned responses, macros and saved inbox views, each shared with the
workspace (no owner) or personal to one staff member."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.db import Base, TenantMixin


def _owner() -> Mapped[str | None]:
    return mapped_column(String(32), ForeignKey("staff_users.id", ondelete="CASCADE"))


class CannedResponse(TenantMixin, Base):
    """A reply agents insert by its shortcut; `{{variables}}` are filled when it is used."""

    __tablename__ = "support_canned_responses"
    __table_args__ = (Index("ix_support_canned_responses_shortcut", "workspace_id", "shortcut"),)

    # Null: shared with the workspace; else personal to this staff member.
    owner_id: Mapped[str | None] = _owner()
    shortcut: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)


class Macro(TenantMixin, Base):
    """A named sequence of conversation actions applied in one click."""

    __tablename__ = "support_macros"
    __table_args__ = (Index("ix_support_macros_name", "workspace_id", "name"),)

    owner_id: Mapped[str | None] = _owner()
    name: Mapped[str] = mapped_column(String(100))
    # Each action as its JSON form (support/tools_schemas.py, `MacroAction`).
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class SavedView(TenantMixin, Base):
    """Inbox filters kept under a name, shown in the inbox sidebar with their counts."""

    __tablename__ = "support_saved_views"
    __table_args__ = (Index("ix_support_saved_views_name", "workspace_id", "name"),)

    owner_id: Mapped[str | None] = _owner()
    name: Mapped[str] = mapped_column(String(100))
    # `ViewFilters` as JSON: status, priority, channel, team_id, assignee, tag.
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
