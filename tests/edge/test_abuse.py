"""Tier (a): the edge's pure abuse matching (veil.edge.abuse), as tables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.edge.abuse import (
    PASS_SECONDS,
    build_index,
    candidates,
    cookies,
    in_force,
    match_key,
    pass_valid,
    sign_pass,
    visitor_keys,
)
from veil.snapshot import AbuseBlock

T = 1_800_000_000.0
BLOCK = AbuseBlock(id="b1", kind="legal_block", targets=("https://site.test/banned",))
QUERIED = AbuseBlock(id="b2", kind="legal_block", targets=("http://site.test/watch?v=abc",))
GEO = AbuseBlock(
    id="g1", kind="legal_block", targets=("https://site.test/geo",), countries=("DE", "FR")
)
PENDING = AbuseBlock(
    id="p1", kind="legal_block", targets=("https://site.test/later",), effective_at=T + 60
)
PHISH = AbuseBlock(id="f1", kind="phishing_interstitial", targets=("https://site.test/login",))
SUSPEND = AbuseBlock(id="s1", kind="account_suspend")
INDEX = build_index([BLOCK, QUERIED, GEO, PENDING, PHISH])


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://Site.Test/banned", "site.test/banned"),
        ("http://site.test:80/a/./b/../c?", "site.test/a/c"),
        ("https://site.test:8443/x?q=1#frag", "site.test/x?q=1"),
        ("https://site.test/%7euser/%2f", "site.test/~user/%2F"),
        ("ftp://site.test/x", None),
    ],
)
def test_match_key_drops_scheme_and_port(url: str, key: str | None) -> None:
    """A match key is the canonical URL without scheme and port (http and https are one)."""
    assert match_key(url) == key


@pytest.mark.parametrize(
    ("host", "target", "keys"),
    [
        ("site.test", b"/banned", ("site.test/banned",)),
        ("site.test", b"/banned?x=1", ("site.test/banned?x=1", "site.test/banned")),
        ("site.test", b"/a/../banned", ("site.test/banned",)),
        ("site.test", b"/%62anned", ("site.test/banned",)),
        ("site.test", b"http://site.test/banned", ("site.test/banned",)),
        ("site.test", b"*", ()),
        ("site.test", b"/caf\xc3\xa9", ("site.test/caf%C3%A9",)),
    ],
)
def test_visitor_keys(host: str, target: bytes, keys: tuple[str, ...]) -> None:
    """A request's keys: its canonical URL, and without the query when it has one."""
    assert visitor_keys(host, target) == keys


@pytest.mark.parametrize(
    ("host", "target", "ids"),
    [
        ("site.test", b"/banned", ["b1"]),
        ("site.test", b"/banned?cachebust=1", ["b1"]),  # a query does not walk around a block
        ("site.test", b"/Banned", []),  # paths are case-sensitive (RFC 3986 §6.2.2.1)
        ("other.test", b"/banned", []),
        ("site.test", b"/watch?v=abc", ["b2"]),
        ("site.test", b"/watch?v=xyz", []),  # a target with a query covers that query only
        ("site.test", b"/watch", []),
        ("site.test", b"/banned/", []),
    ],
)
def test_candidates_by_url(host: str, target: bytes, ids: list[str]) -> None:
    """Only the named URLs match: one dict lookup (two with a query)."""
    found = candidates(INDEX, visitor_keys(host, target))
    assert [b.id for b in found] == ids


def test_suspension_covers_every_url() -> None:
    """An account suspension matches any URL of the zone."""
    index = build_index([SUSPEND, BLOCK])
    assert [b.id for b in candidates(index, visitor_keys("site.test", b"/anything"))] == ["s1"]
    assert {b.id for b in candidates(index, visitor_keys("site.test", b"/banned"))} == {"s1", "b1"}


@pytest.mark.parametrize(
    ("blocks", "now", "country", "geo_known", "passed", "expected"),
    [
        ([BLOCK], T, None, True, frozenset(), "b1"),
        ([PENDING], T + 59.9, None, True, frozenset(), None),  # not yet
        ([PENDING], T + 60, None, True, frozenset(), "p1"),  # from its date on, by itself
        ([GEO], T, "DE", True, frozenset(), "g1"),
        ([GEO], T, "US", True, frozenset(), None),
        ([GEO], T, None, True, frozenset(), None),  # unknown country: the order names countries
        ([GEO], T, None, False, frozenset(), "g1"),  # no country source at all: fail closed
        ([PHISH], T, None, True, frozenset(), "f1"),
        ([PHISH], T, None, True, frozenset({"f1"}), None),  # clicked through
        ([PHISH, BLOCK], T, None, True, frozenset({"f1"}), "b1"),
        ([PHISH, BLOCK, SUSPEND], T, None, True, frozenset(), "s1"),  # strongest wins
        ([BLOCK, PHISH], T, None, True, frozenset(), "b1"),
    ],
)
def test_in_force(
    blocks: list[AbuseBlock],
    now: float,
    country: str | None,
    geo_known: bool,
    passed: frozenset[str],
    expected: str | None,
) -> None:
    """Time, country and click-through decide; suspension > legal block > interstitial."""
    block = in_force(blocks, now=now, country=country, geo_known=geo_known, passed=passed)
    assert (block.id if block else None) == expected


def test_pass_cookie_is_bound_to_host_block_and_time() -> None:
    """A pass is valid only for its host and block, before its expiry, with the right key."""
    key = b"k" * 32
    value = sign_pass(key, host="site.test", block_id="f1", expires=int(T) + 100)
    assert pass_valid(key, value, host="site.test", block_id="f1", now=T)
    assert not pass_valid(key, value, host="other.test", block_id="f1", now=T)
    assert not pass_valid(key, value, host="site.test", block_id="f2", now=T)
    assert not pass_valid(key, value, host="site.test", block_id="f1", now=T + 100)
    assert not pass_valid(b"x" * 32, value, host="site.test", block_id="f1", now=T)
    far = sign_pass(key, host="site.test", block_id="f1", expires=int(T) + PASS_SECONDS + 10)
    assert not pass_valid(key, far, host="site.test", block_id="f1", now=T)  # too long-lived
    for junk in ("", "abc", "1.2", f"{int(T) + 100}.", "-5.aa"):
        assert not pass_valid(key, junk, host="site.test", block_id="f1", now=T)


def test_cookie_parsing() -> None:
    """Cookie fields split into name/value pairs; the first of a name wins."""
    assert cookies([b'a=1; b="2"', b"a=3;c"]) == {"a": "1", "b": "2"}


@given(
    st.text(alphabet="abAB0937DEFe-._~!$&'()*+,;=:@/?%#. é", max_size=30),
    st.sampled_from(["site.test", "xn--bcher-kva.example", "127.0.0.1", "a_b.test"]),
)
def test_fast_path_agrees_with_normalise_url(path: str, host: str) -> None:
    """The shortcut for already-canonical targets gives exactly normalise_url's key."""
    target = "/" + path
    expected = match_key("http://" + host + target)
    keys = visitor_keys(host, target.encode())
    if expected is None:
        assert keys == ()
    else:
        assert keys[0] == expected
