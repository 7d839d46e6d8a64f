"""Tables owned by analytics (per-customer predictions; metric aggregates)."""

from __future__ import annotations
