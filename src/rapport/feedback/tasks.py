"""Feedback jobs: sending surveys when a conversation is resolved, reminders, sentiment."""

from __future__ import annotations
