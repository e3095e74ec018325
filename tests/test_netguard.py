"""Tier (a): the SSRF guard (edge-threats.md §6, cases 26-27)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.netguard import OriginRefused, address_refusal, origin_refusal, parse_ip, resolve_checked

REFUSED = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "0x7f.1",
    "::1",
    "::ffff:127.0.0.1",
    "[::ffff:7f00:1]",
    "169.254.169.254",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",
    "0.0.0.0",
    "fc00::1",
    "fd00:ec2::254",
    "fe80::1%eth0",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::",
    "localhost",
    "foo.localhost",
    "224.0.0.1",
    "255.255.255.255",
    "::",
    "100.100.100.200",
]
ALLOWED = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "example.com", "1.1.1.1"]


@pytest.mark.parametrize("host", REFUSED)
def test_refused_origins(host: str) -> None:
    """Loopback, private, link-local, CGNAT, metadata and their disguises are refused."""
    assert origin_refusal(host) is not None


@pytest.mark.parametrize("host", ALLOWED)
def test_public_origins_allowed(host: str) -> None:
    """Public addresses and names pass the API-time check."""
    assert origin_refusal(host) is None


def test_allow_private_lifts_ranges_but_not_own_addresses() -> None:
    """--allow-private-origins allows loopback, never the edge's own networks."""
    own = [ipaddress.ip_network("203.0.113.7/32")]
    assert origin_refusal("127.0.0.1", allow_private=True) is None
    assert origin_refusal("203.0.113.7", allow_private=True, own=own) is not None
    assert origin_refusal("::ffff:203.0.113.7", allow_private=True, own=own) is not None


def test_parse_ip_legacy_forms() -> None:
    """inet_aton forms normalise to the address a resolver would use."""
    assert str(parse_ip("2130706433")) == "127.0.0.1"
    assert str(parse_ip("0x7f.0.0.1")) == "127.0.0.1"
    assert str(parse_ip("10.1")) == "10.0.0.1"
    assert parse_ip("example.com") is None


def test_resolve_checked_keeps_only_allowed_addresses() -> None:
    """A rebinding answer mixing public and private addresses keeps only the public ones."""
    assert resolve_checked([("10.0.0.1", 80), ("93.184.215.14", 80)]) == [("93.184.215.14", 80)]
    with pytest.raises(OriginRefused):
        resolve_checked([("127.0.0.1", 80)])


@given(st.ip_addresses())
def test_address_refusal_matches_is_global(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    """Anything the guard allows is globally routable per the ipaddress module."""
    if address_refusal(address) is None:
        assert address.is_global and not address.is_multicast


@given(st.text(max_size=40))
def test_origin_refusal_never_raises(text: str) -> None:
    """Any string gets a verdict, never an exception."""
    origin_refusal(text)
