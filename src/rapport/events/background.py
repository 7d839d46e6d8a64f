"""What the events domain runs beside the web server (see rapport.domains.background)."""

from __future__ import annotations

from rapport.config import Settings
from rapport.events.ingest import IngestService
from rapport.events.preparation import CallPreparer


def ingestion(settings: Settings) -> IngestService:
    """Ingestion: its preparation processes and its rate limits."""
    return IngestService(
        CallPreparer(settings.preparation_processes),
        settings.ingest_events_per_second,
        masters=settings.secret_keys(),
    )
