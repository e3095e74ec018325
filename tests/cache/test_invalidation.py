"""Invalidation after unsafe methods (RFC 9111 §4.4) and purge matching."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.cache.invalidation import (
    PurgeIndex,
    PurgeKind,
    PurgeOutcome,
    PurgeRule,
    StoredObject,
    invalidates,
    invalidation_keys,
    parse_cache_tags,
    parse_prefix,
    prefix_matches,
    purge_url_key,
)
from veil.cache.keys import CacheKeySettings, QueryMode
from veil.cache.vary import variant_key

DEFAULT = CacheKeySettings()


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        (b"POST", 200, True),
        (b"PUT", 201, True),
        (b"DELETE", 204, True),
        (b"PATCH", 302, True),
        (b"FROB", 200, True),
        (b"POST", 404, False),
        (b"POST", 500, False),
        (b"POST", 100, False),
        (b"GET", 200, False),
        (b"HEAD", 200, False),
        (b"OPTIONS", 200, False),
        (b"PROPFIND", 207, False),
        (b"get", 200, True),
    ],
    ids=[
        "post",
        "put",
        "delete",
        "patch-redirect",
        "unknown-method",
        "client-error",
        "server-error",
        "interim",
        "get",
        "head",
        "options",
        "propfind-safe",
        "methods-case-sensitive",
    ],
)
def test_invalidates(method: bytes, status: int, expected: bool) -> None:
    """§4.4: unsafe (or unknown) methods with a 2xx/3xx answer invalidate; errors do not."""
    assert invalidates(method, status) is expected


def _keys(
    headers: list[tuple[bytes, bytes]], *, status: int = 201, settings: CacheKeySettings = DEFAULT
) -> list[bytes]:
    return invalidation_keys(
        settings,
        method=b"POST",
        status=status,
        scheme=b"https",
        host=b"Shop.Test",
        target=b"/cart/items?x=1",
        response_headers=headers,
    )


TARGET = b"https://shop.test/cart/items?x=1"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], [TARGET]),
        ([(b"Location", b"/cart/items/7")], [TARGET, b"https://shop.test/cart/items/7"]),
        ([(b"Location", b"7")], [TARGET, b"https://shop.test/cart/7"]),
        ([(b"Location", b"../list")], [TARGET, b"https://shop.test/list"]),
        ([(b"location", b"https://SHOP.test:443/a")], [TARGET, b"https://shop.test/a"]),
        (
            [(b"Content-Location", b"/cart/items/%7e7?y")],
            [TARGET, b"https://shop.test/cart/items/~7?y"],
        ),
        ([(b"Location", b"/a"), (b"Content-Location", b"/a")], [TARGET, b"https://shop.test/a"]),
        ([(b"Location", b"https://evil.test/cart")], [TARGET]),
        ([(b"Location", b"http://shop.test/cart")], [TARGET]),
        ([(b"Location", b"https://shop.test:8443/cart")], [TARGET]),
        ([(b"Location", b"//evil.test/x")], [TARGET]),
        ([(b"Location", b"https://user@shop.test/x")], [TARGET]),
        ([(b"Location", b"https://[::1/x")], [TARGET]),
        ([(b"Location", b"/a#frag")], [TARGET, b"https://shop.test/a"]),
    ],
    ids=[
        "target-only",
        "absolute-path",
        "relative",
        "dot-segments",
        "absolute-same-origin",
        "content-location",
        "deduplicated",
        "other-host",
        "other-scheme",
        "other-port",
        "network-path-other-host",
        "userinfo",
        "broken-authority",
        "fragment-dropped",
    ],
)
def test_invalidation_keys(headers: list[tuple[bytes, bytes]], expected: list[bytes]) -> None:
    """§4.4: the target URI plus same-origin Location/Content-Location, resolved and normalised."""
    assert _keys(headers) == expected


def test_no_invalidation_after_an_error() -> None:
    """A 4xx to an unsafe method invalidates nothing."""
    assert _keys([(b"Location", b"/a")], status=409) == []


def test_invalidation_keys_follow_the_zone_key_settings() -> None:
    """With the query dropped from keys, invalidating /cart/items?x=1 drops /cart/items."""
    assert _keys([], settings=CacheKeySettings(query=QueryMode.NONE)) == [
        b"https://shop.test/cart/items"
    ]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"Cache-Tag", b"a,B , c")], {b"a", b"b", b"c"}),
        ([(b"cache-tag", b"a"), (b"Cache-Tag", b"b")], {b"a", b"b"}),
        ([(b"Surrogate-Key", b"x  Y\tz")], {b"x", b"y", b"z"}),
        ([(b"Cache-Tag", b"a, ,"), (b"Surrogate-Key", b" ")], {b"a"}),
        ([(b"Cache-Tag", b"two words")], {b"two words"}),
        ([(b"Cache-Tag", b"ok," + b"x" * 1025)], {b"ok"}),
        ([(b"Cache-Tag", b"a"), (b"Surrogate-Key", b"A b")], {b"a", b"b"}),
        ([], set()),
    ],
    ids=[
        "comma-list",
        "several-lines",
        "surrogate-spaces",
        "empties",
        "space-inside-cache-tag",
        "over-long-dropped",
        "union",
        "none",
    ],
)
def test_parse_cache_tags(headers: list[tuple[bytes, bytes]], expected: set[bytes]) -> None:
    """Cache-Tag is comma-separated, Surrogate-Key space-separated; tags compare in any case."""
    assert parse_cache_tags(headers) == expected


@given(
    st.lists(
        st.tuples(st.sampled_from([b"Cache-Tag", b"Surrogate-Key", b"X"]), st.binary(max_size=40)),
        max_size=4,
    )
)
def test_parse_cache_tags_never_raises(headers: list[tuple[bytes, bytes]]) -> None:
    """Any field values give a set of non-empty, lower-case tags."""
    tags = parse_cache_tags(headers)
    assert all(t and t == t.lower() for t in tags)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (b"www.example.com/foo", (b"www.example.com", b"/foo")),
        (b"WWW.example.com/Foo/", (b"www.example.com", b"/Foo/")),
        (b"www.example.com", (b"www.example.com", b"/")),
        (b"www.example.com/", (b"www.example.com", b"/")),
        (b"https://www.example.com/foo", None),
        (b"www.example.com/foo?a=b", None),
        (b"www.example.com/foo#bar", None),
        (b"/foo", None),
        (b"", None),
    ],
    ids=[
        "host-path",
        "host-lowered-path-kept",
        "host-only",
        "host-slash",
        "scheme",
        "query",
        "fragment",
        "no-host",
        "empty",
    ],
)
def test_parse_prefix(prefix: bytes, expected: tuple[bytes, bytes] | None) -> None:
    """Cloudflare prefixes are host/path, no scheme, query or fragment."""
    assert parse_prefix(prefix) == expected


@pytest.mark.parametrize(
    ("rule", "path", "expected"),
    [
        (b"/foo", b"/foo", True),
        (b"/foo", b"/foo/bar", True),
        (b"/foo", b"/foobar", False),
        (b"/foo/", b"/foo/bar", True),
        (b"/foo/", b"/foo", False),
        (b"/", b"/anything", True),
        (b"/foo/bar", b"/foo", False),
    ],
    ids=[
        "exact",
        "below",
        "not-a-boundary",
        "slash-rule",
        "slash-rule-not-parent",
        "root",
        "deeper-rule",
    ],
)
def test_prefix_matches_at_path_boundaries(rule: bytes, path: bytes, expected: bool) -> None:
    """A prefix covers its path and what lies below it, never a sibling sharing its letters."""
    assert prefix_matches(rule, path) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (b"https://Www.Example.com/css/a.css", b"https://www.example.com/css/a.css"),
        (b"http://example.com:80/a?b=1", b"http://example.com/a?b=1"),
        (b"https://example.com", b"https://example.com/"),
        (b"example.com/a", None),
        (b"ftp://example.com/a", None),
        (b"https://[::1/a", None),
    ],
    ids=["normalised", "default-port", "no-path", "no-scheme", "other-scheme", "broken"],
)
def test_purge_url_key(url: bytes, expected: bytes | None) -> None:
    """Purge URLs map to the same URI keys the cache stores under."""
    assert purge_url_key(url, DEFAULT) == expected


AE = (b"accept-encoding",)
OBJ = StoredObject(
    zone="z1",
    url=b"https://www.example.com/img/cat.jpg?s=1",
    host=b"www.example.com",
    path=b"/img/cat.jpg",
    stored_at=100.0,
    tags=frozenset({b"cats", b"images"}),
    vary=AE,
    variant=variant_key(AE, [(b"Accept-Encoding", b"gzip")]),
)


def _rule(
    kind: PurgeKind,
    value: bytes,
    at: float = 200.0,
    soft: bool = False,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> PurgeRule:
    return PurgeRule(kind=kind, value=value, issued_at=at, soft=soft, headers=headers)


PURGED, SOFT, NONE = PurgeOutcome.PURGED, PurgeOutcome.SOFT_PURGED, PurgeOutcome.NONE


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([], NONE),
        ([_rule(PurgeKind.EVERYTHING, b"")], PURGED),
        ([_rule(PurgeKind.URL, OBJ.url)], PURGED),
        ([_rule(PurgeKind.URL, b"https://www.example.com/img/cat.jpg")], NONE),
        ([_rule(PurgeKind.HOST, b"WWW.example.com")], PURGED),
        ([_rule(PurgeKind.HOST, b"example.com")], NONE),
        ([_rule(PurgeKind.TAG, b"Cats")], PURGED),
        ([_rule(PurgeKind.TAG, b"dogs")], NONE),
        ([_rule(PurgeKind.PREFIX, b"www.example.com/img")], PURGED),
        ([_rule(PurgeKind.PREFIX, b"www.example.com")], PURGED),
        ([_rule(PurgeKind.PREFIX, b"www.example.com/im")], NONE),
        ([_rule(PurgeKind.PREFIX, b"img.example.com/img")], NONE),
        (
            [_rule(PurgeKind.URL, OBJ.url, headers=((b"Accept-Encoding", b"gzip, deflate"),))],
            PURGED,
        ),
        ([_rule(PurgeKind.URL, OBJ.url, headers=((b"Accept-Encoding", b"br"),))], NONE),
        ([_rule(PurgeKind.EVERYTHING, b"", at=50.0)], NONE),
        ([_rule(PurgeKind.EVERYTHING, b"", at=100.0)], PURGED),
        ([_rule(PurgeKind.TAG, b"cats", soft=True)], SOFT),
        (
            [_rule(PurgeKind.TAG, b"cats", soft=True), _rule(PurgeKind.HOST, b"www.example.com")],
            PURGED,
        ),
        (
            [
                _rule(PurgeKind.TAG, b"cats", soft=True),
                _rule(PurgeKind.HOST, b"www.example.com", at=50.0),
            ],
            SOFT,
        ),
        ([_rule(PurgeKind.TAG, b"cats", at=50.0), _rule(PurgeKind.TAG, b"cats", at=150.0)], PURGED),
    ],
    ids=[
        "no-rules",
        "everything",
        "url",
        "other-url",
        "host-any-case",
        "parent-domain-is-another-host",
        "tag-any-case",
        "other-tag",
        "prefix",
        "prefix-whole-host",
        "prefix-not-at-boundary",
        "prefix-other-host",
        "url-variant",
        "url-other-variant",
        "rule-older-than-object",
        "rule-at-store-time",
        "soft",
        "hard-beats-soft",
        "old-hard-new-soft",
        "latest-rule-counts",
    ],
)
def test_purge_check(rules: list[PurgeRule], expected: PurgeOutcome) -> None:
    """An object stored at or before a matching rule is purged (or stale, for a soft rule)."""
    index = PurgeIndex()
    for rule in rules:
        index.add("z1", rule)
    assert index.check(OBJ) is expected


def test_purges_are_per_zone() -> None:
    """A rule in one zone never touches another zone's objects."""
    index = PurgeIndex()
    index.add("z2", _rule(PurgeKind.EVERYTHING, b""))
    assert index.check(OBJ) is NONE


def test_bad_prefix_rule_is_refused() -> None:
    """A prefix with a scheme or query is a caller error, not a silent no-op."""
    with pytest.raises(ValueError):
        PurgeIndex().add("z1", _rule(PurgeKind.PREFIX, b"https://www.example.com/a"))


def test_prune_forgets_rules_no_object_predates() -> None:
    """prune(before) drops rules issued before `before` and keeps newer ones working."""
    index = PurgeIndex()
    index.add("z1", _rule(PurgeKind.TAG, b"cats", at=50.0))
    index.add("z1", _rule(PurgeKind.PREFIX, b"www.example.com/img", at=50.0))
    index.add(
        "z1", _rule(PurgeKind.URL, OBJ.url, at=50.0, headers=((b"Accept-Encoding", b"gzip"),))
    )
    index.add("z1", _rule(PurgeKind.HOST, b"www.example.com", at=150.0, soft=True))
    index.add("z2", _rule(PurgeKind.EVERYTHING, b"", at=10.0))
    index.prune(100.0)
    old = StoredObject(
        zone="z1", url=OBJ.url, host=OBJ.host, path=OBJ.path, stored_at=40.0, tags=OBJ.tags
    )
    assert index.check(old) is SOFT  # only the host rule is left
    assert index.check(StoredObject(zone="z2", url=b"", host=b"", path=b"/", stored_at=1.0)) is NONE
