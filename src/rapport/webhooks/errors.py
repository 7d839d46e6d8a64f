"""Webhook errors, each with its HTTP status."""

from __future__ import annotations

from rapport.errors import Conflict, NotFound, UnprocessableContent


class WebhookEndpointNotFound(NotFound):
    """No such webhook endpoint in this workspace."""


class WebhookTargetRefused(UnprocessableContent):
    """The URL is not one Rapport sends to (HTTPS to a public address, unless allowed)."""


class TooManyWebhookEndpoints(Conflict):
    """The workspace has as many webhook endpoints as it may."""
