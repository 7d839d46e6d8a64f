"""Helpers for console tests: scrape tokens and one-time values from pages."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.fixtures.identity import console_sign_in


def csrf_of(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def otpauth_uri(html: str) -> str:
    """Return the otpauth:// URI shown on the enrolment page."""
    uri = re.search(r"otpauth://[^<\"]+", html)
    assert uri is not None
    return unescape(uri.group(0))


def otpauth_secret(html: str) -> str:
    """Return the TOTP secret from the otpauth:// URI shown on the enrolment page."""
    return parse_qs(urlsplit(otpauth_uri(html)).query)["secret"][0]


def recovery_codes(html: str) -> list[str]:
    """Return the recovery codes listed on the page shown after enrolment."""
    return re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", html)


async def post_form(
    client: httpx.AsyncClient, page_path: str, action: str, data: dict[str, str] | None = None
) -> httpx.Response:
    """Load a console page for its CSRF token, then post a form to `action`."""
    page = await client.get(page_path)
    return await client.post(action, data={**(data or {}), "csrf_token": csrf_of(page.text)})


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    """Sign in through the console form and check it redirected home."""
    response = await console_sign_in(client, email, password)
    assert response.status_code == 303
    return response
