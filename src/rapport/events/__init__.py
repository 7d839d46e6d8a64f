"""Ingested touchpoint events (Segment-compatible API), orders and products."""
