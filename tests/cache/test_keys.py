"""The primary cache key (RFC 9111 §4) under a zone's cache-key settings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.cache.keys import (
    CacheKeySettings,
    CacheLevel,
    QueryMode,
    cache_key,
    cookie_value,
    fast_key,
    key_prefix,
    normalise_percent,
    uri_key,
)

DEFAULT = CacheKeySettings()


@pytest.mark.parametrize(
    ("scheme", "host", "expected"),
    [
        (b"https", b"Example.COM", b"https://example.com"),
        (b"HTTPS", b"example.com:443", b"https://example.com"),
        (b"http", b"example.com:80", b"http://example.com"),
        (b"https", b"example.com:80", b"https://example.com:80"),
        (b"http", b"example.com:8080", b"http://example.com:8080"),
        (b"http", b"example.com:", b"http://example.com"),
        (b"https", b"[::1]:443", b"https://[::1]"),
        (b"https", b"[::1]", b"https://[::1]"),
    ],
    ids=[
        "host-case",
        "https-default-port",
        "http-default-port",
        "other-scheme-port",
        "custom-port",
        "empty-port",
        "ipv6-port",
        "ipv6",
    ],
)
def test_key_prefix(scheme: bytes, host: bytes, expected: bytes) -> None:
    """Scheme and host lower-case, default and empty ports dropped (RFC 3986 §6.2.2.1, §6.2.3)."""
    assert key_prefix(scheme, host) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (b"/a/b?c=d", b"/a/b?c=d"),
        (b"/%7Euser/%61", b"/~user/a"),
        (b"/a%2fb", b"/a%2Fb"),
        (b"/%2D%2E%5F", b"/-._"),
        (b"/100%", b"/100%"),
        (b"/%zz%4", b"/%zz%4"),
        (b"/q?x=%41%26", b"/q?x=A%26"),
        (b"/%25", b"/%25"),
    ],
    ids=[
        "nothing-to-do",
        "unreserved-decoded",
        "reserved-upper-cased",
        "marks",
        "lone-percent",
        "bad-escapes",
        "query-too",
        "percent-itself",
    ],
)
def test_normalise_percent(target: bytes, expected: bytes) -> None:
    """RFC 3986 §6.2.2: unreserved escapes decoded, the rest with upper-case hex, junk untouched."""
    assert normalise_percent(target) == expected


@given(st.binary(max_size=60))
def test_normalise_percent_is_idempotent(target: bytes) -> None:
    """Normalising twice changes nothing more (equivalent URIs meet in one key)."""
    once = normalise_percent(target)
    assert normalise_percent(once) == once


def _key(
    settings: CacheKeySettings, target: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> bytes | None:
    return cache_key(
        settings, scheme=b"https", host=b"Ex.com", target=target, headers=headers or []
    )


@pytest.mark.parametrize(
    ("settings", "target", "expected"),
    [
        (DEFAULT, b"/a?b=1&a=2", b"https://ex.com/a?b=1&a=2"),
        (DEFAULT, b"/%7e", b"https://ex.com/~"),
        (CacheKeySettings(level=CacheLevel.CACHE_EVERYTHING), b"/a?x", b"https://ex.com/a?x"),
        (CacheKeySettings(level=CacheLevel.IGNORE_QUERY), b"/a?b=1", b"https://ex.com/a"),
        (
            CacheKeySettings(level=CacheLevel.IGNORE_QUERY, query=QueryMode.SORTED),
            b"/a?b=1",
            b"https://ex.com/a",
        ),
        (CacheKeySettings(query=QueryMode.NONE), b"/a?b=1", b"https://ex.com/a"),
        (
            CacheKeySettings(query=QueryMode.SORTED),
            b"/a?b=1&a=2&b=0&&a",
            b"https://ex.com/a?a=2&a&b=1&b=0",
        ),
        (CacheKeySettings(query=QueryMode.SORTED), b"/a?", b"https://ex.com/a"),
        (CacheKeySettings(query=QueryMode.SORTED), b"/a", b"https://ex.com/a"),
        (CacheKeySettings(query=QueryMode.SORTED), b"/a?%62=1&a=2", b"https://ex.com/a?a=2&b=1"),
        (
            CacheKeySettings(query=QueryMode.ALLOW, query_allow=frozenset({b"id", b"v"})),
            b"/a?utm=1&v=2&id=3&v=1",
            b"https://ex.com/a?v=2&id=3&v=1",
        ),
        (
            CacheKeySettings(query=QueryMode.ALLOW, query_allow=frozenset({b"id"})),
            b"/a?utm=1",
            b"https://ex.com/a",
        ),
        (CacheKeySettings(query=QueryMode.ALLOW), b"/a?utm=1", b"https://ex.com/a"),
    ],
    ids=[
        "default-as-sent",
        "default-percent",
        "cache-everything-same-key",
        "ignore-query-level",
        "ignore-query-beats-mode",
        "query-none",
        "sorted-stable-duplicates",
        "sorted-empty-query",
        "sorted-no-query",
        "sorted-after-percent-normalising",
        "allow-list-in-sent-order",
        "allow-list-nothing-left",
        "allow-list-empty",
    ],
)
def test_query_handling(settings: CacheKeySettings, target: bytes, expected: bytes) -> None:
    """Cache level and query mode shape the URI part of the key."""
    assert _key(settings, target) == expected


def test_bypass_has_no_key() -> None:
    """Cache level bypass: nothing is looked up or stored."""
    assert _key(CacheKeySettings(level=CacheLevel.BYPASS), b"/a") is None


def test_method_is_not_in_the_key() -> None:
    """GET and HEAD share one key (RFC 9111 §4: HEAD is answered from the stored GET)."""
    assert b"GET" not in (_key(DEFAULT, b"/a") or b"")


@pytest.mark.parametrize(
    ("settings", "headers", "expected"),
    [
        (
            CacheKeySettings(headers=(b"X-Device",)),
            [(b"x-device", b" mobile ")],
            b"https://ex.com/a\nh:x-device=mobile",
        ),
        (CacheKeySettings(headers=(b"x-device",)), [], b"https://ex.com/a\nh:x-device"),
        (
            CacheKeySettings(headers=(b"x-device",)),
            [(b"X-Device", b"")],
            b"https://ex.com/a\nh:x-device=",
        ),
        (
            CacheKeySettings(cookies=(b"lang",)),
            [(b"Cookie", b"a=1; lang=fr; b=2")],
            b"https://ex.com/a\nc:lang=fr",
        ),
        (
            CacheKeySettings(cookies=(b"lang",)),
            [(b"Cookie", b"a=1"), (b"cookie", b"lang=de")],
            b"https://ex.com/a\nc:lang=de",
        ),
        (
            CacheKeySettings(cookies=(b"lang",)),
            [(b"Cookie", b"Lang=fr")],
            b"https://ex.com/a\nc:lang",
        ),
        (
            CacheKeySettings(headers=(b"x-a",), cookies=(b"c",)),
            [(b"X-A", b"1"), (b"Cookie", b"c=2")],
            b"https://ex.com/a\nh:x-a=1\nc:c=2",
        ),
    ],
    ids=[
        "header",
        "header-absent",
        "header-empty",
        "cookie",
        "cookie-second-line",
        "cookie-names-exact",
        "both",
    ],
)
def test_chosen_headers_and_cookies_join_the_key(
    settings: CacheKeySettings, headers: list[tuple[bytes, bytes]], expected: bytes
) -> None:
    """Chosen request headers and cookies follow the URI, absent and empty told apart."""
    assert _key(settings, b"/a", headers) == expected


def test_uri_key_leaves_out_the_extras() -> None:
    """uri_key is the key's URI part: what invalidation and purge-by-URL work on."""
    settings = CacheKeySettings(headers=(b"x-a",), query=QueryMode.NONE)
    key = _key(settings, b"/a?q", [(b"X-A", b"1")])
    uri = uri_key(settings, scheme=b"https", host=b"Ex.com", target=b"/a?q")
    assert uri == b"https://ex.com/a" and key is not None and key.startswith(uri + b"\n")


@pytest.mark.parametrize(
    "target",
    [b"/", b"/a/b?c=d&e", b"/%7Ex%2f", b"/a?b=%zz"],
    ids=["root", "query", "escapes", "bad-escape"],
)
def test_fast_path_equals_the_general_key(target: bytes) -> None:
    """Default settings: prefix computed once plus the target gives the same key."""
    assert DEFAULT.is_default
    assert fast_key(key_prefix(b"https", b"Ex.com:443"), target) == _key(DEFAULT, target)


@pytest.mark.parametrize(
    "settings",
    [
        CacheKeySettings(level=CacheLevel.IGNORE_QUERY),
        CacheKeySettings(query=QueryMode.SORTED),
        CacheKeySettings(headers=(b"x",)),
        CacheKeySettings(cookies=(b"x",)),
    ],
    ids=["ignore-query", "sorted", "headers", "cookies"],
)
def test_non_default_settings_are_not_default(settings: CacheKeySettings) -> None:
    """Only the plain settings take the fast path."""
    assert not settings.is_default


def test_cookie_value() -> None:
    """Cookie pairs split on ';' with whitespace trimmed (RFC 6265 §5.4); first one wins."""
    headers = [(b"Cookie", b"a=1;b= 2 ; a=3; flag")]
    assert cookie_value(headers, b"a") == b"1"
    assert cookie_value(headers, b"b") == b"2"
    assert cookie_value(headers, b"flag") is None
