"""Twilio: the SmsSender port over Twilio's REST API (httpx), and the check of the
`X-Twilio-Signature` Twilio puts on the webhooks it sends."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from rapport.config import get_settings
from rapport.messaging.ports import DeliveryFailed, SmsSender, TextAccepted, TextMessage

TWILIO_TIMEOUT_SECONDS = 15.0
DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class TwilioSender:
    """Sends through Twilio's Messages resource at `api_url` (a fake's address in tests)."""

    api_url: str = "https://api.twilio.com"
    timeout: float = TWILIO_TIMEOUT_SECONDS

    async def send(self, message: TextMessage) -> TextAccepted:
        """Create the message at Twilio; raise DeliveryFailed with Twilio's error code."""
        url = f"{self.api_url.rstrip('/')}/2010-04-01/Accounts/{message.account_sid}/Messages.json"
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                answer = await client.post(
                    url, data=_form(message), auth=(message.account_sid, message.auth_token)
                )
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"Twilio connection: {type(error).__name__}") from None
        return _accepted(answer)


def _form(message: TextMessage) -> dict[str, str]:
    form = {"To": message.to, "Body": message.body}
    if message.messaging_service_sid:
        form["MessagingServiceSid"] = message.messaging_service_sid
    elif message.from_number:
        form["From"] = message.from_number
    if message.status_callback:
        form["StatusCallback"] = message.status_callback
    return form


def _accepted(answer: httpx.Response) -> TextAccepted:
    try:
        content = answer.json()
    except ValueError:
        content = {}
    if not isinstance(content, dict):
        content = {}
    if answer.status_code in (200, 201) and isinstance(content.get("sid"), str):
        return TextAccepted(sid=content["sid"], status=str(content.get("status", "queued")))
    code = content.get("code")
    reason = f"Twilio {answer.status_code}" + (f" error {code}" if code is not None else "")
    # A refused request (bad number, unverified sender, wrong credentials) stays refused;
    # throttling and Twilio's own failures pass.
    permanent = 400 <= answer.status_code < 500 and answer.status_code not in (408, 429)
    raise DeliveryFailed(reason, permanent=permanent)


def twilio_signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """Return Twilio's signature of a webhook: base64 HMAC-SHA1, keyed by the auth token,
    of the full URL followed by every POST parameter's name and value, sorted."""
    data = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid_twilio_signature(
    auth_token: str, url: str, params: Sequence[tuple[str, str]], signature: str
) -> bool:
    """Tell whether `signature` signs this request; the URL is tried with and without its
    default port, as Twilio's own libraries do (Twilio signs the URL as configured)."""
    for candidate in _url_variants(url):
        expected = twilio_signature(auth_token, candidate, params)
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return True
    return False


def _url_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is None and default is not None:
        other = parts._replace(netloc=f"{_userinfo(parts.netloc)}{host}:{default}")
    elif parts.port == default:
        other = parts._replace(netloc=f"{_userinfo(parts.netloc)}{host}")
    else:
        return [url]
    return [url, urlunsplit(other)]


def _userinfo(netloc: str) -> str:
    userinfo, at, _ = netloc.rpartition("@")
    return f"{userinfo}{at}"


class TwilioProvider:
    """The process's SMS provider: Twilio at RAPPORT_TWILIO_API_URL unless configured."""

    def __init__(self) -> None:
        self._sender: SmsSender | None = None

    def configure(self, sender: SmsSender | None) -> None:
        """Set the provider (None: Twilio at the configured address)."""
        self._sender = sender

    @property
    def sender(self) -> SmsSender:
        """Return the SMS provider."""
        if self._sender is None:
            self._sender = TwilioSender(api_url=get_settings().twilio_api_url)
        return self._sender


sms_provider = TwilioProvider()
