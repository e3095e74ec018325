"""Secondary cache keys: Vary (RFC 9111 §4.1) and Accept-Encoding normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veil.cache.vary import (
    VARY_STAR,
    choose_coding,
    normalise_value,
    variant_key,
    variant_matches,
    vary_names,
)

Headers = list[tuple[bytes, bytes]]


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ([], ()),
        ([(b"Vary", b"Accept-Encoding")], (b"accept-encoding",)),
        (
            [(b"vary", b"Origin, accept-encoding"), (b"VARY", b"Origin")],
            (b"accept-encoding", b"origin"),
        ),
        ([(b"Vary", b" , ,")], ()),
        ([(b"Vary", b"Origin, *")], VARY_STAR),
        ([(b"Vary", b"Origin"), (b"Vary", b"*")], VARY_STAR),
    ],
    ids=["none", "one", "sorted-unique-any-case", "empty-members", "star", "star-on-second-line"],
)
def test_vary_names(stored: Headers, expected: tuple[bytes, ...]) -> None:
    """Vary names come back sorted, lower-case and unique; "*" anywhere is VARY_STAR."""
    assert vary_names(stored) == expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([b"  en  "], b"en"),
        ([b"a, b"], b"a,b"),
        ([b"a,b", b" c"], b"a,b,c"),
        ([b"a ,, b"], b"a,b"),
        ([b"Mozilla/5.0 (X11)"], b"Mozilla/5.0 (X11)"),
    ],
    ids=["outer-whitespace", "list-ows", "combined-lines", "empty-members", "inner-space-kept"],
)
def test_normalise_value(lines: list[bytes], expected: bytes) -> None:
    """§4.1: lines combine, whitespace around list members goes, values keep their case."""
    assert normalise_value(lines) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, b"identity"),
        (b"", b"identity"),
        (b"gzip", b"gzip"),
        (b"gzip, deflate, br", b"br"),
        (b"gzip, deflate, br, zstd", b"br"),
        (b"zstd, gzip", b"zstd"),
        (b"br;q=0.5, gzip;q=0.8", b"gzip"),
        (b"br;q=0, gzip", b"gzip"),
        (b"x-gzip", b"gzip"),
        (b"GZIP", b"gzip"),
        (b"*", b"br"),
        (b"*;q=0.5, gzip", b"gzip"),
        (b"identity;q=1, gzip;q=0.5", b"identity"),
        (b"identity;q=0, *;q=0", b"identity"),
        (b"deflate", b"identity"),
        (b"gzip;q=2", b"identity"),
        (b"gzip;q=abc", b"identity"),
        (b"gzip;q=1.000", b"gzip"),
        (b"gzip;q=1.001", b"identity"),
        (b"gzip;q=0.001", b"gzip"),
        (b"gzip ; q=0.9 , br ; q=0.9", b"br"),
    ],
    ids=[
        "absent",
        "empty",
        "gzip",
        "browser",
        "browser-with-zstd",
        "zstd-over-gzip",
        "q-values",
        "refused-coding",
        "x-gzip-alias",
        "any-case",
        "star",
        "star-lower-than-explicit",
        "identity-preferred",
        "nothing-acceptable-falls-back",
        "unknown-coding-only",
        "q-above-one-ignored",
        "q-junk-ignored",
        "q-one-point-zeros",
        "q-one-point-one-ignored",
        "q-tiny",
        "tie-goes-to-edge-order",
    ],
)
def test_choose_coding(accept: bytes | None, expected: bytes) -> None:
    """RFC 9110 §12.5.3 with q-values (§12.4.2); ties follow the edge's br > zstd > gzip order."""
    assert choose_coding(accept) == expected


def test_choose_coding_with_fewer_codings() -> None:
    """Only the codings offered can be chosen."""
    assert choose_coding(b"br, gzip", (b"gzip",)) == b"gzip"
    assert choose_coding(b"br", (b"gzip",)) == b"identity"


@given(st.binary(max_size=80))
def test_choose_coding_never_raises(accept: bytes) -> None:
    """Any Accept-Encoding bytes give one of the servable codings."""
    assert choose_coding(accept) in (b"br", b"zstd", b"gzip", b"identity")


AE = (b"accept-encoding",)


@pytest.mark.parametrize(
    ("names", "a", "b", "same"),
    [
        (
            AE,
            [(b"Accept-Encoding", b"gzip, br")],
            [(b"accept-encoding", b"br;q=1, gzip;q=0.5")],
            True,
        ),
        (AE, [(b"Accept-Encoding", b"gzip")], [(b"Accept-Encoding", b"gzip, br")], False),
        (AE, [], [(b"Accept-Encoding", b"identity")], True),
        ((b"origin",), [(b"Origin", b"https://a")], [(b"origin", b" https://a ")], True),
        ((b"origin",), [(b"Origin", b"https://a")], [(b"Origin", b"https://b")], False),
        ((b"origin",), [], [(b"Origin", b"")], False),
        ((b"origin",), [], [], True),
        ((b"x-l",), [(b"X-L", b"a"), (b"X-L", b"b")], [(b"X-L", b"a, b")], True),
        ((b"x-l",), [(b"X-L", b"a, b")], [(b"X-L", b"b, a")], False),
        (
            (b"accept-encoding", b"origin"),
            [(b"Origin", b"o")],
            [(b"Origin", b"o"), (b"Other", b"x")],
            True,
        ),
    ],
    ids=[
        "equivalent-encodings-share",
        "different-best-coding",
        "absent-encoding-is-identity",
        "whitespace",
        "different-value",
        "absent-differs-from-empty",
        "both-absent",
        "lines-combine",
        "order-significant",
        "other-fields-irrelevant",
    ],
)
def test_variant_keys_match_exactly_when_section_4_1_says(
    names: tuple[bytes, ...], a: Headers, b: Headers, same: bool
) -> None:
    """Two requests share a variant key iff §4.1's normalisations make their fields equal."""
    assert (variant_key(names, a) == variant_key(names, b)) is same


def test_variant_key_without_vary_is_empty() -> None:
    """Nothing varies: the key is empty and every request matches."""
    assert variant_key((), [(b"Accept-Encoding", b"gzip")]) == b""
    assert variant_matches((), b"", [(b"Origin", b"x")])


def test_variant_key_is_readable_and_stable() -> None:
    """The key is the names in order with their normalised values; absent fields end in NUL."""
    key = variant_key((b"accept-encoding", b"origin"), [(b"Accept-Encoding", b"gzip")])
    assert key == b"accept-encoding:gzip\norigin\x00"


def test_variant_matches() -> None:
    """A stored variant answers a request with the same key, never under Vary: *."""
    request = [(b"Accept-Encoding", b"gzip")]
    stored_key = variant_key(AE, request)
    assert variant_matches(AE, stored_key, [(b"accept-encoding", b"gzip, deflate")])
    assert not variant_matches(AE, stored_key, [(b"accept-encoding", b"br")])
    assert not variant_matches(VARY_STAR, variant_key(VARY_STAR, request), request)
