"""Tier (a): the stored-response meta codec and the compression rules."""

from __future__ import annotations

import marshal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.cache.compression import compressible, encoded_fields, identity_fields
from veil.cache.freshness import EntryPolicy
from veil.cache.meta import StoredMeta, decode, encode

META = StoredMeta(
    status=200,
    reason=b"OK",
    headers=((b"Content-Type", b"text/html"), (b"ETag", b'"x"')),
    policy=EntryPolicy(
        response_time=1.5,
        initial_age=2.0,
        lifetime=60,
        stale_if_error=30,
        revalidate_fields=frozenset({b"set-cookie"}),
    ),
    length=10,
    zone="z1",
    url=b"http://a.test/x?q",
    host=b"a.test",
    path=b"/x",
    stored_at=7,
    tags=frozenset({b"news"}),
    vary=(b"accept-language",),
    variant=b"accept-language:en",
    codings=(b"br", b"gzip"),
)


def test_round_trip() -> None:
    """What the edge stores as meta, it reads back equal."""
    assert decode(encode(META)) == META


@settings(deadline=None)
@given(st.binary(max_size=200))
def test_garbage_is_none(blob: bytes) -> None:
    """Bytes that are not this format's meta decode to None (a miss), never an exception."""
    result = decode(blob)
    assert result is None or isinstance(result, StoredMeta)


def test_other_format_versions_are_refused() -> None:
    """A blob of another format version is a miss, not a misread."""
    assert decode(marshal.dumps((1, 200))) is None


@pytest.mark.parametrize(
    ("headers", "length", "no_transform", "expected"),
    [
        ([(b"Content-Type", b"text/html; charset=utf-8")], 5000, False, True),
        ([(b"content-type", b"application/json")], 5000, False, True),
        ([(b"Content-Type", b"application/vnd.api+json")], 5000, False, True),
        ([(b"Content-Type", b"text/html")], 5000, True, False),
        ([(b"Content-Type", b"text/html")], 100, False, False),
        ([(b"Content-Type", b"image/png")], 5000, False, False),
        ([(b"Content-Type", b"text/html"), (b"Content-Encoding", b"gzip")], 5000, False, False),
        ([(b"Content-Type", b"text/html"), (b"Vary", b"Cookie")], 5000, False, False),
        ([], 5000, False, False),
    ],
    ids=["html", "json", "plus-json", "no-transform", "small", "png", "encoded", "vary", "none"],
)
def test_what_is_compressed(
    headers: list[tuple[bytes, bytes]], length: int, no_transform: bool, expected: bool
) -> None:
    """Compressible types above the floor, never encoded, varying or no-transform ones."""
    assert compressible(headers, length, no_transform=no_transform) is expected


def test_copies_are_other_representations() -> None:
    """A compressed copy has a weak ETag, no digest, Content-Encoding and Vary."""
    fields = [(b"ETag", b'"x"'), (b"Content-MD5", b"abc"), (b"Content-Type", b"text/html")]
    assert encoded_fields(fields, b"br") == [
        (b"ETag", b'W/"x"'),
        (b"Content-Type", b"text/html"),
        (b"Content-Encoding", b"br"),
        (b"Vary", b"Accept-Encoding"),
    ]
    assert identity_fields(fields)[-1] == (b"Vary", b"Accept-Encoding")
