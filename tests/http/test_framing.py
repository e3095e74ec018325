"""Tier (a): the pure request-head checks of veil.http.framing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.http.framing import (
    ABSOLUTE_HOST_MISMATCH,
    BAD_HOST,
    BAD_TARGET,
    BAD_VERSION,
    DUPLICATE_HOST,
    HOST_USERINFO,
    HTTP09,
    MISSING_HOST,
    TE_ON_HTTP10,
    Rejection,
    check_request_head,
    split_absolute_target,
    split_host,
)


@pytest.mark.parametrize(
    ("version", "hosts", "target", "te", "expected"),
    [
        ("0.9", [], b"/", False, HTTP09),
        ("2.0", [b"a.test"], b"/", False, BAD_VERSION),
        ("1.0", [b"a.test"], b"/", True, TE_ON_HTTP10),
        ("1.1", [], b"/", False, MISSING_HOST),
        ("1.1", [b"a.test", b"a.test"], b"/", False, DUPLICATE_HOST),
        ("1.1", [b"u@a.test"], b"/", False, HOST_USERINFO),
        ("1.1", [b"a.test"], b"http://b.test/x", False, ABSOLUTE_HOST_MISMATCH),
        ("1.1", [b"a.test"], b"http://u@a.test/x", False, HOST_USERINFO),
        ("1.1", [b"a.test"], b"a.test:443", False, BAD_TARGET),
        ("1.1", [b"a test"], b"/", False, BAD_HOST),
        ("1.1", [b"a.test:99999"], b"/", False, BAD_HOST),
        ("1.1", [b"A.Test:8080"], b"/p?q", False, ("a.test", 8080, b"/p?q")),
        ("1.1", [b"a.test"], b"HTTP://A.test/x?y", False, ("a.test", None, b"/x?y")),
        ("1.1", [b"a.test"], b"http://a.test?y", False, ("a.test", None, b"/?y")),
        ("1.0", [b"a.test"], b"/", False, ("a.test", None, b"/")),
        ("1.1", [b"[::1]:80"], b"/", False, ("[::1]", 80, b"/")),
        ("1.1", [b"a.test"], b"*", False, ("a.test", None, b"*")),
    ],
)
def test_check_request_head(
    version: str, hosts: list[bytes], target: bytes, te: bool, expected: object
) -> None:
    """Each head is refused with the named reason or accepted as (host, port, target)."""
    result = check_request_head(
        version=version, hosts=hosts, target=target, has_transfer_encoding=te
    )
    assert result == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"example.com", ("example.com", None)),
        (b"example.com.", ("example.com", None)),
        (b"EXAMPLE.com:8080", ("example.com", 8080)),
        (b"[2001:db8::1]", ("[2001:db8::1]", None)),
        (b"[2001:db8::1]x", None),
        (b"", None),
        (b":80", None),
        (b"a:b", None),
        (b"a\x00b", None),
        (b"ex[ample", None),
    ],
)
def test_split_host(value: bytes, expected: object) -> None:
    """Host values parse to (lower-case name, port) or are rejected."""
    assert split_host(value) == expected


def test_split_absolute_target_only_for_http_schemes() -> None:
    """Only http(s) absolute-form targets are split; others are not absolute-form for us."""
    assert split_absolute_target(b"https://a.test:1/x") == (b"a.test:1", b"/x")
    assert split_absolute_target(b"ftp://a.test/x") is None


@given(st.binary(max_size=64))
def test_split_host_never_raises(value: bytes) -> None:
    """Any bytes give a parsed host or None, never an exception."""
    parsed = split_host(value)
    assert parsed is None or parsed[0] == parsed[0].lower()


@given(
    st.sampled_from(["0.9", "1.0", "1.1", "2.0"]),
    st.lists(st.binary(max_size=20), max_size=3),
    st.binary(max_size=40),
    st.booleans(),
)
def test_check_request_head_total(
    version: str, hosts: list[bytes], target: bytes, te: bool
) -> None:
    """The decision is total: a Rejection or an origin-form/asterisk target, never a crash."""
    result = check_request_head(
        version=version, hosts=hosts, target=target, has_transfer_encoding=te
    )
    if not isinstance(result, Rejection):
        assert result[2].startswith(b"/") or result[2] == b"*"


@given(st.binary(min_size=0, max_size=40))
def test_memoised_hosts_decide_like_a_fresh_check(host: bytes) -> None:
    """The plain-host memo never changes a verdict: asking twice gives the same answer, and
    the answer for a host is the same as for a mixed-case copy seen first."""
    first = check_request_head(
        version="1.1", hosts=[host], target=b"/", has_transfer_encoding=False
    )
    again = check_request_head(
        version="1.1", hosts=[host], target=b"/", has_transfer_encoding=False
    )
    assert first == again
    upper = host.upper()
    check_request_head(version="1.1", hosts=[upper], target=b"/", has_transfer_encoding=False)
    assert check_request_head(
        version="1.1", hosts=[host], target=b"/x", has_transfer_encoding=False
    ) == (first if isinstance(first, Rejection) else (first[0], first[1], b"/x"))
