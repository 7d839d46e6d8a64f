"""Survey links: an invitation's id signed with the key ring (HMAC), checked before any
lookup, so a guessed or altered link never reaches the database."""

from __future__ import annotations

import re

from rapport.core.crypto import keyring
from rapport.feedback.errors import SurveyLinkInvalid

LINK_PATH = "/console/surveys/"
_PURPOSE = "feedback.survey-link"
_SHAPE = re.compile(r"^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$")


def survey_token(invitation_id: str) -> str:
    """Return the link token of an invitation (the same every time it is asked)."""
    return f"{invitation_id}.{keyring().sign(f'{_PURPOSE}:{invitation_id}')}"


def survey_link(base_url: str, invitation_id: str) -> str:
    """Return an invitation's full link."""
    return f"{base_url.rstrip('/')}{LINK_PATH}{survey_token(invitation_id)}"


def invitation_of(token: str) -> str:
    """Return the invitation id a link token names, after checking its signature."""
    match = _SHAPE.match(token)
    if match is None or not keyring().verify(f"{_PURPOSE}:{match[1]}", match[2]):
        raise SurveyLinkInvalid("This survey link is not valid.")
    return match[1]
