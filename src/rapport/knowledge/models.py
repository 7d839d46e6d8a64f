"""Knowledge base tables: articles (one row per locale) and the workspace's settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Enum, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rapport.core.clock import utcnow
from rapport.core.db import Base, TenantMixin
from rapport.knowledge.enums import ArticleStatus


class Article(TenantMixin, Base):
    """One article in one locale; its translations share `translation_group_id`."""

    __tablename__ = "knowledge_articles"
    __table_args__ = (
        UniqueConstraint("workspace_id", "locale", "slug"),
        Index("ix_knowledge_articles_status", "workspace_id", "status"),
        Index("ix_knowledge_articles_group", "workspace_id", "translation_group_id"),
    )

    slug: Mapped[str] = mapped_column(String(120))
    locale: Mapped[str] = mapped_column(String(35))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[ArticleStatus] = mapped_column(Enum(ArticleStatus, native_enum=False, length=16))
    translation_group_id: Mapped[str] = mapped_column(String(32))
    # Who wrote it: `staff:<id>`, `api_key:<id>`, `system`.
    author: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    # The title and body's vector (float32, L2-normalised) and the model that made it; a
    # vector of another model than the running one is recomputed when searched.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(64))


class KnowledgeSettings(TenantMixin, Base):
    """A workspace's knowledge base settings: the locale searches fall back to."""

    __tablename__ = "knowledge_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    default_locale: Mapped[str] = mapped_column(String(35))


class ProductSheet(TenantMixin, Base):
    """A product's fact sheet in one locale: what the assistant answers product questions
    from (its name, a description, and facts such as Material: linen)."""

    __tablename__ = "knowledge_product_sheets"
    __table_args__ = (UniqueConstraint("workspace_id", "product_key", "locale"),)

    # The shop's product id, as its orders and events name it.
    product_key: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(35))
    name: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    # [[name, value], ...] in the shop's order.
    facts: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    url: Mapped[str | None] = mapped_column(String(2048))
    author: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The names of the facts the shop's catalog wrote last (a Shopify update replaces those
    # and keeps the facts written by hand).
    synced_facts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # When the catalog last changed the product, as of the version synced (an older delivery
    # changes nothing).
    source_updated_at: Mapped[datetime | None]
    # Its lines' vectors (facts, then description sentences; float32 rows, L2-normalised)
    # and the model that made them, as articles keep theirs.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(64))
