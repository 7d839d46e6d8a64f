"""SMS channel errors, each with its HTTP status."""

from __future__ import annotations

from rapport.errors import BadRequest, Forbidden, NotFound


class SmsChannelNotFound(NotFound):
    """No workspace receives texts at this webhook address."""


class InvalidTwilioSignature(Forbidden):
    """The webhook's X-Twilio-Signature does not sign it with the workspace's auth token."""


class MalformedSmsWebhook(BadRequest):
    """The webhook's form lacks what Twilio always sends (MessageSid, From)."""


class SmsNotConfigured(NotFound):
    """The workspace has no SMS settings yet."""
