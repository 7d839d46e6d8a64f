"""The shared address judgement (rapport.core.addresses) used by IMAP, the generative mode
and webhooks."""

from __future__ import annotations

import ipaddress

import pytest

from rapport.assistant.llm import EndpointRefused, check_base_url
from rapport.core.addresses import Reach, host_refused, literal, reach


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("93.184.215.14", Reach.public),
        ("2606:4700::1111", Reach.public),
        ("127.0.0.1", Reach.private),
        ("::1", Reach.private),
        ("10.1.2.3", Reach.private),
        ("::ffff:10.1.2.3", Reach.private),
        ("64:ff9b:1::a00:1", Reach.private),  # local-use NAT64
        ("169.254.169.254", Reach.never),
        ("64:ff9b::a9fe:a9fe", Reach.never),  # NAT64 to the metadata service
        ("2002:a9fe:a9fe::", Reach.never),  # 6to4 to it
        ("::ffff:169.254.169.254", Reach.never),
        ("fe80::1", Reach.never),
        ("224.0.0.1", Reach.never),
        ("0.0.0.0", Reach.never),  # noqa: S104
        ("240.0.0.1", Reach.never),
    ],
)
def test_addresses_are_judged_by_where_they_lead(address: str, expected: Reach) -> None:
    assert reach(ipaddress.ip_address(address)) is expected


def test_hosts_that_are_addresses_in_disguise_are_judged_when_saved() -> None:
    assert literal("127.1") == ipaddress.IPv4Address("127.0.0.1")
    assert literal("0x7f.0.0.1") == ipaddress.IPv4Address("127.0.0.1")
    assert host_refused("2130706433", allow_private=False) is not None
    assert host_refused("localhost.", allow_private=False) is not None
    assert host_refused("localhost", allow_private=True) is None
    assert host_refused("169.254.169.254", allow_private=True) is not None
    assert host_refused("imap.example.com", allow_private=False) is None  # checked when used


def test_the_generative_endpoint_refuses_the_metadata_service_behind_nat64() -> None:
    with pytest.raises(EndpointRefused, match="never connects"):
        check_base_url("https://[64:ff9b::a9fe:a9fe]/v1", allow_private=True)
