"""Feedback: surveys (NPS, CSAT, CES, custom), their delivery and the responses."""
