"""Messaging enumerations."""

from __future__ import annotations

import enum


class DeliveryStatus(enum.StrEnum):
    """Where an outbound email stands: waiting (and retried), handed over, or given up."""

    queued = "queued"
    sent = "sent"
    dead = "dead"
