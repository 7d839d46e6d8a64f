"""Where a server may connect on a workspace's behalf: the judgement of one IP address, shared
by the features that reach hosts a workspace names (IMAP mailboxes, the generative mode's
endpoint, outbound webhooks).

Public addresses are fine; loopback and private networks only when the operator allows it;
link-local (cloud metadata), multicast, unspecified and reserved addresses never. An IPv6
address that carries an IPv4 one (mapped, 6to4, NAT64, IPv4-compatible) is judged by the IPv4
address it reaches."""

from __future__ import annotations

import enum
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefixes whose last 32 bits are an IPv4 address a gateway delivers to.
_CARRIES_IPV4 = tuple(
    ipaddress.IPv6Network(network) for network in ("64:ff9b::/96", "::/96", "::ffff:0:0:0/96")
)
# Not public, whatever this Python's ipaddress says: local-use NAT64 and site-local.
_NOT_PUBLIC = tuple(ipaddress.IPv6Network(network) for network in ("64:ff9b:1::/48", "fec0::/10"))


class Reach(enum.Enum):
    """What kind of destination an address is."""

    public = "public"
    private = "private"  # loopback or a private network: only when the operator allows it
    never = "never"  # link-local, multicast, unspecified, reserved


def literal(host: str) -> IpAddress | None:
    """Return the address a host name is itself, in any form the resolver reads as one
    (127.1, 0x7f.0.0.1 and 2130706433 are 127.0.0.1 to getaddrinfo), else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeError, ValueError):
        return None


def carried(address: IpAddress) -> IpAddress:
    """Return the IPv4 address an IPv6 one reaches (mapped, 6to4, NAT64), else the address."""
    if not isinstance(address, ipaddress.IPv6Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.is_loopback or address.is_unspecified:
        return address
    if any(address in network for network in _CARRIES_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def reach(address: IpAddress) -> Reach:
    """Judge one address."""
    address = carried(address)
    # Before the reserved check: ::1 and local-use NAT64 sit in ranges ipaddress calls reserved.
    if address.is_loopback or any(address in network for network in _NOT_PUBLIC):
        return Reach.private
    if (
        address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    ):
        return Reach.never
    if address.is_global:
        return Reach.public
    return Reach.private


def allowed(address: IpAddress, allow_private: bool) -> bool:
    """Tell whether a connection to `address` is allowed under the operator's choice."""
    judged = reach(address)
    return judged is Reach.public or (judged is Reach.private and allow_private)


def host_refused(host: str, allow_private: bool) -> str | None:
    """Judge a host name before any lookup (when settings are saved): the reason a host that
    is an address (or localhost) can never be used, else None (names are checked again, by
    every address they resolve to, just before connecting)."""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        address: IpAddress | None = ipaddress.IPv4Address("127.0.0.1")
    else:
        address = literal(name)
    if address is None or allowed(address, allow_private):
        return None
    if reach(address) is Reach.never:
        return f"{address} is a link-local, multicast or reserved address."
    return f"{address} is a private or loopback address."


class PrivatePolicy:
    """Whether this process lets workspaces name loopback and private addresses for one
    feature: the operator's setting, unless a test sets it."""

    def __init__(self, setting: Callable[[], bool]) -> None:
        self._setting = setting
        self._allow_private: bool | None = None

    def configure(self, *, allow_private: bool | None) -> None:
        """Set the choice (None: the operator's setting decides again)."""
        self._allow_private = allow_private

    @property
    def allow_private(self) -> bool:
        """Tell whether loopback and private addresses are allowed."""
        if self._allow_private is None:
            return self._setting()
        return self._allow_private


@dataclass(frozen=True)
class Target:
    """A checked HTTP destination: the address to connect to and what the request names."""

    address: IpAddress
    scheme: str
    host: str
    port: int
    path: str

    @property
    def connect_url(self) -> str:
        """Return the URL that connects to the checked address itself."""
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        """Return the Host header the server expects."""
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"
