"""Where a webhook may go (SSRF): HTTPS to public addresses only, the host's name resolved
and every address checked before connecting to one of them, never following a redirect.
Loopback and private networks (and plain HTTP to them) only when RAPPORT_WEBHOOKS_ALLOW_
PRIVATE says so; link-local (cloud metadata), multicast, unspecified and reserved addresses
never (the judgement is rapport.core.addresses', shared with IMAP and the assistant)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from rapport.core import addresses
from rapport.core.addresses import Target
from rapport.webhooks.errors import WebhookTargetRefused

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def check_url(url: str, allow_private: bool) -> SplitResult:
    """Refuse a URL that can never be a webhook target (run when it is saved, no network)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookTargetRefused("The URL cannot be parsed.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookTargetRefused("A webhook URL is https://host/path.")
    if parts.scheme == "http" and not allow_private:
        raise WebhookTargetRefused("Webhooks are sent over HTTPS only.")
    if parts.username is not None or parts.password is not None:
        raise WebhookTargetRefused("Credentials do not belong in a webhook URL.")
    if port == 0:
        raise WebhookTargetRefused("Port 0 is no port.")
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        _check_address(ipaddress.ip_address("127.0.0.1"), parts.scheme, allow_private)
    literal = addresses.literal(host)
    if literal is not None:
        _check_address(literal, parts.scheme, allow_private)
    return parts


async def resolve(url: str, allow_private: bool) -> Target:
    """Resolve a webhook URL's host and return a target whose every address is allowed."""
    parts = check_url(url, allow_private)
    host = (parts.hostname or "").rstrip(".")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError):
        raise WebhookTargetRefused("The host name does not resolve.") from None
    resolved = [_plain(ipaddress.ip_address(info[4][0])) for info in found]
    if not resolved:
        raise WebhookTargetRefused("The host name does not resolve.")
    for address in resolved:
        _check_address(address, parts.scheme, allow_private)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(resolved[0], parts.scheme, host, port, path)


def _plain(address: IpAddress) -> IpAddress:
    """Return the IPv4 address behind an IPv4-mapped IPv6 one (::ffff:127.0.0.1)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _check_address(address: IpAddress, scheme: str, allow_private: bool) -> None:
    # The judgement is rapport.core.addresses' (shared with IMAP and the assistant).
    judged = addresses.reach(address)
    shown = addresses.carried(address)
    if judged is addresses.Reach.never:
        raise WebhookTargetRefused(f"Webhooks are never sent to {shown} (link-local or reserved).")
    if judged is addresses.Reach.public:
        if scheme != "https":
            raise WebhookTargetRefused("Webhooks to public addresses are sent over HTTPS only.")
        return
    if not allow_private:
        raise WebhookTargetRefused(
            f"Webhooks are not sent to private or loopback addresses ({shown}); "
            "RAPPORT_WEBHOOKS_ALLOW_PRIVATE allows it."
        )
