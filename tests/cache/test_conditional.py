"""Conditional requests against a stored response (RFC 9110 §13, RFC 9111 §4.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.cache.conditional import (
    Precondition,
    evaluate_preconditions,
    if_range_holds,
    merge_not_modified,
    not_modified_applies,
    not_modified_headers,
    parse_etag,
    parse_etags,
    strong_match,
    validators_for_revalidation,
    weak_match,
)
from veil.http.dates import format_http_date

T0 = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT
LM = format_http_date(T0)
BEFORE = format_http_date(T0 - 3600)
AFTER = format_http_date(T0 + 3600)
DATE = format_http_date(T0 + 600)

STORED = [
    (b"Date", DATE),
    (b"ETag", b'"v1"'),
    (b"Last-Modified", LM),
    (b"Content-Type", b"text/plain"),
]
STORED_WEAK = [(b"Date", DATE), (b"ETag", b'W/"v1"'), (b"Last-Modified", LM)]
STORED_NO_VALIDATORS = [(b"Date", DATE), (b"Content-Type", b"text/plain")]

P, NM, PF = Precondition.PROCEED, Precondition.NOT_MODIFIED, Precondition.PRECONDITION_FAILED


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b'"abc"', [(False, b"abc")]),
        (b'W/"abc"', [(True, b"abc")]),
        (b'"a", W/"b" ,"c"', [(False, b"a"), (True, b"b"), (False, b"c")]),
        (b'"a,b"', [(False, b"a,b")]),
        (b'""', [(False, b"")]),
        (b', ,"a",,', [(False, b"a")]),
        (b"abc", [(False, b"abc")]),
        (b"", []),
        (b'"abc', None),
        (b'"a"b', None),
        (b"W/", None),
        (b'ab"c', None),
    ],
    ids=[
        "strong",
        "weak",
        "list-with-ows",
        "comma-inside-tag",
        "empty-tag",
        "empty-members",
        "unquoted-lenient",
        "empty",
        "unterminated",
        "junk-after-tag",
        "bare-weak-prefix",
        "quote-inside-unquoted",
    ],
)
def test_parse_etags(value: bytes, expected: list[tuple[bool, bytes]] | None) -> None:
    """ETag lists parse per RFC 9110 §8.8.3, commas inside quotes included; junk is None."""
    assert parse_etags(value) == expected


@given(st.binary(max_size=200))
def test_parse_etags_never_raises(value: bytes) -> None:
    """Any bytes give a list of tags or None, never an exception."""
    result = parse_etags(value)
    assert result is None or all(isinstance(w, bool) for w, _ in result)


@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=12).filter(lambda b: b'"' not in b))))
def test_parse_etags_round_trips(tags: list[tuple[bool, bytes]]) -> None:
    """A list of quoted tags written out parses back to the same tags."""
    value = b", ".join((b"W/" if w else b"") + b'"' + t + b'"' for w, t in tags)
    assert parse_etags(value) == tags


@pytest.mark.parametrize(
    ("a", "b", "weak", "strong"),
    [
        (b'W/"1"', b'W/"1"', True, False),
        (b'W/"1"', b'W/"2"', False, False),
        (b'W/"1"', b'"1"', True, False),
        (b'"1"', b'"1"', True, True),
    ],
    ids=["both-weak", "different", "weak-vs-strong", "both-strong"],
)
def test_comparison_table_of_rfc_9110(a: bytes, b: bytes, weak: bool, strong: bool) -> None:
    """The example table of RFC 9110 §8.8.3.2, both functions."""
    ta, tb = parse_etag(a), parse_etag(b)
    assert ta is not None and tb is not None
    assert weak_match(ta, tb) is weak
    assert strong_match(ta, tb) is strong


@pytest.mark.parametrize(
    ("method", "request_headers", "stored", "expected"),
    [
        ("GET", [], STORED, P),
        ("GET", [(b"If-None-Match", b'"v1"')], STORED, NM),
        ("HEAD", [(b"If-None-Match", b'"v1"')], STORED, NM),
        ("GET", [(b"If-None-Match", b'W/"v1"')], STORED, NM),
        ("GET", [(b"If-None-Match", b'"v1"')], STORED_WEAK, NM),
        ("GET", [(b"If-None-Match", b'"x", "v1"')], STORED, NM),
        ("GET", [(b"If-None-Match", b'"x"'), (b"if-none-match", b'"v1"')], STORED, NM),
        ("GET", [(b"If-None-Match", b'"x"')], STORED, P),
        ("GET", [(b"If-None-Match", b"*")], STORED, NM),
        ("GET", [(b"If-None-Match", b"*")], STORED_NO_VALIDATORS, NM),
        ("GET", [(b"If-None-Match", b'"v1"')], STORED_NO_VALIDATORS, P),
        ("GET", [(b"If-None-Match", b'"v1')], STORED, P),
        ("POST", [(b"If-None-Match", b'"v1"')], STORED, PF),
        ("GET", [(b"If-None-Match", b'"x"'), (b"If-Modified-Since", AFTER)], STORED, P),
        ("GET", [(b"If-Modified-Since", LM)], STORED, NM),
        ("GET", [(b"If-Modified-Since", AFTER)], STORED, NM),
        ("GET", [(b"If-Modified-Since", BEFORE)], STORED, P),
        ("GET", [(b"If-Modified-Since", b"yesterday")], STORED, P),
        ("GET", [(b"If-Modified-Since", AFTER), (b"If-Modified-Since", AFTER)], STORED, P),
        ("POST", [(b"If-Modified-Since", AFTER)], STORED, P),
        ("GET", [(b"If-Modified-Since", LM)], STORED_NO_VALIDATORS, P),
        ("GET", [(b"If-Modified-Since", DATE)], STORED_NO_VALIDATORS, NM),
        ("GET", [(b"If-Match", b'"v1"')], STORED, P),
        ("GET", [(b"If-Match", b'"x", "v1"')], STORED, P),
        ("GET", [(b"If-Match", b'"x"')], STORED, PF),
        ("GET", [(b"If-Match", b'W/"v1"')], STORED, PF),
        ("GET", [(b"If-Match", b'"v1"')], STORED_WEAK, PF),
        ("GET", [(b"If-Match", b"*")], STORED_NO_VALIDATORS, P),
        ("GET", [(b"If-Match", b'"v1"')], STORED_NO_VALIDATORS, PF),
        ("GET", [(b"If-Unmodified-Since", BEFORE)], STORED, PF),
        ("GET", [(b"If-Unmodified-Since", LM)], STORED, P),
        ("GET", [(b"If-Unmodified-Since", b"junk")], STORED, P),
        ("GET", [(b"If-Unmodified-Since", BEFORE)], STORED_NO_VALIDATORS, P),
        ("GET", [(b"If-Match", b'"v1"'), (b"If-Unmodified-Since", BEFORE)], STORED, P),
        ("GET", [(b"If-Match", b'"x"'), (b"If-None-Match", b'"v1"')], STORED, PF),
        ("GET", [(b"If-Unmodified-Since", LM), (b"If-None-Match", b'"v1"')], STORED, NM),
        ("GET", [(b"IF-NONE-MATCH", b'"v1"')], STORED, NM),
    ],
    ids=[
        "unconditional",
        "inm-match-304",
        "inm-head-304",
        "inm-weak-request-matches-strong",
        "inm-strong-request-matches-weak",
        "inm-list",
        "inm-two-lines",
        "inm-no-match",
        "inm-star",
        "inm-star-without-etag",
        "inm-tag-without-stored-etag",
        "inm-malformed-ignored",
        "inm-unsafe-method-412",
        "inm-present-hides-ims",
        "ims-equal-304",
        "ims-later-304",
        "ims-earlier-200",
        "ims-invalid-ignored",
        "ims-two-members-ignored",
        "ims-only-get-head",
        "ims-date-fallback-newer",
        "ims-date-fallback-equal",
        "if-match-ok",
        "if-match-list",
        "if-match-fails",
        "if-match-weak-never-strong",
        "if-match-stored-weak",
        "if-match-star",
        "if-match-no-stored-etag",
        "ius-modified-since-412",
        "ius-equal-ok",
        "ius-invalid-ignored",
        "ius-without-last-modified-ignored",
        "if-match-hides-ius",
        "if-match-before-inm",
        "ius-then-inm",
        "names-any-case",
    ],
)
def test_precondition_order(
    method: str,
    request_headers: list[tuple[bytes, bytes]],
    stored: list[tuple[bytes, bytes]],
    expected: Precondition,
) -> None:
    """RFC 9110 §13.2.2's order, each field's rules, with the stored response as the representation."""
    assert evaluate_preconditions(method.encode(), request_headers, stored) is expected


def test_received_time_is_the_last_resort_for_ims() -> None:
    """No Last-Modified and no Date: If-Modified-Since compares with the time received (RFC 9111 §4.3.2)."""
    stored = [(b"Content-Type", b"text/plain")]
    ims = [(b"If-Modified-Since", LM)]
    assert evaluate_preconditions(b"GET", ims, stored, stored_at=T0 - 1) is NM
    assert evaluate_preconditions(b"GET", ims, stored, stored_at=T0 + 1) is P
    assert evaluate_preconditions(b"GET", ims, stored) is P


@pytest.mark.parametrize("status", [301, 404, 500], ids=["redirect", "not-found", "error"])
def test_preconditions_ignored_for_non_2xx(status: int) -> None:
    """RFC 9110 §13.2.1: a stored non-2xx answer is served as if unconditional."""
    headers = [(b"If-None-Match", b'"v1"'), (b"If-Match", b'"nope"')]
    assert evaluate_preconditions(b"GET", headers, STORED, stored_status=status) is P


STRONG_LM = [(b"Date", DATE), (b"Last-Modified", LM), (b"ETag", b'"v1"')]
RECENT_LM = [(b"Date", format_http_date(T0 + 30)), (b"Last-Modified", LM)]


@pytest.mark.parametrize(
    ("if_range", "stored", "expected"),
    [
        (None, STRONG_LM, True),
        (b'"v1"', STRONG_LM, True),
        (b'"v2"', STRONG_LM, False),
        (b'W/"v1"', STRONG_LM, False),
        (b'"v1"', STORED_WEAK, False),
        (LM, STRONG_LM, True),
        (b"Sunday, 06-Nov-94 08:49:37 GMT", STRONG_LM, True),
        (BEFORE, STRONG_LM, False),
        (AFTER, STRONG_LM, False),
        (LM, RECENT_LM, False),
        (LM, [(b"Last-Modified", LM)], False),
        (b"garbage", STRONG_LM, False),
        (b'"v1"', STORED_NO_VALIDATORS, False),
    ],
    ids=[
        "absent",
        "etag-strong-match",
        "etag-differs",
        "weak-request-tag",
        "weak-stored-tag",
        "date-exact",
        "date-other-format-same-instant",
        "date-earlier",
        "date-later",
        "last-modified-too-close-to-date",
        "last-modified-without-date",
        "garbage",
        "no-stored-etag",
    ],
)
def test_if_range(
    if_range: bytes | None, stored: list[tuple[bytes, bytes]], expected: bool
) -> None:
    """RFC 9110 §13.1.5: strong ETag match or an exact, strong Last-Modified date (§8.8.2.2)."""
    request = [(b"Range", b"bytes=0-1")] + ([(b"If-Range", if_range)] if if_range else [])
    assert if_range_holds(request, stored) is expected


def test_not_modified_headers_with_etag() -> None:
    """A 304 repeats the §15.4.5 fields in stored order; no Last-Modified beside an ETag."""
    stored = [
        (b"Date", DATE),
        (b"Content-Type", b"text/html"),
        (b"Content-Length", b"10"),
        (b"Cache-Control", b"max-age=60"),
        (b"ETag", b'"v1"'),
        (b"Last-Modified", LM),
        (b"Vary", b"Accept-Encoding"),
        (b"Expires", AFTER),
        (b"Content-Location", b"/a.en"),
        (b"Set-Cookie", b"a=b"),
    ]
    assert not_modified_headers(stored) == [
        (b"Date", DATE),
        (b"Cache-Control", b"max-age=60"),
        (b"ETag", b'"v1"'),
        (b"Vary", b"Accept-Encoding"),
        (b"Expires", AFTER),
        (b"Content-Location", b"/a.en"),
    ]


def test_not_modified_headers_without_etag_keep_last_modified() -> None:
    """Without an ETag the 304 carries Last-Modified, which guides the client's cache update."""
    stored = [(b"date", DATE), (b"last-modified", LM), (b"content-type", b"text/html")]
    assert not_modified_headers(stored) == [(b"date", DATE), (b"last-modified", LM)]


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (STORED, [(b"If-None-Match", b'"v1"'), (b"If-Modified-Since", LM)]),
        (STORED_WEAK, [(b"If-None-Match", b'W/"v1"'), (b"If-Modified-Since", LM)]),
        ([(b"ETag", b'"v1"')], [(b"If-None-Match", b'"v1"')]),
        ([(b"Last-Modified", LM)], [(b"If-Modified-Since", LM)]),
        ([(b"Last-Modified", b"junk"), (b"ETag", b'"bad')], []),
        (STORED_NO_VALIDATORS, []),
    ],
    ids=["both", "weak-etag", "etag-only", "last-modified-only", "invalid-validators", "none"],
)
def test_validators_for_revalidation(
    stored: list[tuple[bytes, bytes]], expected: list[tuple[bytes, bytes]]
) -> None:
    """RFC 9111 §4.3.1: the stored ETag in If-None-Match and Last-Modified in If-Modified-Since."""
    assert validators_for_revalidation(stored) == expected


@pytest.mark.parametrize(
    ("stored", "response", "expected"),
    [
        (STORED, [(b"ETag", b'"v1"')], True),
        (STORED, [(b"ETag", b'"v2"')], False),
        (STORED_WEAK, [(b"ETag", b'"v1"')], False),
        (STORED_WEAK, [(b"ETag", b'W/"v1"')], True),
        (STORED, [(b"ETag", b'W/"v1"')], True),
        (STORED_NO_VALIDATORS, [(b"ETag", b'"v1"')], False),
        ([(b"Last-Modified", LM)], [(b"Last-Modified", LM)], True),
        ([(b"Last-Modified", LM)], [(b"Last-Modified", AFTER)], False),
        (STORED, [(b"Date", AFTER)], True),
    ],
    ids=[
        "same-strong",
        "other-strong",
        "strong-vs-stored-weak",
        "same-weak",
        "weak-vs-stored-strong",
        "stored-has-no-etag",
        "same-last-modified",
        "other-last-modified",
        "no-validators",
    ],
)
def test_not_modified_applies(
    stored: list[tuple[bytes, bytes]], response: list[tuple[bytes, bytes]], expected: bool
) -> None:
    """RFC 9111 §4.3.4: a 304 freshens the stored response its validator identifies."""
    assert not_modified_applies(stored, response) is expected


def test_merge_replaces_in_place_and_appends_new_fields() -> None:
    """Fields in the 304 replace all stored lines of that name where the first stood (§3.2)."""
    stored = [
        (b"Date", DATE),
        (b"Cache-Control", b"max-age=1"),
        (b"X-A", b"1"),
        (b"x-a", b"2"),
        (b"Content-Type", b"text/plain"),
    ]
    response = [
        (b"cache-control", b"max-age=60"),
        (b"X-A", b"3"),
        (b"X-New", b"n"),
        (b"Date", AFTER),
    ]
    assert merge_not_modified(stored, response) == [
        (b"Date", AFTER),
        (b"cache-control", b"max-age=60"),
        (b"X-A", b"3"),
        (b"Content-Type", b"text/plain"),
        (b"X-New", b"n"),
    ]


@pytest.mark.parametrize(
    "field",
    [
        (b"Content-Length", b"0"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Connection", b"close"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Content-Range", b"bytes 0-1/2"),
        (b"Content-Encoding", b"br"),
        (b"Proxy-Authenticate", b"Basic"),
        (b"Upgrade", b"h2c"),
    ],
    ids=lambda f: f[0].decode(),
)
def test_merge_never_updates_framing_hop_by_hop_or_processed_fields(
    field: tuple[bytes, bytes],
) -> None:
    """RFC 9111 §3.2: Content-Length, hop-by-hop, proxy and processed fields keep their stored value."""
    stored = [(b"Content-Length", b"10"), (b"Content-Encoding", b"gzip")]
    assert merge_not_modified(stored, [field]) == stored


def test_merge_skips_fields_named_by_connection_and_excluded_fields() -> None:
    """Fields the 304's Connection lists (§3.1) and caller-excluded ones (no-cache="x") stay out."""
    stored = [(b"X-Keep", b"old")]
    response = [
        (b"Connection", b"x-hop"),
        (b"X-Hop", b"1"),
        (b"X-Private", b"2"),
        (b"X-Keep", b"new"),
    ]
    assert merge_not_modified(stored, response, exclude=[b"x-private"]) == [(b"X-Keep", b"new")]
