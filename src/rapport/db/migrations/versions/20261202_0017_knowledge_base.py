"""knowledge base articles

Revision ID: 20261202_0017
Revises: 20261202_0016
Create Date: 2026-12-02 09:00:00

- knowledge_articles: one row per article and locale (slug unique per workspace and locale),
  markdown body, tags, draft/published, the translation group linking an article's locales,
  and the title and body's embedding with the model that made it.
- knowledge_settings: the locale a workspace's searches fall back to.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import rapport.core.db

revision: str = "20261202_0017"
down_revision: str | None = "20261202_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant_columns(table: str) -> list[Any]:
    return [
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "knowledge_articles",
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "published", name="articlestatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("translation_group_id", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("updated_at", rapport.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_at", rapport.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(length=64), nullable=True),
        *_tenant_columns("knowledge_articles"),
        sa.UniqueConstraint(
            "workspace_id",
            "locale",
            "slug",
            name=op.f("uq_knowledge_articles_workspace_id_locale_slug"),
        ),
    )
    op.create_index(
        op.f("ix_knowledge_articles_workspace_id"), "knowledge_articles", ["workspace_id"]
    )
    op.create_index(
        "ix_knowledge_articles_status", "knowledge_articles", ["workspace_id", "status"]
    )
    op.create_index(
        "ix_knowledge_articles_group",
        "knowledge_articles",
        ["workspace_id", "translation_group_id"],
    )

    op.create_table(
        "knowledge_settings",
        sa.Column("default_locale", sa.String(length=35), nullable=False),
        *_tenant_columns("knowledge_settings"),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_knowledge_settings_workspace_id")),
    )
    op.create_index(
        op.f("ix_knowledge_settings_workspace_id"), "knowledge_settings", ["workspace_id"]
    )


def downgrade() -> None:
    op.drop_table("knowledge_settings")
    op.drop_table("knowledge_articles")
