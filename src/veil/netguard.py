"""SSRF guard for customer-chosen origins (edge-threats.md §6; Stripe Smokescreen's model).

A customer names its origin; Veil must never be tricked into connecting to its own network,
the operator's private ranges or a cloud metadata service. Two checks use the same table:

* at API time, `origin_refusal(host)` refuses literals in forbidden ranges (written in any
  form `inet_aton` accepts: decimal `2130706433`, octal `0177.0.0.1`, hex `0x7f.1`, IPv6,
  IPv4-mapped, NAT64, 6to4) and the `localhost` names;
* at connect time the edge resolves a name once, checks every address with
  `address_refusal`, and connects to exactly the address it checked (no re-resolution, so
  DNS rebinding gains nothing).

`allow_private=True` (the operator's `--allow-private-origins`) lifts the range checks but
never the edge's own listening sockets, so the edge cannot be made to proxy to itself.
Standard library only.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# (network, reason) — reasons are shown to API users, never an address of ours.
_V4_FORBIDDEN: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified or 'this network'"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local or cloud metadata"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved or broadcast"),
)
_V6_FORBIDDEN: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignments"),
    ("2001:db8::/32", "documentation"),
    ("fc00::/7", "unique local (private) or cloud metadata"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
)
# The same check always applies to the IPv4 address embedded in these forms.
_NAT64 = (IPv6Network("64:ff9b::/96"), IPv6Network("64:ff9b:1::/48"))
_SIX_TO_FOUR = IPv6Network("2002::/16")

_FORBIDDEN: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), why) for net, why in (*_V4_FORBIDDEN, *_V6_FORBIDDEN)
)
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class OriginRefused(Exception):
    """The origin is in a range Veil will not connect to. The message names the range kind."""


def parse_ip(text: str) -> IPAddress | None:
    """An IP address written in any form a resolver would accept, or None for a name.

    Accepts dotted quads, IPv6 (optionally in brackets, with a zone id stripped), and the
    legacy `inet_aton` forms (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`).
    """
    candidate = text.strip().rstrip(".")
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    candidate = candidate.split("%", 1)[0]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        pass
    if not candidate or not all(c.isalnum() or c == "." for c in candidate):
        return None
    try:
        return IPv4Address(socket.inet_aton(candidate))
    except OSError:
        return None


def _embedded_v4(address: IPv6Address) -> IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in net for net in _NAT64):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    if int(address) >> 32 == 0 and int(address) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return IPv4Address(int(address))
    return None


def address_refusal(
    address: IPAddress, *, allow_private: bool = False, own: Iterable[IPNetwork] = ()
) -> str | None:
    """Why Veil refuses to connect to `address`, or None if it may."""
    for net in own:
        if address.version == net.version and address in net:
            return "one of the edge's own addresses"
    if isinstance(address, IPv6Address):
        inner = _embedded_v4(address)
        if inner is not None:
            return address_refusal(inner, allow_private=allow_private, own=own)
    if allow_private:
        return None
    for net, why in _FORBIDDEN:
        if address.version == net.version and address in net:
            return why
    return None


def origin_refusal(
    host: str, *, allow_private: bool = False, own: Iterable[IPNetwork] = ()
) -> str | None:
    """API-time check of an origin host (IP literal or name); None means acceptable."""
    name = host.strip().lower().rstrip(".")
    if not name:
        return "empty origin"
    address = parse_ip(name)
    if address is not None:
        return address_refusal(address, allow_private=allow_private, own=own)
    if allow_private:
        return None
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return "loopback"
    return None


def resolve_checked(
    infos: Iterable[tuple[str, int]],
    *,
    allow_private: bool = False,
    own: Iterable[IPNetwork] = (),
) -> list[tuple[str, int]]:
    """Filter resolved (address, port) pairs to the allowed ones.

    Raises OriginRefused when every address is refused (naming the first reason), so the
    caller connects only to addresses that were checked here.
    """
    own_nets = tuple(own)
    allowed: list[tuple[str, int]] = []
    first_reason: str | None = None
    for addr, port in infos:
        parsed = parse_ip(addr)
        reason = (
            "unparseable address"
            if parsed is None
            else address_refusal(parsed, allow_private=allow_private, own=own_nets)
        )
        if reason is None:
            allowed.append((str(parsed), port))
        elif first_reason is None:
            first_reason = reason
    if not allowed:
        raise OriginRefused(first_reason or "no address")
    return allowed
