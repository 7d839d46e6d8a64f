"""Database schema: every domain's models, and the Alembic migrations that build them."""
