"""Zone and record name rules, record contents and TTLs (pure)."""

from __future__ import annotations

import pytest

from veil.control.names import (
    InvalidName,
    check_ttl,
    normalize_content,
    normalize_record_name,
    normalize_zone_name,
)
from veil.control.records import OriginPolicy, RecordRefused, RecordSpec, build_record


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", "example.com"),
        ("Example.COM.", "example.com"),
        ("  shop.example.co.uk ", "shop.example.co.uk"),
        ("demo.localhost", "demo.localhost"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("例え.jp", "xn--r8jz45g.jp"),
        ("a-b.xn--p1ai", "a-b.xn--p1ai"),
    ],
)
def test_valid_zone_names_are_normalised(raw: str, expected: str) -> None:
    """Zone names are IDNA-encoded, lower-cased, without the trailing dot."""
    assert normalize_zone_name(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "com",
        "localhost",
        "-bad.com",
        "bad-.com",
        "ex ample.com",
        "exa_mple.com",
        "*.example.com",
        "1.2.3.4",
        "example.123",
        "a..com",
        ("a" * 64) + ".com",
        ".".join(["abcdefghi"] * 30) + ".com",
        "example.com/path",
        "http://example.com",
    ],
)
def test_invalid_zone_names_are_refused(raw: str) -> None:
    """Single labels, bad labels, IPs, wildcards and over-long names are not zones."""
    with pytest.raises(InvalidName):
        normalize_zone_name(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@", "example.com"),
        ("example.com", "example.com"),
        ("WWW.example.com.", "www.example.com"),
        ("www", "www.example.com"),
        ("_dmarc", "_dmarc.example.com"),
        ("*", "*.example.com"),
        ("*.api", "*.api.example.com"),
        ("www.other.org", "www.other.org.example.com"),
    ],
)
def test_record_names_land_inside_the_zone(raw: str, expected: str) -> None:
    """@ is the apex; relative names get the zone appended, as Cloudflare does."""
    assert normalize_record_name(raw, zone_name="example.com") == expected


@pytest.mark.parametrize("raw", ["a.*.example.com", "bad name", "-x", "x" * 64])
def test_invalid_record_names_are_refused(raw: str) -> None:
    """Wildcards only leftmost; labels must be valid."""
    with pytest.raises(InvalidName):
        normalize_record_name(raw, zone_name="example.com")


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        ("A", "192.0.2.1", "192.0.2.1"),
        ("AAAA", "2001:DB8:0:0::1", "2001:db8::1"),
        ("CNAME", "Origin.Example.net.", "origin.example.net"),
        ("MX", "mail.example.com", "mail.example.com"),
        ("TXT", "v=spf1 -all", "v=spf1 -all"),
        ("NS", "ns1.example.net", "ns1.example.net"),
    ],
)
def test_valid_contents(kind: str, content: str, expected: str) -> None:
    """A is IPv4, AAAA is IPv6 (compressed), name types are host names."""
    assert normalize_content(kind, content) == expected


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("A", "::1"),
        ("A", "256.1.1.1"),
        ("A", "010.0.0.1"),
        ("A", "example.com"),
        ("AAAA", "192.0.2.1"),
        ("AAAA", "2001:db8::zz"),
        ("CNAME", "192.0.2.1"),
        ("CNAME", "bad host"),
        ("MX", "::1"),
        ("TXT", "x" * 2049),
    ],
)
def test_invalid_contents(kind: str, content: str) -> None:
    """Content that does not fit the record type is refused."""
    with pytest.raises(InvalidName):
        normalize_content(kind, content)


@pytest.mark.parametrize(
    ("ttl", "proxied", "expected"),
    [(1, False, 1), (30, False, 30), (86400, False, 86400), (3600, True, 1)],
)
def test_ttl_rules(ttl: int, proxied: bool, expected: int) -> None:
    """TTL 1 means automatic; proxied records are always automatic."""
    assert check_ttl(ttl, proxied=proxied) == expected


@pytest.mark.parametrize("ttl", [0, 2, 29, 86401])
def test_ttl_out_of_range(ttl: int) -> None:
    """TTLs other than 1 must be 30..86400."""
    with pytest.raises(InvalidName):
        check_ttl(ttl, proxied=False)


def _record(**overrides: object) -> RecordSpec:
    fields: dict[str, object] = {
        "type": "A",
        "name": "www",
        "content": "8.8.8.8",
        "ttl": 1,
        "proxied": True,
        "priority": None,
        "comment": None,
        "zone_name": "example.com",
        "policy": OriginPolicy(),
    }
    fields.update(overrides)
    return build_record(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"type": "TXT", "content": "hello"}, 9004),
        ({"content": "127.0.0.1"}, 9021),
        ({"content": "10.1.2.3"}, 9021),
        ({"content": "169.254.169.254"}, 9021),
        ({"type": "CNAME", "content": "localhost"}, 9021),
        ({"type": "AAAA", "content": "::ffff:127.0.0.1"}, 9021),
        (
            {
                "content": "203.0.113.7",
                "policy": OriginPolicy.from_addresses(
                    allow_private=True, addresses=["203.0.113.7"]
                ),
            },
            9021,
        ),
        ({"type": "MX", "content": "mail.example.com", "proxied": False}, 1004),
        ({"content": "not-an-ip"}, 1004),
    ],
)
def test_record_refusals(overrides: dict[str, object], code: int) -> None:
    """Unproxiable types, SSRF targets and invalid records are refused with a code."""
    with pytest.raises(RecordRefused) as info:
        _record(**overrides)
    assert info.value.code == code


def test_private_origins_allowed_when_the_operator_says_so() -> None:
    """--allow-private-origins lifts the range checks (but never the edge's own addresses)."""
    policy = OriginPolicy(allow_private=True)
    spec = _record(content="127.0.0.1", policy=policy)
    assert spec.content == "127.0.0.1"


def test_ssrf_refusal_does_not_echo_the_address() -> None:
    """The message names the kind of range, not the address."""
    with pytest.raises(RecordRefused) as info:
        _record(content="10.9.8.7")
    assert "10.9.8.7" not in info.value.message
